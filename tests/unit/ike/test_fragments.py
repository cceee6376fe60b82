"""IKE fragmentation (RFC 7383): reassembly with limits, fragmented responses, the switch."""

from __future__ import annotations

import logging
import struct

from ikeeap.crypto.sk import HEADER_LEN, SkCipher, pack_header
from ikeeap.ike.events import EapStepPending
from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.initiator.loopback import Loopback, drive
from ikeeap.wire.codec import parse_header_only, parse_message, sk_offset
from ikeeap.wire.constants import ExchangeType, NotifyType, PayloadType
from ikeeap.wire.payloads import EncryptedFragmentPayload, NotifyPayload

FRAG_SUPPORTED = (NotifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),)


class FragmentingPeer:
    """Sits in front of the Responder as an RFC 7383 initiator would: splits each encrypted
    request into ``pieces`` SKF fragments and joins fragmented responses back into SK."""

    def __init__(self, responder: Responder, pieces: int = 3, reverse: bool = False):
        self.responder = responder
        self.pieces = pieces
        self.reverse = reverse
        self.fragmented_responses: list[list[int]] = []  # datagram sizes per response
        self._sent: dict[bytes, list[bytes]] = {}  # a retransmission repeats its fragments

    def __getattr__(self, name):
        return getattr(self.responder, name)

    def _sa(self, spi_r: bytes):
        return next(sa for sa in self.responder.sas() if sa.spi_r == spi_r)

    def split(self, data: bytes) -> list[bytes]:
        if data not in self._sent:  # RFC 7296 §2.1: retransmissions are bitwise identical
            self._sent[data] = self._split(data)
        return self._sent[data]

    def _split(self, data: bytes) -> list[bytes]:
        header = parse_header_only(data)
        sa = self._sa(header.spi_r)
        keys = sa.keys
        opener = SkCipher(sa.suite, keys.sk_ei, keys.sk_ai)
        sealer = SkCipher(sa.suite, keys.sk_ei, keys.sk_ai)
        _, outer = parse_message(data)
        inner = opener.open(data, sk_offset(data))
        size = -(-len(inner) // self.pieces)
        chunks = [inner[i:i + size] for i in range(0, len(inner), size)]
        out = []
        for n, chunk in enumerate(chunks, 1):
            skf_len = 8 + sealer.sealed_length(len(chunk))
            prefix = pack_header(header, HEADER_LEN + skf_len, PayloadType.SKF) + struct.pack(
                "!BBHHH", outer[-1].first_payload if n == 1 else 0, 0, skf_len, n,
                len(chunks))
            out.append(sealer.seal_after(prefix, chunk))
        return out[::-1] if self.reverse else out

    def join(self, datagrams) -> list:
        if not datagrams or parse_header_only(datagrams[0].data).exchange \
                == ExchangeType.IKE_SA_INIT:
            return datagrams
        first = datagrams[0]
        _, outer = parse_message(first.data)
        if not isinstance(outer[-1], EncryptedFragmentPayload):
            return datagrams
        header = parse_header_only(first.data)
        sa = self._sa(header.spi_r)
        opener = SkCipher(sa.suite, sa.keys.sk_er, sa.keys.sk_ar)
        inner = b"".join(opener.open_after(d.data, sk_offset(d.data) + 8) for d in datagrams)
        self.fragmented_responses.append([len(d.data) for d in datagrams])
        whole = SkCipher(sa.suite, sa.keys.sk_er, sa.keys.sk_ar).seal(
            header, outer[-1].first_payload, inner)
        return [type(first)(whole, first.local, first.remote)]

    def receive_datagram(self, data, local, remote, now):
        if parse_header_only(data).exchange == ExchangeType.IKE_SA_INIT:
            return self.responder.receive_datagram(data, local, remote, now)
        out = []
        for piece in self.split(data):
            out += self.responder.receive_datagram(piece, local, remote, now)
        return self.join(out)


def _login(settings, client, **peer_args):
    peer = FragmentingPeer(Responder(settings), **peer_args)
    loop = Loopback(peer)
    return peer, loop.login(client(sa_init_extra=FRAG_SUPPORTED))


def test_login_with_fragmented_requests_and_responses(settings_factory, client):
    settings = settings_factory(hardening=Hardening(fragment_size=400))
    peer, result = _login(settings, client)
    assert result.established and result.keymat_match
    assert peer.fragmented_responses, "the certificate-carrying IKE_AUTH was not fragmented"
    for sizes in peer.fragmented_responses:
        assert len(sizes) > 1 and max(sizes) <= 400 - 20 - 8


def test_fragments_out_of_order_are_reassembled(settings_factory, client):
    _, result = _login(settings_factory(), client, pieces=4, reverse=True)
    assert result.established


def test_connection_switch_never_fragments(settings_factory, client):
    settings = settings_factory(hardening=Hardening(fragment_size=400))
    settings.connections = tuple(c.__class__(**{**c.__dict__, "fragmentation": False})
                                 for c in settings.connections)
    peer, result = _login(settings, client)
    assert result.established
    assert peer.fragmented_responses == []


def test_too_many_fragments_are_dropped(settings_factory, client, caplog):
    caplog.set_level(logging.INFO, "ikeeap.ike")
    settings = settings_factory(hardening=Hardening(max_fragments=4))
    _, result = _login(settings, client, pieces=5)
    assert not result.established
    assert "5 fragments (max_fragments 4)" in caplog.text


def test_reassembly_size_limit(settings_factory, client, caplog):
    caplog.set_level(logging.INFO, "ikeeap.ike")
    settings = settings_factory(hardening=Hardening(max_reassembly_size=64))
    _, result = _login(settings, client)
    assert not result.established
    assert "reassembled message over 64 octets" in caplog.text


def _first_auth_fragments(settings_factory, client, **hardening):
    """A responder after IKE_SA_INIT and the fragments of the initiator's first IKE_AUTH."""
    responder = Responder(settings_factory(hardening=Hardening(**hardening)))
    captured = []
    peer = FragmentingPeer(responder)
    loop = Loopback(peer)
    loop.drop = lambda d, inbound: inbound and parse_header_only(d.data).exchange \
        == ExchangeType.IKE_AUTH and not captured.append(d)
    loop.login(client(sa_init_extra=FRAG_SUPPORTED), max_time=0.1)
    d = captured[0]
    return responder, peer.split(d.data), d


def test_forged_fragment_is_not_stored_and_a_stale_collection_starts_over(settings_factory,
                                                                          client):
    """Then the completed request is answered once: a retransmitted fragment 1 gets the cached
    response, a later fragment nothing."""
    responder, frags, d = _first_auth_fragments(settings_factory, client,
                                                reassembly_timeout=2.0)
    send = lambda data, now: responder.receive_datagram(data, d.remote, d.local, now)
    (sa,) = responder.sas()
    forged = frags[1][:-1] + bytes([frags[1][-1] ^ 1])
    assert send(frags[0], 0.0) == [] and send(forged, 0.0) == []
    assert set(sa.reassembly.parts) == {1}  # the forged fragment 2 took no place
    assert send(frags[2], 5.0) == []  # too late: the collection starts over
    assert set(sa.reassembly.parts) == {3} and sa.reassembly.started == 5.0
    assert send(frags[1], 5.0) == []
    assert send(frags[0], 5.1) == []  # 1, 2, 3 within the timeout: the request is handled
    event = responder.next_event()
    assert isinstance(event, EapStepPending)
    answer = responder.eap_done(event.sa_id, drive(event.step), 5.2)
    assert answer
    assert send(frags[1], 6.0) == []  # a retransmitted later fragment gets nothing
    assert [a.data for a in send(frags[0], 6.0)] == [a.data for a in answer]  # same again
