"""EAP-TLS server (RFC 5216 / RFC 9190) against the in-package pyOpenSSL peer: TLS 1.2 and
1.3 logins with MSK/EMSK equal to the RFC exporter outputs the client computes, the RFC 9190
commitment message, fragmentation both ways, client certificates refused (other CA, no
clientAuth, none, identity mismatch) and malformed input ending in a clean failure."""

from __future__ import annotations

import asyncio
import os
import struct
from pathlib import Path
from typing import Any

import pytest

from ikeeap.crypto.certs import CertKey, cert_pem, generate_ca, generate_server_cert, key_pem
from ikeeap.eap.authenticator import EapAuthenticator
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext, EapStep, StepKind
from ikeeap.eap.methods.tls import TlsMethod
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer.tls import TlsPeer
from ikeeap.eap.registry import MethodRegistry
from ikeeap.eap.tls.context import TlsServerFiles
from ikeeap.eap.tls.engine import FLAG_LENGTH, FLAG_MORE, FLAG_START
from ikeeap.testkit.peer import peer_with
from ikeeap.crypto.key_files import write_private_file

ALICE = "alice@example.test"


class Pki:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.ca = generate_ca("EAP-TLS test CA", "ecdsa")
        self.server = generate_server_cert(self.ca, "radius.example.test", "ecdsa")
        self.alice = generate_server_cert(self.ca, ALICE, "ecdsa", client_auth=True,
                                          common_name="Alice")
        self.no_client_eku = generate_server_cert(self.ca, ALICE, "ecdsa")
        self.ca_file = self._write("ca.pem", cert_pem(self.ca.cert))
        self._write("server.pem", cert_pem(self.server.cert))
        write_private_file(self.dir / "server.key", key_pem(self.server.key))

    def _write(self, name: str, data: bytes) -> Path:
        (self.dir / name).write_bytes(data)
        return self.dir / name

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"ca_file": str(self.ca_file), "certificate": str(self.dir / "server.pem"),
                "private_key": str(self.dir / "server.key"), **extra}


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki(tmp_path_factory.mktemp("eap-tls"))


def _peer(pki: Pki, cred: CertKey | None, **kw: Any) -> TlsPeer:
    if cred is None:
        return TlsPeer(None, None, cert_pem(pki.ca.cert), **kw)
    return TlsPeer(cert_pem(cred.cert), key_pem(cred.key), cert_pem(pki.ca.cert), **kw)


def _converse(method: TlsMethod, peer: TlsPeer, identity: str = ALICE,
              max_rounds: int = 200) -> tuple[EapStep, list[bytes]]:
    """start/process until the method finishes; returns the last step and every request."""

    async def go() -> tuple[EapStep, list[bytes]]:
        ctx = EapContext(identity=identity.encode())
        step, requests = await method.start(ctx), []
        for _ in range(max_rounds):
            if step.kind != StepKind.CONTINUE:
                return step, requests
            requests.append(step.data)
            step = await method.process(ctx, bytes([EapType.TLS]) + peer.process(step.data[1:], 0))
        raise AssertionError("conversation did not finish")

    return asyncio.run(go())


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_tls_login_keys_are_the_rfc_exporter_outputs(pki, version):
    method = TlsMethod(pki.config(tls_max_version=version))
    peer = _peer(pki, pki.alice)
    step, _ = _converse(method, peer)
    assert step.kind == StepKind.SUCCESS, step.reason
    assert peer.done and peer.tls.get_protocol_version_name() == f"TLSv{version}"
    if version == "1.2":  # RFC 5216 §2.3
        km = peer.tls.export_keying_material(b"client EAP encryption", 128)
    else:  # RFC 9190 §2.3: context = Type-Code 0x0D
        km = peer.tls.export_keying_material(b"EXPORTER_EAP_TLS_Key_Material", 128, b"\x0d")
    assert method.msk() == km[:64] and method.emsk() == km[64:]
    assert method.is_mutual() and peer.msk() == method.msk()


def test_tls12_and_tls13_keys_differ_and_tls12_is_the_default(pki):
    m12, p12 = TlsMethod(pki.config()), _peer(pki, pki.alice)
    assert _converse(m12, p12)[0].kind == StepKind.SUCCESS
    assert p12.tls.get_protocol_version_name() == "TLSv1.2"  # peer offers 1.3: we cap
    m13, p13 = TlsMethod(pki.config(tls_max_version="1.3")), _peer(pki, pki.alice)
    assert _converse(m13, p13)[0].kind == StepKind.SUCCESS
    assert m12.msk() != m13.msk()


def test_tls13_success_only_after_commitment_message_and_peer_ack(pki):
    method = TlsMethod(pki.config(tls_max_version="1.3"))
    peer = _peer(pki, pki.alice)
    step, requests = _converse(method, peer)
    assert step.kind == StepKind.SUCCESS
    assert peer.app_data == b"\x00"  # RFC 9190 §2.1.1, in the last request before Success
    last = requests[-1]
    assert last[1] & FLAG_LENGTH and not last[1] & FLAG_MORE and len(last) > 6


