"""EAP-SIM test vectors of RFC 4186 Appendix A (full authentication A.1–A.7, fast
re-authentication A.8–A.10) and the FIPS 186-2 PRF of Appendix B, bit for bit.

Packets are hard-coded from the RFC text (../shared/rfc/rfc4186.txt).
"""

from __future__ import annotations

import hashlib
import struct

import pytest

from ikeeap.crypto.fips186_prf import fips186_2_prf, fips186_g
from ikeeap.crypto.sha1_compress import SHA1_INITIAL_STATE, sha1_compress, state_bytes
from ikeeap.crypto.sim_keys import (
    decrypt_attributes,
    derive_keys,
    derive_reauth_keys,
    master_key,
    reauth_xkey,
    sim_mac,
)
from ikeeap.eap.methods.sim import attributes as a
from ikeeap.eap.methods.sim import requests as req
from ikeeap.eap.methods.sim.protection import (
    EAP_RESPONSE,
    eap_packet,
    encrypted_attributes,
    mac_ok,
    sign,
)

IDENTITY = b"1244070100000001@eapsim.foo"
NONCE_MT = bytes.fromhex("0123456789abcdeffedcba9876543210")
NONCE_S = NONCE_MT  # A.9 uses the same value
TRIPLETS = [  # (RAND, SRES, Kc) of A.5
    (bytes.fromhex("101112131415161718191a1b1c1d1e1f"), bytes.fromhex("d1d2d3d4"),
     bytes.fromhex("a0a1a2a3a4a5a6a7")),
    (bytes.fromhex("202122232425262728292a2b2c2d2e2f"), bytes.fromhex("e1e2e3e4"),
     bytes.fromhex("b0b1b2b3b4b5b6b7")),
    (bytes.fromhex("303132333435363738393a3b3c3d3e3f"), bytes.fromhex("f1f2f3f4"),
     bytes.fromhex("c0c1c2c3c4c5c6c7")),
]
MK = bytes.fromhex("e576d5ca332e9930018bf1baee2763c795b3c712")
K_ENCR = bytes.fromhex("536e5ebc4465582aa6a8ec9986ebb620")
K_AUT = bytes.fromhex("25af1942efcbf4bc72b3943421f2a974")
MSK = bytes.fromhex(
    "39d45aeaf4e30601983e972b6cfd46d1c363773365690d09cd44976b525f47d3"
    "a60a985e955c53b090b2e4b73719196a402542968fd14a888f46b9a7886e4488")
EMSK = bytes.fromhex(
    "5949eab0fff69d52315c6c634fd14a7f0d52023d56f79698fa6596abeed4f93f"
    "bb48eb534d985414ceed0d9a8ed33c387c9dfdab92ffbdf240fcecf65a2c93b9")
PSEUDONYM = "w8w49PexCazWJ&xCIARmxuMKht5S1sxRDqXSEFBEg3DcZP9cIxTe5J4OyIwNGVzxeJOU1G"
REAUTH_ID = "Y24fNSrz8BP274jOJaF17WfxI8YO7QX00pMXk9XMMVOw7broaNhTczuFq53aEpOkk3L0dm@eapsim.foo"
NEXT_REAUTH_ID = ("uta0M0iyIsMwWp5TTdSdnOLvg2XDVf21OYt1vnfiMcs5dnIDHOIFVavIRzMRyzW6vFzdHW"
                  "@eapsim.foo")
A5_IV = bytes.fromhex("9e18b0c29a652263c06efb54dd00a895")
A9_IV = bytes.fromhex("d585ac7786b90336657c77b46575b9c4")
A10_IV = bytes.fromhex("cdf7ffa65de04c026b56c86b76b102ea")
XKEY_PRIME = bytes.fromhex("863dc12032e08343c1a2308db48377f6801f58d4")
REAUTH_MSK = bytes.fromhex(
    "6263f614973895e1335f7e30cff028ee2176f519002c9abe732fe0ef00cf167c"
    "756d9e4ced6d5ed640eb3fe38565ca076e7fb8a817cfe8d9adbce441d47c4f5e")
REAUTH_EMSK = bytes.fromhex(
    "3d8ff7863a630b2b06e2cf209684c13f6b82f992f2b06f1b54bf51ef237f2a40"
    "1ef5e0d7e098a34c533eaebf34578854b772152620a777f0e0340884a294fb73")
A3_START = bytes.fromhex("01010010120a00000f02000200010000")
A4_START_RESPONSE = bytes.fromhex(
    "02010020120a0000070500000123456789abcdeffedcba987654321010010001")

