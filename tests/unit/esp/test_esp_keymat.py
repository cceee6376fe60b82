"""The KEYMAT split (RFC 7296 §2.17): initiator→responder first, encryption before integrity,
the AEAD salt after its key; the responder decrypts with the first half."""

from __future__ import annotations

import struct

import pytest

from ikeeap.crypto.esp_transforms import AeadTransform, CbcHmacTransform
from ikeeap.crypto.transforms import child_keymat_length
from ikeeap.esp import InboundSa, initiator_child, responder_child, split_keymat


class _Event:  # the fields of ChildSaEstablished the ESP core reads
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _event(encr, bits, integ, keymat):
    return _Event(sa_id="s", spi_in=b"\x00\x00\x10\x01", spi_out=b"\x00\x00\x20\x02",
                  encr=encr, encr_key_bits=bits, integ=integ, keymat=keymat,
                  ts_i=("10.10.0.5/32",), ts_r=("0.0.0.0/0",), esn=0, udp_encap=True)


def _packet(src, dst):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, bytes(src), bytes(dst)
                       ) + bytes(8)


def test_split_cbc_layout():
    keymat = bytes(range(2 * (16 + 32)))
    i2r, r2i = split_keymat(12, 128, 12, keymat)
    assert (i2r.encr, i2r.integ) == (keymat[:16], keymat[16:48])
    assert (r2i.encr, r2i.integ) == (keymat[48:64], keymat[64:96])


def test_split_aead_layout_and_short_keymat():
    keymat = bytes(range(72))
    i2r, r2i = split_keymat(20, 256, 0, keymat)
    assert (i2r.encr, i2r.integ, r2i.encr) == (keymat[:36], b"", keymat[36:])
    with pytest.raises(ValueError):
        split_keymat(20, 256, 0, keymat[:71])


@pytest.mark.parametrize(("encr", "bits", "integ"), [(20, 256, 0), (28, 256, 0), (12, 128, 12)])
def test_responder_decrypts_with_the_first_half(encr, bits, integ):
    keymat = bytes(reversed(range(child_keymat_length(encr, bits, integ))))
    event = _event(encr, bits, integ, keymat)
    child = responder_child(event)
    assert child.udp_encap
    i2r, r2i = split_keymat(encr, bits, integ, keymat)

    def transform(keys):
        if integ:
            return CbcHmacTransform(bits, keys.encr, integ, keys.integ)
        return AeadTransform(encr, bits, keys.encr)

    up = _packet([10, 10, 0, 5], [192, 0, 2, 1])
    header = event.spi_in + b"\x00\x00\x00\x01"
    pad = (-(len(up) + 2)) % (16 if integ else 4)
    trailer = bytes(range(1, pad + 1)) + bytes((pad, 4))
    assert child.inbound.open(transform(i2r).seal(header, b"", up + trailer)) == up
    down = _packet([192, 0, 2, 1], [10, 10, 0, 5])
    esp = child.outbound.seal(down)
    assert esp[:4] == event.spi_out
    assert InboundSa(event.spi_out, transform(r2i)).open(esp) == down
    # and the initiator's mirror image uses the halves the other way round
    mirror = initiator_child(_event(encr, bits, integ, keymat))
    assert InboundSa(mirror.outbound.spi, transform(i2r)).open(mirror.outbound.seal(up)) == up
