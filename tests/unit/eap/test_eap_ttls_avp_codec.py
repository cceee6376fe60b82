"""RFC 5281 §10 AVP framing: lengths exclude padding, vendor AVPs, malformed input."""

from __future__ import annotations

import pytest

from ikeeap.eap.methods.ttls_avp import Avp, AvpError, encode_avp, encode_avps, parse_avps


def test_user_name_avp_octets_and_padding():
    octets = encode_avp(Avp(1, b"alice", mandatory=True))
    assert octets == bytes.fromhex("00000001 40 00000d") + b"alice" + b"\0\0\0"
    assert parse_avps(octets) == [Avp(1, b"alice", True)]


def test_vendor_avp_round_trip_and_sequence():
    avps = [Avp(26, b"\x01\x02", False, 311), Avp(79, b"\x02\x07\x00\x05\x01", True)]
    assert parse_avps(encode_avps(avps)) == avps


@pytest.mark.parametrize("junk", [b"\0\0\0\1\0\0\0", bytes.fromhex("00000001 00 000004"),
                                  bytes.fromhex("00000001 00 0000ff") + b"x",
                                  bytes.fromhex("00000001 80 000009") + b"x"])
def test_malformed_avps_raise_only_avp_error(junk):
    with pytest.raises(AvpError):
        parse_avps(junk)
