"""EAP-pwd KDF (RFC 5931 §2.5) against values published in an independent implementation's
test suite (a Go EAP-pwd package, TestKDF); RFC 5931 itself has no vectors, so the end-to-end
proof is wpa_supplicant's eapol_test (tests/interop)."""

from __future__ import annotations

import hashlib
import hmac

from ikeeap.eap.methods.pwd.protocol import HUNT_LABEL, h, kdf


def test_kdf_vectors_from_an_independent_implementation():
    assert kdf(bytes.fromhex("f7e6f440"), HUNT_LABEL, 256).hex() == (
        "0ebfcf6d1f80bc2eba688e0719a52d2059af7bfc35829863715b24e07ab2a70e")
    assert kdf(b"", HUNT_LABEL, 256).hex() == (
        "452a51d77575d353e2e9b2ce5e0e13b695488a3ceeb1b7334b4a0c583fb6c4af")
    key = bytes.fromhex("0be1fa76273b250ba1febe3298e873a6f54f0daa5b0bc23a889dc2b5ab5df601")
    assert kdf(key, HUNT_LABEL, 256).hex() == (
        "ead7d0a4b1e2a1a10dc14f629037cfa70d3bc3dbcc021fe828ab5f174f1fde41")


def test_kdf_is_the_rfc_counter_mode_construction_with_bit_lengths():
    key, label = b"k" * 32, b"label"
    k1 = hmac.new(key, b"\x00\x01" + label + (1024).to_bytes(2, "big"), hashlib.sha256).digest()
    k2 = hmac.new(key, k1 + b"\x00\x02" + label + (1024).to_bytes(2, "big"),
                  hashlib.sha256).digest()
    out = kdf(key, label, 1024)
    assert len(out) == 128 and out[:64] == k1 + k2
    # P-521: 521 bits requested; the 7 trailing bits of the last octet are cleared.
    assert len(kdf(key, label, 521)) == 66 and kdf(key, label, 521)[-1] & 0x7F == 0


def test_random_function_is_hmac_sha256_with_a_zero_key():
    assert h(b"a", b"b") == hmac.new(bytes(32), b"ab", hashlib.sha256).digest()
