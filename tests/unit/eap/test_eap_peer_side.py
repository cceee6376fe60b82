"""EapPeer (test-initiator side): Identity, Nak, Success/Failure handling, errors."""

import pytest

from ikeeap.eap.packet import EapCode, EapPacket, EapType, parse_eap
from ikeeap.eap.peer import EapPeer, PeerError


def _req(identifier: int, eap_type: int, data: bytes = b"") -> bytes:
    return EapPacket(EapCode.REQUEST, identifier, eap_type, data).encode()


def test_identity_request_is_answered_with_the_identity() -> None:
    resp = parse_eap(EapPeer("alice@example.org", "pw").respond(_req(9, EapType.IDENTITY)))
    assert resp == EapPacket(EapCode.RESPONSE, 9, EapType.IDENTITY, b"alice@example.org")


def test_notification_is_acknowledged() -> None:
    resp = parse_eap(EapPeer("a", "pw").respond(_req(3, EapType.NOTIFICATION, b"hello")))
    assert resp == EapPacket(EapCode.RESPONSE, 3, EapType.NOTIFICATION, b"")


def test_unwanted_type_gets_a_nak_listing_allowed_types() -> None:
    peer = EapPeer("a", "pw", [EapType.MSCHAPV2, EapType.GTC])
    resp = parse_eap(peer.respond(_req(4, EapType.MD5, bytes([16]) + b"c" * 16)))
    assert resp.type == EapType.NAK and resp.data == bytes([26, 6]) and resp.identifier == 4


def test_nak_with_zero_when_nothing_is_allowed() -> None:
    resp = parse_eap(EapPeer("a", "pw", []).respond(_req(4, EapType.TLS, b"\x20")))
    assert resp.type == EapType.NAK and resp.data == b"\x00"


def test_success_before_method_completion_is_refused() -> None:
    with pytest.raises(PeerError, match="before the method completed"):
        EapPeer("a", "pw").respond(EapPacket(EapCode.SUCCESS, 1).encode())


def test_failure_is_recorded() -> None:
    peer = EapPeer("a", "pw")
    assert peer.respond(EapPacket(EapCode.FAILURE, 1).encode()) is None
    assert peer.failed and peer.msk() is None


@pytest.mark.parametrize(
    "packet",
    [
        b"\x01\x00",
        EapPacket(EapCode.RESPONSE, 1, EapType.IDENTITY).encode(),
        _req(1, EapType.MD5, b""),
        _req(1, EapType.MSCHAPV2, b"\x01\x00"),
        _req(1, EapType.MSCHAPV2, b"\x01\x00\x00\x10\x05" + b"c" * 16 + b"n"),
        _req(1, EapType.MSCHAPV2, b"\x03\x00\x00\x30S=00"),
    ],
)
def test_unanswerable_requests_raise_peer_error(packet: bytes) -> None:
    with pytest.raises(PeerError):
        EapPeer("a", "pw").respond(packet)


def test_server_may_not_switch_methods_midway() -> None:
    peer = EapPeer("a", "pw", [EapType.MD5, EapType.GTC])
    peer.respond(_req(1, EapType.GTC, b"Password: "))
    with pytest.raises(PeerError, match="mid-method"):
        peer.respond(_req(2, EapType.MD5, bytes([16]) + b"c" * 16))


def test_unsupported_allowed_type_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        EapPeer("a", "pw", [EapType.TLS])


def test_gtc_answer_is_the_bare_password_by_default() -> None:
    resp = parse_eap(EapPeer("a", "pässword").respond(_req(2, EapType.GTC, b"Password: ")))
    assert resp.data == "pässword".encode()