def test_tls12_server_finished_is_acked_before_success(pki):
    method = TlsMethod(pki.config())
    peer = _peer(pki, pki.alice)
    step, requests = _converse(method, peer)
    assert step.kind == StepKind.SUCCESS
    assert peer.app_data == b""  # no commitment message in TLS 1.2
    # Start, server flight, our Finished: the ACK of the last one ended it.
    assert requests[0] == bytes([EapType.TLS, FLAG_START]) and len(requests) >= 3


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_fragmentation_both_ways(pki, version):
    method = TlsMethod(pki.config(tls_max_version=version, max_fragment_size=64))
    peer = _peer(pki, pki.alice, fragment_size=80)
    step, requests = _converse(method, peer)
    assert step.kind == StepKind.SUCCESS, step.reason
    sizes = {len(r) for r in requests}
    assert max(sizes) <= 2 + 4 + 64  # Type, Flags, Length, 64 TLS octets
    assert sum(1 for r in requests if r[1] & FLAG_MORE) > 5  # our records were split
    assert sum(1 for r in requests if r == bytes([EapType.TLS, 0])) > 5  # we ACKed the peer's
    assert peer.msk() == method.msk()


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_client_certificate_from_another_ca_is_refused(pki, version):
    rogue_ca = generate_ca("Rogue CA", "ecdsa")
    stranger = generate_server_cert(rogue_ca, ALICE, "ecdsa", client_auth=True)
    method = TlsMethod(pki.config(tls_max_version=version))
    step, _requests = _converse(method, _peer(pki, stranger))
    assert step.kind == StepKind.FAILURE
    assert "certificate verify failed" in step.reason
    assert method.msk() is None and not method.is_mutual()


def test_client_certificate_without_client_auth_eku_is_refused(pki):
    method = TlsMethod(pki.config())
    step, _ = _converse(method, _peer(pki, pki.no_client_eku))
    assert step.kind == StepKind.FAILURE and "TLS error" in step.reason
    assert method.msk() is None


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_missing_client_certificate_is_refused(pki, version):
    method = TlsMethod(pki.config(tls_max_version=version))
    step, _ = _converse(method, _peer(pki, None))
    assert step.kind == StepKind.FAILURE and "TLS error" in step.reason
    assert method.msk() is None


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_identity_not_named_by_the_certificate_is_refused_before_our_last_flight(pki, version):
    method = TlsMethod(pki.config(tls_max_version=version))
    peer = _peer(pki, pki.alice)
    step, _ = _converse(method, peer, identity="bob@example.test")
    assert step.kind == StepKind.FAILURE and "does not match the identity" in step.reason
    assert not peer.done  # neither our Finished (1.2) nor the commitment (1.3) went out
    assert method.msk() is None


@pytest.mark.parametrize(("rule", "identity", "ok"), [
    ("san", ALICE, True), ("san", "Alice", False), ("san", "ALICE@example.test", False),
    ("san", "alice@EXAMPLE.test", True),
    ("cn", "Alice", True), ("cn", ALICE, False),
    ("none", "anyone at all", True),
])
def test_identity_check_rules(pki, rule, identity, ok):
    method = TlsMethod(pki.config(identity_check=rule))
    step, _ = _converse(method, _peer(pki, pki.alice), identity=identity)
    assert (step.kind == StepKind.SUCCESS) is ok, step.reason


def test_server_certificate_defaults_to_the_ike_one_from_tls_server_provider(pki):
    files = TlsServerFiles(pki.dir / "server.pem", pki.dir / "server.key", None)
    method = TlsMethod({"ca_file": str(pki.ca_file)}, Providers(extra={"tls_server": files}))
    step, _ = _converse(method, _peer(pki, pki.alice))
    assert step.kind == StepKind.SUCCESS, step.reason


def test_no_server_certificate_anywhere_fails_cleanly(pki):
    method = TlsMethod({"ca_file": str(pki.ca_file)})
    step = asyncio.run(method.start(EapContext(identity=ALICE.encode())))
    assert step.kind == StepKind.FAILURE and "misconfigured" in step.reason


@pytest.mark.parametrize(("config", "message"), [
    ({}, "ca_file is required"),
    ({"ca_file": "/nonexistent/ca.pem"}, "ca_file /nonexistent/ca.pem"),
    ({"identity_check": "subject"}, "identity_check must be one of san, cn, none"),
    ({"tls_max_version": "1.1"}, "tls_min_version/tls_max_version"),
    ({"tls_min_version": "1.3", "tls_max_version": "1.2"}, "min <= max"),
    ({"max_fragment_size": 10}, "max_fragment_size"),
    ({"certificate": "x.pem"}, "given together"),
    ({"ca_cert": "x.pem"}, "unknown key(s) ca_cert"),
])
def test_bad_config_is_rejected_at_construction(pki, config, message):
    if "ca_file" not in config and config:
        config = {"ca_file": str(pki.ca_file), **config}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TlsMethod(config)


def test_ca_file_without_certificates_is_rejected(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="no PEM certificate"):
        TlsMethod({"ca_file": str(bogus)})


