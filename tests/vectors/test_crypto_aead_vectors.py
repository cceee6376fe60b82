"""Known-answer tests for the AEAD SK payload (ikeeap.crypto.sk).

Sources:
- RFC 7634 Appendix B: the IKEv2 INFORMATIONAL example protected with ChaCha20-Poly1305
  (also in strongSwan test_vectors/chacha20poly1305.c, "IKEv2 example from RFC 7634").
- McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 4, 10 and 16
  (128/192/256-bit keys, 12-octet IV), as laid out for RFC 4106/5282 in strongSwan
  test_vectors/aes_gcm.c: key ‖ 4-octet salt, then the 8-octet explicit IV.
"""

import pytest

from ikeeap.crypto.sk import SkCipher
from ikeeap.crypto.transforms import IkeSuite
from ikeeap.wire.payloads import IkeHeader

RFC7634_KEY = bytes(range(0x80, 0xA4))  # 32-octet key 80..9f, salt a0 a1 a2 a3
RFC7634_IV = bytes(range(0x10, 0x18))
RFC7634_AAD = bytes.fromhex(
    "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d7"  # SPIi, SPIr
    "2e202500000000090000004529000029"  # next SK, v2.0, INFORMATIONAL, ID 9, len 69; SK header
)
RFC7634_PLAIN = bytes.fromhex("0000000c000040010000000a")  # N(SET_WINDOW_SIZE, 10)
RFC7634_CIPHER = bytes.fromhex(
    "610394701f8d017f7c12924889"  # ciphertext (13 octets incl. the pad-length octet)
    "6b71bfe25236efd7cdc67066906315b2"  # ICV
)
CHACHA = IkeSuite(encr=28, encr_key_bits=256, prf=5, integ=0, dh=31)


def test_rfc7634_seal_after():
    sk = SkCipher(CHACHA, RFC7634_KEY, b"")
    msg = sk.seal_after(RFC7634_AAD, RFC7634_PLAIN, iv=RFC7634_IV)
    assert msg == RFC7634_AAD + RFC7634_IV + RFC7634_CIPHER


def test_rfc7634_seal_builds_same_header(monkeypatch):
    """seal() computes the header and SK lengths itself; pin the IV via seal_after."""
    sk = SkCipher(CHACHA, RFC7634_KEY, b"")
    header = IkeHeader(
        spi_i=bytes(range(0xC0, 0xC8)), spi_r=bytes(range(0xD0, 0xD8)),
        next_payload=46, exchange=37, flags=0x00, message_id=9,
    )  # fmt: skip
    orig = SkCipher.seal_after
    monkeypatch.setattr(
        SkCipher, "seal_after", lambda self, p, t, iv=None: orig(self, p, t, iv=RFC7634_IV)
    )
    assert sk.seal(header, 41, RFC7634_PLAIN) == RFC7634_AAD + RFC7634_IV + RFC7634_CIPHER


def test_rfc7634_open():
    sk = SkCipher(CHACHA, RFC7634_KEY, b"")
    assert sk.open(RFC7634_AAD + RFC7634_IV + RFC7634_CIPHER, 28) == RFC7634_PLAIN


# (key bits, key ‖ salt, explicit IV, AAD, plaintext, ciphertext ‖ ICV)
GCM_VECTORS = (
    (  # aes_gcm4
        128,
        "feffe9928665731c6d6a8f9467308308cafebabe",
        "facedbaddecaf888",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        (
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c9595680953"
            "2fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ),
        (
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c"
            "7d8f6a5aac84aa051ba30b396a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47"
        ),
    ),
    (  # aes_gcm10
        192,
        "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
        "facedbaddecaf888",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        (
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c9595680953"
            "2fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ),
        (
            "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525"
            "ac619d18c84a3f4718e2448b2fe324d9ccda27102519498e80f1478f37ba55bd6d27618c"
        ),
    ),
    (  # aes_gcm16
        256,
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308cafebabe",
        "facedbaddecaf888",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        (
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c9595680953"
            "2fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ),
        (
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3d"
            "a7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b"
        ),
    ),
)


@pytest.mark.parametrize("vec", GCM_VECTORS, ids=lambda v: f"aes{v[0]}")
def test_gcm_open_after(vec):
    """Nonce = salt ‖ IV and AAD = everything before the IV (RFC 5282 §4, §5.1)."""
    bits, key, iv, aad, plain, cipher = (vec[0], *(bytes.fromhex(x) for x in vec[1:]))
    sk = SkCipher(IkeSuite(encr=20, encr_key_bits=bits, prf=5, integ=0, dh=19), key, b"")
    out = sk.open_after(aad + iv + cipher, len(aad))
    # The last plaintext octet is read as the pad length and stripped with the padding.
    assert out == plain[: len(plain) - plain[-1] - 1]
