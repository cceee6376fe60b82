"""SK payload protection (ikeeap.crypto.sk): round trips for every IKE suite, wire layout,
interoperability of the CBC path with a textbook CBC + HMAC, and tamper detection."""

import hmac
import os
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ikeeap.crypto.sk import IntegrityError, SkCipher, pack_header
from ikeeap.crypto.transforms import SUPPORTED_IKE_ENCR, IkeSuite, integ_spec
from ikeeap.wire.payloads import IkeHeader

HEADER = IkeHeader(
    spi_i=b"\x11" * 8, spi_r=b"\x22" * 8, next_payload=46, exchange=35, flags=0x20, message_id=7
)
INTEGS = (2, 12, 13, 14)


def suites():
    for encr, bits in sorted(SUPPORTED_IKE_ENCR):
        if encr == 12:
            for integ in INTEGS:
                yield IkeSuite(encr, bits, 5, integ, 19)
        else:
            yield IkeSuite(encr, bits, 5, 0, 19)


ALL = list(suites())


def make(suite):
    e = os.urandom(suite.encr_keymat_len)
    a = os.urandom(suite.integ_key_len)
    return SkCipher(suite, e, a), SkCipher(suite, e, a), e, a


@pytest.mark.parametrize("suite", ALL, ids=str)
def test_round_trip_and_layout(suite):
    tx, rx, _, _ = make(suite)
    for n in (0, 1, 14, 15, 16, 17, 31, 200, 1500):
        pt = os.urandom(n)
        msg = tx.seal(HEADER, 41, pt)
        assert len(msg) == 28 + 4 + tx.sealed_length(n)
        nxt, ver, exch, flags, mid, length = struct.unpack_from("!BBBBII", msg, 16)
        assert (nxt, ver, exch, flags, mid, length) == (46, 0x20, 35, 0x20, 7, len(msg))
        assert msg[:16] == HEADER.spi_i + HEADER.spi_r
        assert struct.unpack_from("!BBH", msg, 28) == (41, 0, len(msg) - 28)
        assert rx.open(msg, 28) == pt
        if suite.aead:
            assert (len(msg) - 32 - 8 - 16) == n + 1  # only the pad-length octet
        else:
            assert (len(msg) - 32 - 16 - integ_spec(suite.integ).icv_len) % 16 == 0


@pytest.mark.parametrize("suite", [s for s in ALL if not s.aead], ids=str)
def test_cbc_matches_textbook_cbc_hmac(suite):
    """Persistent OpenSSL contexts must still give standard CBC with a fresh random IV."""
    tx, _, e, a = make(suite)
    spec = integ_spec(suite.integ)
    for n in (0, 5, 16, 40, 100):  # several messages through the same contexts
        pt = os.urandom(n)
        msg = tx.seal(HEADER, 33, pt)
        icv_len = spec.icv_len
        body, icv = msg[:-icv_len], msg[-icv_len:]
        assert hmac.digest(a, body, spec.hash_name)[:icv_len] == icv
        iv, ct = msg[32:48], msg[48:-icv_len]
        d = Cipher(algorithms.AES(e), modes.CBC(iv)).decryptor()
        padded = d.update(ct) + d.finalize()
        pad = padded[-1]
        assert pad < 16 and padded[: len(padded) - pad - 1] == pt


def test_cbc_ivs_are_random_and_aead_ivs_unique():
    cbc, _, _, _ = make(IkeSuite(12, 128, 5, 12, 19))
    gcm, _, _, _ = make(IkeSuite(20, 128, 5, 0, 19))
    cbc_ivs = {cbc.seal(HEADER, 41, b"x")[32:48] for _ in range(50)}
    gcm_ivs = {gcm.seal(HEADER, 41, b"x")[32:40] for _ in range(50)}
    assert len(cbc_ivs) == 50 and len(gcm_ivs) == 50


@pytest.mark.parametrize("suite", ALL, ids=str)
def test_tamper_detection(suite):
    tx, rx, _, _ = make(suite)
    msg = tx.seal(HEADER, 41, os.urandom(37))
    # Every octet is covered: header, SK header, IV, ciphertext, ICV.
    for pos in range(len(msg)):
        bad = bytearray(msg)
        bad[pos] ^= 0x01
        with pytest.raises(IntegrityError):
            rx.open(bytes(bad), 28)
    for cut in (1, 16, len(msg) - 28):
        with pytest.raises(IntegrityError):
            rx.open(msg[:-cut], 28)
    assert rx.open(msg, 28)  # still fine afterwards


@pytest.mark.parametrize("suite", [ALL[0], IkeSuite(28, 256, 5, 0, 19)], ids=str)
def test_wrong_key_and_offsets(suite):
    tx, _, _, _ = make(suite)
    other, _, _, _ = make(suite)
    msg = tx.seal(HEADER, 41, b"payload")
    with pytest.raises(IntegrityError):
        other.open(msg, 28)
    for off in (-1, 0, 27, len(msg) - 3, len(msg) + 10):
        with pytest.raises(IntegrityError):
            tx.open(msg, off)


def test_cbc_bad_padding_rejected():
    suite = IkeSuite(12, 128, 5, 12, 19)
    e, a = os.urandom(16), os.urandom(32)
    rx = SkCipher(suite, e, a)
    block = bytes(15) + b"\x20"  # pad length 32 > 15 octets before it
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(e), modes.CBC(iv)).encryptor()
    ct = enc.update(block) + enc.finalize()
    sk_len = 4 + 16 + 16 + 16
    prefix = pack_header(HEADER, 28 + sk_len, 46) + struct.pack("!BBH", 41, 0, sk_len)
    body = prefix + iv + ct
    msg = body + hmac.digest(a, body, "sha256")[:16]
    with pytest.raises(IntegrityError, match="padding"):
        rx.open(msg, 28)


def test_key_length_checked():
    suite = IkeSuite(12, 128, 5, 12, 19)
    with pytest.raises(ValueError):
        SkCipher(suite, bytes(15), bytes(32))
    with pytest.raises(ValueError):
        SkCipher(suite, bytes(16), bytes(20))
    with pytest.raises(ValueError):
        SkCipher(IkeSuite(20, 128, 5, 0, 19), bytes(16), b"")  # salt missing


def test_seal_after_with_longer_prefix():
    """SKF-style: any prefix is authenticated, and open_after takes the body offset."""
    for suite in (ALL[0], IkeSuite(20, 256, 5, 0, 19)):
        tx, rx, _, _ = make(suite)
        n = 50
        sealed = tx.sealed_length(n)
        prefix = pack_header(HEADER, 28 + 8 + sealed, 53) + struct.pack(
            "!BBHHH", 41, 0, 8 + sealed, 1, 2
        )
        pt = os.urandom(n)
        msg = tx.seal_after(prefix, pt)
        assert len(msg) == len(prefix) + sealed
        assert rx.open_after(msg, 36) == pt
        bad = bytearray(msg)
        bad[33] ^= 1  # fragment number is authenticated
        with pytest.raises(IntegrityError):
            rx.open_after(bytes(bad), 36)