A5_PLAIN = bytes.fromhex(
    "84130046773877343950657843617a574a2678434941526d78754d4b687435533173785244715853"
    "45464245673344635a50396349785465354a344f7949774e47567a78654a4f553147000085160051"
    "593234664e53727a3842503237346a4f4a614631375766784938594f3751583030704d586b39584d"
    "4d564f773762726f614e6854637a75467135336145704f6b6b334c30646d4065617073696d2e666f"
    "6f000000060300000000000000000000"
)
A5 = bytes.fromhex(
    "01020118120b0000010d0000101112131415161718191a1b1c1d1e1f202122232425262728292a2b"
    "2c2d2e2f303132333435363738393a3b3c3d3e3f810500009e18b0c29a652263c06efb54dd00a895"
    "822d000055f2939bbdb1b19ea1b47fc0b3e0be4cab2cf7372d98e3023c6bb92415723d58bad66ce0"
    "84e101b60f5358354bd4218278aea7bf2cbace33106aeddc625b0c1d5aa67a41739ae5b57950973f"
    "c7ff8301073c6f953150fc303ea152d1e10a2d1f4f5226daa1ee9005472252bdb3b71d6f0c3a3490"
    "316c46929871bd45cdfdbca6112f07f8be717990d25f6dd7f2b7b320bf4d5a992e880331d729945a"
    "ec75ae5d43c8eda5fe6233fcac494ee67a0d504d0b050000fef324ac3962b59f3bd78253ae4dcb6a"
)
A6 = bytes.fromhex(
    "0202001c120b00000b050000f56d6433e68ed2976ac11937fc3d1154"
)
A9_PLAIN = bytes.fromhex(
    "13010001150500000123456789abcdeffedcba987654321085160051757461304d30697949734d77"
    "57703554546453646e4f4c7667325844566632314f597431766e66694d637335646e4944484f4946"
    "56617649527a4d52797a573676467a6448574065617073696d2e666f6f000000"
)
A9 = bytes.fromhex(
    "010100a4120d000081050000d585ac7786b90336657c77b46575b9c4821d0000686291a9d2abc58c"
    "aa3294b6e85b44846c44e5dcb2de8b9e80d69d49858a5db84cdc1c9bc95c01b96b6eca313474aea6"
    "d31416e19daa9df70f05008841ca8014964d3b30a49bcf43e4d3f18e86295a4a2b38d96c9705c2bb"
    "b05c4aace97d5eaff564046c8bd30bc39be5e17ace2b10a60b050000483a1799b83d7cd3d0a1e401"
    "d9ee4770"
)
A10_PLAIN = bytes.fromhex(
    "13010001060300000000000000000000"
)
A10 = bytes.fromhex(
    "02010044120d000081050000cdf7ffa65de04c026b56c86b76b102ea82050000b6edd38279e2a142"
    "3c1afc5c455c7d560b050000faf76b71fbe2d255b96a3566c915c617"
)

def _fixed(value: bytes):
    return lambda n: value[:n]


# -- SHA-1 compression and the FIPS 186-2 PRF (Appendix B) ------------------------------


@pytest.mark.parametrize("message", [b"", b"abc", b"x" * 55, bytes(range(40))])
def test_sha1_compression_equals_hashlib_on_one_padded_block(message: bytes) -> None:
    """SHA-1(m) for |m| <= 55 is exactly one compression of the padded block."""
    block = message + b"\x80" + bytes(55 - len(message)) + struct.pack(">Q", 8 * len(message))
    assert state_bytes(sha1_compress(SHA1_INITIAL_STATE, block)) == hashlib.sha1(message).digest()


def test_sha1_compression_chains_like_hashlib_over_two_blocks() -> None:
    message = bytes(range(64)) + b"tail"
    pad = message + b"\x80" + bytes((55 - len(message)) % 64) + struct.pack(">Q", 8 * len(message))
    state = SHA1_INITIAL_STATE
    for i in range(0, len(pad), 64):
        state = sha1_compress(state, pad[i : i + 64])
    assert state_bytes(state) == hashlib.sha1(message).digest()


def test_fips_g_is_compression_of_zero_padded_value_not_sha1() -> None:
    value = bytes(range(20))
    assert fips186_g(value) == state_bytes(sha1_compress(SHA1_INITIAL_STATE, value + bytes(44)))
    assert fips186_g(value) != hashlib.sha1(value).digest()


def test_prf_from_mk_gives_appendix_a5_keys() -> None:
    stream = fips186_2_prf(MK, 160)
    assert stream == K_ENCR + K_AUT + MSK + EMSK
    assert fips186_2_prf(MK, 40) == stream[:40]  # x_0 alone is a prefix


