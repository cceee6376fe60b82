"""Whole logins against the real Responder through the in-memory loopback: EAP methods, PSK,
proposal sets and server certificate kinds."""

from __future__ import annotations

import asyncio

import pytest

from ikeeap.eap.methods.mschapv2 import MsChapV2Method
from ikeeap.eap.packet import EapType
from ikeeap.eap.registry import MethodRegistry
from ikeeap.ike.responder import Responder
from ikeeap.ike.sa import SaState
from ikeeap.initiator.loopback import Loopback, run_login
from ikeeap.initiator.results import InitiatorState
from ikeeap.initiator.testing import make_pki
from ikeeap.wire.constants import (
    AuthMethod,
    DhId,
    EncrId,
    HashAlgorithm,
    IntegId,
    NotifyType,
    PrfId,
)


def _assert_established(result, method: str | None) -> None:
    assert result.state == InitiatorState.ESTABLISHED, result.failure_reason
    assert result.established, result.responder_events
    assert result.keymat_match
    if method is not None:
        assert result.responder_sa.method == method


@pytest.mark.parametrize(
    ("method", "eap_type", "has_msk"),
    [
        ("mschapv2", EapType.MSCHAPV2, True),
        ("md5", EapType.MD5, False),
        ("gtc", EapType.GTC, False),
    ],
)
def test_eap_login_establishes_both_sides_with_same_child_keymat(
    settings_factory, client, method, eap_type, has_msk
):
    settings = settings_factory(eap_methods=(method,))
    result = run_login(settings, client(eap_methods=(method,)))
    _assert_established(result, method)
    res = result.result
    assert res.eap_method == eap_type
    assert res.eap_request_types[0] == EapType.IDENTITY
    assert eap_type in res.eap_request_types
    assert (res.msk is not None) == has_msk
    assert res.server_cert_trusted
    assert result.responder_sa.eap_identity == "alice"
    assert res.virtual_ip == result.responder_sa.virtual_ip


def test_eap_method_negotiated_by_nak_when_first_choice_not_allowed(settings_factory, client):
    settings = settings_factory(eap_methods=("mschapv2", "gtc"))
    result = run_login(settings, client(eap_methods=("gtc",)))
    _assert_established(result, "gtc")
    assert EapType.MSCHAPV2 in result.result.eap_request_types  # refused with a Nak


def test_psk_authenticates_both_sides(settings, client, psk):
    result = run_login(settings, client(psk=psk))
    _assert_established(result, "psk")
    assert result.result.responder_auth_method == AuthMethod.SHARED_KEY
    assert result.result.exchanges["IKE_AUTH"] == 1


def test_wrong_psk_is_refused(settings, client):
    result = run_login(settings, client(psk="not the key"))
    assert result.state == InitiatorState.FAILED
    assert result.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED


@pytest.mark.parametrize("method", ["mschapv2", "md5", "gtc"])
def test_wrong_password_fails_and_responder_keeps_no_live_sa(settings_factory, client, method):
    loop = Loopback(settings_factory(eap_methods=(method,)))
    result = loop.login(client(password="wrong", eap_methods=(method,)))
    assert result.state == InitiatorState.FAILED
    assert result.failure_reason == "AUTHENTICATION_FAILED"
    assert result.auth_failure is not None
    assert loop.responder.sas() == []
    assert loop.responder.count(SaState.CLOSED) == 1
    loop.advance(60)
    assert loop.responder.count(SaState.CLOSED) == 0


def test_unknown_user_fails(settings, client):
    result = run_login(settings, client(identity="mallory", password="x"))
    assert result.failure_reason == "AUTHENTICATION_FAILED"


