"""The ESP core on a real negotiation: a loopback login (ikeeap.initiator.loopback) hands the
responder's ChildSaEstablished and the initiator's ChildResult to the data plane, and traffic
flows both ways with the keys each side derived on its own."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from ikeeap.esp import Drop, EspTable, initiator_child, responder_child
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import run_login
from ikeeap.initiator.testing import make_pki, make_settings

PSK = "a pre-shared key of decent length"


def _ipv4(src: bytes, dst: bytes, size: int) -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + size, 1, 0, 64, 17, 0, src, dst) + bytes(
        range(256))[:size % 256] + bytes(size - size % 256)


@pytest.fixture(scope="module")
def pki():
    return make_pki("ecdsa")


@pytest.mark.parametrize("esp", ["aes256gcm16", "aes128gcm16-esn", "chacha20poly1305",
                                 "aes128-sha256", "aes256-sha384", "aes256-sha512",
                                 "aes128-sha1"])
def test_traffic_after_a_login(pki, esp):
    settings = make_settings({"alice": "secret"}, psk=PSK, pki=pki,
                             esp_proposals=(esp + "-esn-noesn" if "esn" not in esp else esp,))
    client = InitiatorConfig(identity="alice", password="secret", psk=PSK,
                             ca_certificate=pki.ca.der, esp_proposals=(esp,))
    login = run_login(settings, client)
    assert login.established and login.keymat_match
    event, mine = login.responder_child, login.result.child
    assert event.esn == ("esn" in esp)
    responder = responder_child(event)
    initiator = initiator_child(mine, sa_id=event.sa_id)
    vip = ipaddress.IPv4Address(login.result.virtual_ip).packed
    server = bytes([192, 0, 2, 7])
    table = EspTable()
    table.add(responder)
    for size in (10, 600, 1380):
        up = _ipv4(vip, server, size)
        sa, inner = table.open(initiator.outbound.seal(up))
        assert sa is responder.inbound and inner == up
        down = _ipv4(server, vip, size)
        sa, esp_packet = table.seal(down)
        assert sa is responder.outbound and initiator.inbound.open(esp_packet) == down
    # a packet from an address the client was not given fails the responder's selector check
    spoofed = _ipv4(bytes([10, 99, 0, 1]), server, 50)
    assert table.open(initiator.outbound.seal(spoofed, next_header=4))[1] is Drop.SELECTOR
    assert responder.inbound.packets == 3 and responder.outbound.packets == 3
