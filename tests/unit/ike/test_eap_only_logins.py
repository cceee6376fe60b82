"""RFC 5998 EAP-only IKE_AUTH through the in-memory loopback: EAP-pwd logins without any
responder certificate, the three connection modes, and the refusals (non-mutual methods,
hostile EAP-pwd peers)."""

from __future__ import annotations

from typing import Any

import pytest

from ikeeap.crypto.ecc_prime import P256
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer import EapPeer
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import run_login
from ikeeap.initiator.results import InitiatorState
from ikeeap.wire.constants import NotifyType

USERS = {"alice": "secret"}


def _client(**kwargs: Any) -> InitiatorConfig:
    kwargs.setdefault("identity", "alice")
    kwargs.setdefault("password", "secret")
    kwargs.setdefault("eap_methods", ("pwd",))
    kwargs.setdefault("eap_only", True)
    kwargs.setdefault("remote_identity", "vpn.example.org")
    return InitiatorConfig(**kwargs)


def _assert_failed_auth(result: Any, reason_part: str) -> None:
    assert result.state == InitiatorState.FAILED
    assert not result.established
    assert result.auth_failure is not None, result.responder_events
    assert reason_part in result.auth_failure.reason


def test_eap_only_pwd_login_without_any_server_certificate(settings_factory):
    settings = settings_factory(users=USERS, eap_methods=("pwd",), eap_only="require",
                                server_certificate=False)
    assert settings.signer is None and not settings.cert_chain
    result = run_login(settings, _client())
    assert result.state == InitiatorState.ESTABLISHED, result.failure_reason
    assert result.established and result.keymat_match
    res = result.result
    assert res.eap_only and res.server_cert is None and res.responder_auth_method is None
    assert res.responder_identity == "vpn.example.org"
    assert res.eap_method == EapType.PWD and res.msk is not None and len(res.msk) == 64
    assert result.responder_sa.method == "pwd"
    assert result.responder_sa.eap_identity == "alice"


def test_eap_only_allowed_serves_eap_only_to_an_initiator_that_asks(settings_factory):
    settings = settings_factory(users=USERS, eap_methods=("pwd",), eap_only="allow")
    result = run_login(settings, _client())
    assert result.established, result.failure_reason
    assert result.result.eap_only and result.result.server_cert is None


def test_eap_only_allowed_still_signs_for_an_initiator_that_does_not_ask(settings_factory, pki):
    settings = settings_factory(users=USERS, eap_methods=("pwd",), eap_only="allow")
    result = run_login(settings, _client(eap_only=False, ca_certificate=pki.ca.der))
    assert result.established, result.failure_reason
    assert not result.result.eap_only and result.result.server_cert_trusted


def test_eap_only_never_ignores_the_notify_and_sends_cert_and_auth(settings_factory, pki):
    settings = settings_factory(users=USERS, eap_methods=("pwd",), eap_only="never")
    result = run_login(settings, _client(ca_certificate=pki.ca.der))
    assert result.established, result.failure_reason
    assert not result.result.eap_only and result.result.server_cert_trusted


def test_eap_only_required_refuses_an_initiator_that_does_not_ask(settings_factory):
    settings = settings_factory(users=USERS, eap_methods=("pwd",), eap_only="require",
                                server_certificate=False)
    result = run_login(settings, _client(eap_only=False))
    _assert_failed_auth(result, "requires EAP-only")
    assert result.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED


def test_eap_only_refuses_a_non_mutual_method_up_front(settings_factory):
    settings = settings_factory(users=USERS, eap_methods=("md5",), eap_only="allow")
    result = run_login(settings, _client(eap_methods=("md5",)))
    _assert_failed_auth(result, "no mutual, key-generating EAP method")
    # Refused before any MD5 challenge was sent.
    assert EapType.MD5 not in result.result.eap_request_types


def test_eap_only_skips_non_mutual_methods_and_uses_pwd(settings_factory):
    settings = settings_factory(users=USERS, eap_methods=("md5", "mschapv2", "pwd"),
                                eap_only="allow")
    result = run_login(settings, _client())
    assert result.established, result.failure_reason
    assert result.result.eap_request_types[-1] == EapType.PWD
    assert EapType.MD5 not in result.result.eap_request_types