def test_registered_as_builtin_tls_mutual_with_msk():
    registry = MethodRegistry.discover(entry_points=False)
    factory = registry.get("tls")
    assert factory is TlsMethod
    assert (factory.eap_type, factory.mutual, factory.generates_msk) == (13, True, True)


def test_full_eap_conversation_through_the_authenticator(pki):
    providers = Providers()
    auth = EapAuthenticator([(EapType.TLS, lambda: TlsMethod(pki.config(), providers))],
                            EapContext(identity=ALICE.encode(), providers=providers))
    peer = peer_with(lambda ident, _pw: _peer(pki, pki.alice))(ALICE.encode(), "")

    async def go():
        out = await auth.start()
        while not out.finished:
            out = await auth.receive(peer.respond(out.packet))
        peer.respond(out.packet)
        return out

    out = asyncio.run(go())
    assert out.success and out.mutual and out.method_name == "tls"
    assert peer.succeeded and out.msk == peer.msk() and len(out.msk) == 64
    assert out.emsk is not None and len(out.emsk) == 64


# -- hostile / malformed input -----------------------------------------------------------------


def _started(pki: Pki, **extra: Any) -> tuple[TlsMethod, EapContext]:
    method = TlsMethod(pki.config(**extra))
    ctx = EapContext(identity=ALICE.encode())
    asyncio.run(method.start(ctx))
    return method, ctx


@pytest.mark.parametrize("response", [
    b"", bytes([EapType.TLS]), bytes([EapType.TTLS, 0]),
    bytes([EapType.TLS, FLAG_START]),
    bytes([EapType.TLS, FLAG_LENGTH, 0, 0]),
    bytes([EapType.TLS, FLAG_LENGTH]) + struct.pack("!I", 10_000_000) + b"x",
    bytes([EapType.TLS, FLAG_LENGTH]) + struct.pack("!I", 2) + b"abc",
    bytes([EapType.TLS, FLAG_MORE]),
    bytes([EapType.TLS, 0]) + b"\x16\x03\x01\x00\x05hello",
    bytes([EapType.TLS, 0]),  # an ACK before anything was sent
])
def test_malformed_first_response_fails_without_raising(pki, response):
    method, ctx = _started(pki)
    step = asyncio.run(method.process(ctx, response))
    if step.kind == StepKind.CONTINUE:  # an alert to show the peer, then the failure
        step = asyncio.run(method.process(ctx, bytes([EapType.TLS, 0])))
    assert step.kind == StepKind.FAILURE
    assert method.msk() is None


def test_random_garbage_in_the_middle_never_raises(pki):
    for seed in range(40):
        method, ctx = _started(pki)
        peer = _peer(pki, pki.alice)
        step = asyncio.run(method.process(ctx, bytes([EapType.TLS]) + peer.process(
            bytes([FLAG_START]), 0)))
        junk = os.urandom(seed * 7 % 300 + 1)
        for _ in range(3):
            if step.kind != StepKind.CONTINUE:
                break
            step = asyncio.run(method.process(ctx, bytes([EapType.TLS]) + junk))
        assert step.kind in (StepKind.FAILURE, StepKind.CONTINUE)
        assert method.msk() is None


def test_process_after_success_or_abort_is_refused(pki):
    method = TlsMethod(pki.config())
    assert _converse(method, _peer(pki, pki.alice))[0].kind == StepKind.SUCCESS
    ctx = EapContext(identity=ALICE.encode())
    assert asyncio.run(method.process(ctx, bytes([EapType.TLS, 0]))).kind == StepKind.FAILURE
    other, ctx2 = _started(pki)
    other.abort()
    assert asyncio.run(other.process(ctx2, bytes([EapType.TLS, 0]))).kind == StepKind.FAILURE


def test_application_data_from_the_peer_is_refused(pki):
    method = TlsMethod(pki.config())
    peer = _peer(pki, pki.alice)

    async def go() -> EapStep:
        ctx = EapContext(identity=ALICE.encode())
        step = await method.start(ctx)
        while not method._engine.handshake_complete:
            step = await method.process(ctx, bytes([EapType.TLS]) + peer.process(step.data[1:], 0))
        peer.process(step.data[1:], 0)  # the peer reads our Finished ...
        peer.tls.sendall(b"hello")  # ... and answers with application data, not an ACK
        data = b""
        while True:
            try:
                data += peer.tls.bio_read(65536)
            except Exception:  # noqa: BLE001 - WantReadError: drained
                break
        frame = bytes([EapType.TLS, FLAG_LENGTH]) + struct.pack("!I", len(data)) + data
        return await method.process(ctx, frame)

    step = asyncio.run(go())
    assert step.kind == StepKind.FAILURE and "application data" in step.reason
    assert method.msk() is None


def test_shipped_example_config_passes_check_config(monkeypatch) -> None:
    from ikeeap import cli

    repo = Path(__file__).resolve().parents[3]
    monkeypatch.chdir(repo)  # ca_file is relative to the working directory
    assert cli.main(["check-config", "--config", str(repo / "conf" / "tls.example.toml")]) == 0