@pytest.mark.parametrize(
    ("proposal", "esp", "suite"),
    [
        (
            "aes128-sha256-modp2048",
            "aes128-sha256",
            (EncrId.AES_CBC, 128, PrfId.HMAC_SHA2_256, IntegId.HMAC_SHA2_256_128, DhId.MODP_2048),
        ),
        (
            "aes256gcm16-prfsha384-ecp384",
            "aes256gcm16",
            (EncrId.AES_GCM_16, 256, PrfId.HMAC_SHA2_384, IntegId.NONE, DhId.ECP_384),
        ),
        (
            "chacha20poly1305-prfsha256-curve25519",
            "chacha20poly1305",
            (EncrId.CHACHA20_POLY1305, 0, PrfId.HMAC_SHA2_256, IntegId.NONE, DhId.CURVE25519),
        ),
    ],
)
def test_proposal_sets(settings, client, proposal, esp, suite):
    result = run_login(settings, client(ike_proposals=(proposal,), esp_proposals=(esp,)))
    _assert_established(result, "mschapv2")
    s = result.result.suite
    assert (s.encr, s.encr_key_bits, s.prf, s.integ, s.dh) == suite


@pytest.mark.parametrize(
    ("key_type", "hash_algs", "expected"),
    [
        ("rsa", (), AuthMethod.RSA_SIG),
        ("rsa", (HashAlgorithm.SHA2_256,), AuthMethod.DIGITAL_SIGNATURE),
        ("rsa", (HashAlgorithm.SHA2_512,), AuthMethod.DIGITAL_SIGNATURE),
        ("ecdsa", (), AuthMethod.ECDSA_256),
        ("ecdsa", (HashAlgorithm.SHA2_384,), AuthMethod.DIGITAL_SIGNATURE),
        ("ecdsa", (HashAlgorithm.SHA1, HashAlgorithm.SHA2_256), AuthMethod.DIGITAL_SIGNATURE),
    ],
)
def test_server_certificate_kinds_and_auth_methods(
    settings_factory, client, key_type, hash_algs, expected
):
    pki = make_pki(key_type)
    result = run_login(
        settings_factory(pki=pki),
        client(ca_certificate=pki.ca.der, signature_hash_algorithms=hash_algs),
    )
    _assert_established(result, "mschapv2")
    assert result.result.responder_auth_method == expected
    assert result.result.server_cert == pki.server.der


def test_ecdsa_p384_classic_method(settings_factory, client):
    pki = make_pki("ecdsa", curve="P-384")
    result = run_login(
        settings_factory(pki=pki), client(ca_certificate=pki.ca.der, signature_hash_algorithms=())
    )
    _assert_established(result, None)
    assert result.result.responder_auth_method == AuthMethod.ECDSA_384


def test_untrusted_server_certificate_is_refused(settings, client):
    other = make_pki("ecdsa", identity="other.example.org")
    result = run_login(settings, client(ca_certificate=other.ca.der))
    assert result.state == InitiatorState.FAILED
    assert "trusted CA" in result.failure_reason


def test_expected_responder_identity_is_sent_and_checked(settings, client):
    ok = run_login(settings, client(remote_identity="vpn.example.org"))
    _assert_established(ok, None)
    bad = run_login(settings, client(remote_identity="other.example.org"))
    assert bad.state == InitiatorState.FAILED


def test_childless_login(settings, client):
    result = run_login(settings, client(child_sa=False))
    assert result.established
    assert result.responder_child is None and result.result.child is None


def test_many_initiators_share_one_responder(settings, client):
    loop = Loopback(settings)
    users = ["alice", "bob"] * 3
    inis = [loop.add(client(identity=u)) for u in users]
    for ini in inis:
        loop.start(ini)
    loop.run()
    assert all(i.established for i in inis)
    assert len(loop.responder.sas()) == len(users)
    assert all(i.result.virtual_ip for i in inis)
    assert all(i.result.child is not None for i in inis)


def test_responder_object_can_be_reused(settings, client):
    responder = Responder(settings)
    assert run_login(responder, client()).established
    assert run_login(responder, client(identity="bob")).established
    assert len(responder.sas()) == 2


