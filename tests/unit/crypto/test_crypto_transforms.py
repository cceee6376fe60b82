"""Transform tables and IkeSuite validation (ikeeap.crypto.transforms)."""

import pytest

from ikeeap.crypto.transforms import (
    SUPPORTED_DH,
    SUPPORTED_IKE_ENCR,
    IkeSuite,
    UnsupportedTransform,
    child_keymat_length,
    encr_spec,
    esp_key_lengths,
    integ_spec,
    is_aead,
    prf_spec,
)
from ikeeap.wire.constants import DhId, EncrId, IntegId, PrfId


def test_aes_cbc_specs():
    for bits in (128, 192, 256):
        s = encr_spec(EncrId.AES_CBC, bits)
        assert (s.key_len, s.salt_len, s.iv_len, s.block_len, s.icv_len) == (
            bits // 8,
            0,
            16,
            16,
            0,
        )
        assert not s.aead and s.ike and s.keymat_len == bits // 8


def test_aead_specs():
    for bits in (128, 256):
        s = encr_spec(EncrId.AES_GCM_16, bits)
        assert (s.keymat_len, s.iv_len, s.icv_len, s.aead) == (bits // 8 + 4, 8, 16, True)
    for bits in (None, 0, 256):
        s = encr_spec(EncrId.CHACHA20_POLY1305, bits)
        assert (s.key_len, s.salt_len, s.iv_len, s.icv_len) == (32, 4, 8, 16)
    assert is_aead(EncrId.AES_GCM_8) and is_aead(EncrId.CHACHA20_POLY1305)
    assert not is_aead(EncrId.AES_CBC)


def test_unsupported():
    with pytest.raises(UnsupportedTransform):
        encr_spec(EncrId.AES_CBC, 100)
    with pytest.raises(UnsupportedTransform):
        encr_spec(3, 192)  # 3DES
    with pytest.raises(UnsupportedTransform):
        prf_spec(PrfId.HMAC_MD5)
    with pytest.raises(UnsupportedTransform):
        integ_spec(1)  # HMAC-MD5-96
    assert issubclass(UnsupportedTransform, ValueError)


def test_prf_and_integ_sizes():
    assert [prf_spec(p).out_len for p in (2, 5, 6, 7)] == [20, 32, 48, 64]
    assert [(integ_spec(i).key_len, integ_spec(i).icv_len) for i in (2, 12, 13, 14)] == [
        (20, 12), (32, 16), (48, 24), (64, 32),
    ]  # fmt: skip


def test_suite_validation():
    s = IkeSuite(EncrId.AES_CBC, 256, PrfId.HMAC_SHA2_256, IntegId.HMAC_SHA2_256_128, DhId.ECP_256)
    assert (s.encr_keymat_len, s.integ_key_len, s.aead) == (32, 32, False)
    g = IkeSuite(EncrId.AES_GCM_16, 128, PrfId.HMAC_SHA2_384, IntegId.NONE, DhId.CURVE25519)
    assert (g.encr_keymat_len, g.integ_key_len, g.aead, g.integ_spec) == (20, 0, True, None)
    bad = [
        (EncrId.AES_GCM_16, 128, 5, IntegId.HMAC_SHA2_256_128, 19),  # AEAD + INTEG
        (EncrId.AES_CBC, 128, 5, IntegId.NONE, 19),  # CBC without INTEG
        (EncrId.AES_GCM_8, 128, 5, IntegId.NONE, 19),  # not for IKE
        (EncrId.AES_CBC, 128, 5, 12, 5),  # MODP 1536 not provided
        (EncrId.AES_CBC, 128, 1, 12, 19),  # PRF MD5
    ]
    for args in bad:
        with pytest.raises(UnsupportedTransform):
            IkeSuite(*args)


def test_supported_sets():
    assert SUPPORTED_DH == {2, 14, 15, 19, 20, 21, 31}
    assert (EncrId.AES_GCM_16, 256) in SUPPORTED_IKE_ENCR
    assert (EncrId.AES_GCM_8, 256) not in SUPPORTED_IKE_ENCR
    assert (EncrId.CHACHA20_POLY1305, 256) in SUPPORTED_IKE_ENCR


def test_esp_sizes():
    assert esp_key_lengths(EncrId.AES_GCM_16, 256, IntegId.NONE) == (36, 0)
    assert esp_key_lengths(EncrId.AES_GCM_8, 128, IntegId.NONE) == (20, 0)
    assert esp_key_lengths(EncrId.CHACHA20_POLY1305, None, IntegId.NONE) == (36, 0)
    assert esp_key_lengths(EncrId.AES_CBC, 128, IntegId.HMAC_SHA1_96) == (16, 20)
    assert child_keymat_length(EncrId.AES_CBC, 256, IntegId.HMAC_SHA2_256_128) == 2 * (32 + 32)
    with pytest.raises(UnsupportedTransform):
        esp_key_lengths(EncrId.AES_GCM_16, 128, IntegId.HMAC_SHA1_96)