class _IgnoresRestriction:
    """An authenticator whose method restriction did not take (a plugin's factory): the
    outcome check must still refuse a non-mutual success."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "require_mutual_methods":
            return lambda: None
        return getattr(self._inner, name)


def test_eap_only_success_of_a_non_mutual_method_becomes_eap_failure(settings_factory):
    settings = settings_factory(users=USERS, eap_methods=("md5",), eap_only="allow")
    inner = settings.eap_factory
    settings.eap_factory = lambda *args: _IgnoresRestriction(inner(*args))
    result = run_login(settings, _client(eap_methods=("md5",)))
    _assert_failed_auth(result, "needs a mutual method")
    assert EapType.MD5 in result.result.eap_request_types  # MD5 ran, then was refused


def test_initiator_in_eap_only_mode_refuses_a_non_mutual_method():
    from ikeeap.initiator.ike_auth import eap_only_problem

    peer = EapPeer("alice", "secret", [EapType.MD5])
    peer.respond(bytes([1, 7, 0, 22, EapType.MD5, 16]) + bytes(16))  # MD5 challenge
    peer.respond(bytes([3, 7, 0, 4]))  # EAP-Success
    assert peer.succeeded
    assert "mutual" in eap_only_problem(peer)


def _with_scalar(value: int):
    def tamper(payload: bytes, own: Any, server: Any) -> bytes:
        return payload[: 2 * P256.prime_len] + value.to_bytes(P256.order_len, "big")
    return tamper


def _with_element(element: bytes):
    def tamper(payload: bytes, own: Any, server: Any) -> bytes:
        return element + payload[2 * P256.prime_len:]
    return tamper


def _off_curve(payload: bytes, own: Any, server: Any) -> bytes:
    x, y = own.element
    return P256.encode_point((x, (y + 1) % P256.p)) + payload[2 * P256.prime_len:]


def _reflect(payload: bytes, own: Any, server: Any) -> bytes:
    scalar, element = server
    return P256.encode_point(element) + scalar.to_bytes(P256.order_len, "big")


def _reflect_element_only(payload: bytes, own: Any, server: Any) -> bytes:
    return P256.encode_point(server[1]) + payload[2 * P256.prime_len:]


@pytest.mark.parametrize(("tamper", "reason"), [
    (_with_scalar(0), "peer scalar outside (1, r)"),
    (_with_scalar(1), "peer scalar outside (1, r)"),
    (_with_scalar(P256.order), "peer scalar outside (1, r)"),
    (_with_element(bytes(64)), "not a point on the curve"),  # the identity's usual encoding
    (_off_curve, "not a point on the curve"),
    (_with_element(bytes.fromhex("ff" * 64)), "not a point on the curve"),  # coordinates >= p
    (_reflect, "reflects ours"),
    (_reflect_element_only, "reflects ours"),
], ids=["scalar0", "scalar1", "scalar_r", "identity", "off_curve", "out_of_range", "reflect",
        "reflect_element"])
def test_hostile_eap_pwd_commit_is_refused_over_ike(settings_factory, tamper, reason):
    settings = settings_factory(users=USERS, eap_methods=("pwd",), eap_only="require",
                                server_certificate=False)
    client = _client(eap_peer=lambda ident, pw: EapPeer(ident, pw, [EapType.PWD],
                                                        pwd_tamper_commit=tamper))
    result = run_login(settings, client)
    _assert_failed_auth(result, reason)
    assert result.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED


def test_eap_only_pwd_wrong_password_fails_without_sa(settings_factory):
    settings = settings_factory(users=USERS, eap_methods=("pwd",), eap_only="require",
                                server_certificate=False)
    result = run_login(settings, _client(password="not the password"))
    assert result.state == InitiatorState.FAILED
    assert "Confirm_S does not verify" in (result.failure_reason or "")
    assert result.responder_sa is None
