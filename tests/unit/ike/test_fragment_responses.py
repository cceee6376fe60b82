"""Fragmented responses (RFC 7383 §2.5), read from the datagrams by hand: only to a peer that
announced IKEV2_FRAGMENTATION_SUPPORTED and only with fragment_size set; every fragment as
large as the IP datagram budget allows (20 or 40 octets of IP header, 8 of UDP); the SKF
header's Next Payload names the first inner payload in fragment 1 only."""

from __future__ import annotations

import struct

import pytest

from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.initiator.loopback import Loopback

from test_fragments import FRAG_SUPPORTED, FragmentingPeer

SKF = 53
IKE_HEADER = 28


def _fragments(loop: Loopback) -> list[list[bytes]]:
    """The responder's SKF datagrams, grouped by message ID."""
    groups: dict[int, list[bytes]] = {}
    for datagram, inbound in loop.transcript:
        if not inbound and datagram.data[16] == SKF:
            mid = struct.unpack_from("!I", datagram.data, 20)[0]
            groups.setdefault(mid, []).append(datagram.data)
    return list(groups.values())


def _login(settings, client, server=None, local=None, announce=True):
    peer = FragmentingPeer(Responder(settings))
    loop = Loopback(peer, record=True, **({"server": server} if server else {}))
    extra = {"sa_init_extra": FRAG_SUPPORTED} if announce else {}
    result = loop.login(client(**extra), **({"local": local} if local else {}))
    return loop, result


@pytest.mark.parametrize(("server", "local", "ip_header"), [
    (None, None, 20), (("2001:db8::1", 500), ("2001:db8::2", 500), 40)], ids=["ipv4", "ipv6"])
def test_fragments_fill_the_datagram_budget_and_carry_rfc7383_headers(
        settings_factory, client, server, local, ip_header):
    settings = settings_factory(hardening=Hardening(fragment_size=400))
    loop, result = _login(settings, client, server, local)
    assert result.established
    groups = _fragments(loop)
    assert groups, "the certificate-carrying IKE_AUTH response was not fragmented"
    budget = 400 - ip_header - 8  # the IKE message may use the rest of the IP datagram
    for group in groups:
        assert len(group) > 1 and max(len(d) for d in group) == budget
        for number, data in enumerate(group, 1):
            next_payload, flags, length, fragment, total = struct.unpack_from(
                "!BBHHH", data, IKE_HEADER)
            assert (fragment, total) == (number, len(group))
            assert length == len(data) - IKE_HEADER and flags == 0
            assert (next_payload != 0) == (number == 1)  # §2.5: 0 in later fragments


def test_no_fragments_to_a_peer_that_did_not_announce_support(settings_factory, client):
    settings = settings_factory(hardening=Hardening(fragment_size=400))
    loop, result = _login(settings, client, announce=False)
    assert _fragments(loop) == []


def test_no_fragments_with_fragment_size_0(settings_factory, client):
    settings = settings_factory(hardening=Hardening(fragment_size=0))
    loop, result = _login(settings, client)
    assert result.established and _fragments(loop) == []