# -- full authentication (A.3–A.7) ------------------------------------------------------


def test_a5_master_key() -> None:
    mk = master_key(IDENTITY, [kc for _, _, kc in TRIPLETS], NONCE_MT, [1], 1)
    assert mk == MK


def test_a5_derived_keys() -> None:
    keys = derive_keys(MK)
    assert (keys.k_encr, keys.k_aut, keys.msk, keys.emsk) == (K_ENCR, K_AUT, MSK, EMSK)


def test_a3_start_request_bytes() -> None:
    assert eap_packet(1, 1, req.start_request([1], None)) == A3_START


def test_a4_start_response_parses() -> None:
    msg = a.parse_message(A4_START_RESPONSE[4:])
    assert msg.subtype == a.Subtype.START
    assert a.read_reserved(msg.get(a.Attr.NONCE_MT), 16) == NONCE_MT
    assert a.read_u16(msg.get(a.Attr.SELECTED_VERSION)) == 1
    assert a.read_versions(a.parse_message(A3_START[4:]).get(a.Attr.VERSION_LIST)) == [1]


def test_a5_encrypted_plaintext_and_challenge_packet_bit_for_bit() -> None:
    nested = req.identity_attributes(PSEUDONYM, REAUTH_ID)
    plaintext = b"".join(nested) + a.attr_padding_to_block(len(b"".join(nested)))
    assert plaintext == A5_PLAIN
    type_data = req.challenge_request(2, K_ENCR, K_AUT, [t[0] for t in TRIPLETS], NONCE_MT,
                                      nested, result_ind=False, random=_fixed(A5_IV))
    assert eap_packet(1, 2, type_data) == A5  # includes AT_MAC fef324ac...


def test_a5_challenge_decrypts_to_the_identities() -> None:
    msg = a.parse_message(A5[4:])
    iv = a.read_reserved(msg.get(a.Attr.IV), 16)
    data = a.read_reserved(msg.get(a.Attr.ENCR_DATA))
    assert decrypt_attributes(K_ENCR, iv, data) == A5_PLAIN
    assert mac_ok(K_AUT, 1, 2, A5[4:], NONCE_MT)


def test_a6_challenge_response_mac() -> None:
    sres = b"".join(t[1] for t in TRIPLETS)
    zeroed = A6[:12] + bytes(16)
    assert sim_mac(K_AUT, zeroed, sres) == A6[12:]
    assert sign(K_AUT, EAP_RESPONSE, 2, a.encode_message(a.Subtype.CHALLENGE,
                                                          [a.mac_placeholder()]), sres) == A6[4:]
    assert not mac_ok(K_AUT, EAP_RESPONSE, 2, A6[4:], sres[:-1] + b"\x00")


# -- fast re-authentication (A.8–A.10) --------------------------------------------------


def test_a9_reauth_request_bit_for_bit() -> None:
    nested = [a.attr_u16(a.Attr.COUNTER, 1), a.attr_reserved(a.Attr.NONCE_S, NONCE_S),
              *req.identity_attributes(None, NEXT_REAUTH_ID)]
    assert b"".join(nested) == A9_PLAIN  # a multiple of 16: no AT_PADDING
    type_data = req.reauth_request(1, K_ENCR, K_AUT, 1, NONCE_S, NEXT_REAUTH_ID,
                                   result_ind=False, random=_fixed(A9_IV))
    assert eap_packet(1, 1, type_data) == A9


def test_a9_xkey_prime_msk_emsk() -> None:
    identity = REAUTH_ID.encode()
    assert reauth_xkey(identity, 1, NONCE_S, MK) == XKEY_PRIME
    assert derive_reauth_keys(identity, 1, NONCE_S, MK) == (REAUTH_MSK, REAUTH_EMSK)


def test_a10_reauth_response_bit_for_bit() -> None:
    attrs = encrypted_attributes(K_ENCR, [a.attr_u16(a.Attr.COUNTER, 1)], _fixed(A10_IV))
    message = a.encode_message(a.Subtype.REAUTHENTICATION, attrs + [a.mac_placeholder()])
    assert eap_packet(2, 1, sign(K_AUT, EAP_RESPONSE, 1, message, NONCE_S)) == A10
    msg = a.parse_message(A10[4:])
    iv = a.read_reserved(msg.get(a.Attr.IV), 16)
    assert decrypt_attributes(K_ENCR, iv, a.read_reserved(msg.get(a.Attr.ENCR_DATA))) == A10_PLAIN