def test_extended_sequence_numbers_negotiated(settings_factory, client):
    settings = settings_factory(esp_proposals=("aes128gcm16-esn-noesn",))
    result = run_login(settings, client(esp_proposals=("aes128gcm16-esn",)))
    _assert_established(result, None)
    assert result.result.child.esn == 1 and result.responder_child.esn == 1


def test_eap_without_identity_round_uses_the_ike_identity(settings_factory, client):
    settings = settings_factory(eap_identity_round=False, eap_methods=("md5",))
    result = run_login(settings, client(eap_methods=("md5",)))
    _assert_established(result, "md5")
    assert EapType.IDENTITY not in result.result.eap_request_types


def test_psk_client_without_psk_connection_is_refused(settings_factory, client, psk):
    settings = settings_factory(psk=None)
    result = run_login(settings, client(psk=psk))
    assert result.failure_reason == "AUTHENTICATION_FAILED"
    assert "no PSK connection" in result.auth_failure.reason


def test_bad_final_auth_is_refused(settings, client, monkeypatch):
    from ikeeap.initiator import ike_auth

    real = ike_auth.final_auth
    monkeypatch.setattr(
        ike_auth, "final_auth", lambda config, sa, msk: real(config, sa, b"\x00" * 64)
    )
    loop = Loopback(settings)
    result = loop.login(client())
    assert result.failure_reason == "AUTHENTICATION_FAILED"
    assert "final AUTH" in result.auth_failure.reason
    assert loop.responder.sas() == []
    assert settings.pools["eap"].leased == 0


def test_failing_eap_step_fails_the_login(settings, client):
    loop = Loopback(settings)
    loop.hold_eap = True
    ini = loop.add(client())
    loop.start(ini)
    loop.pump()
    step = loop.held_steps.pop()
    step.step.close()  # type: ignore[attr-defined]
    loop.to_initiators(loop.responder.eap_done(step.sa_id, None, loop.now))
    loop.hold_eap = False
    loop.run()
    assert ini.failure_reason == "AUTHENTICATION_FAILED"
    assert loop.responder.sas() == []


class _SuspendingMsChapV2(MsChapV2Method):
    """Awaits the event loop in every step, as a backend round trip would."""

    name = "suspending-mschapv2"

    async def process(self, ctx, response):
        await asyncio.sleep(0)
        return await super().process(ctx, response)


def test_asyncio_driver_runs_eap_steps_that_really_suspend(settings_factory, client):
    registry = MethodRegistry.discover(entry_points=False)
    registry.register(_SuspendingMsChapV2.name, _SuspendingMsChapV2, "test")
    settings = settings_factory(eap_methods=(_SuspendingMsChapV2.name,), registry=registry)
    result = run_login(settings, client(), eap_driver="asyncio")
    _assert_established(result, _SuspendingMsChapV2.name)
    stepped = run_login(settings_factory(eap_methods=(_SuspendingMsChapV2.name,),
                                         registry=registry), client())
    assert not stepped.established  # the default driver cannot run a suspending step


def test_mschapv2_retry_after_wrong_password_still_fails(settings_factory, client):
    settings = settings_factory(method_config={"mschapv2": {"retries": 1}})
    result = run_login(settings, client(password="wrong"))
    assert result.failure_reason == "AUTHENTICATION_FAILED"
    assert result.result.eap_request_types.count(EapType.MSCHAPV2) == 2


def test_mschapv2_login_takes_six_exchanges(settings, client):
    result = run_login(settings, client())
    assert result.result.exchanges == {"IKE_SA_INIT": 1, "IKE_AUTH": 5}
    assert result.datagrams == 12
    assert result.elapsed == 0.0


def test_ipv6_transport(settings, client):
    loop = Loopback(settings, server=("2001:db8::1", 500))
    result = loop.login(client(), local=("2001:db8::2", 500))
    _assert_established(result, "mschapv2")
    assert result.responder_sa.remote == ("2001:db8::2", 500)
