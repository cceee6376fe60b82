"""EAP-SIM keying (RFC 4186 §7, §10.12, §10.14): MK, K_encr, K_aut, MSK, EMSK, fast
re-authentication keys, AT_MAC and the AES-128-CBC of AT_ENCR_DATA.

Also used for EAP-AKA's identical PRF, MAC and encryption (RFC 4187 §7).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ikeeap.crypto.fips186_prf import fips186_2_prf

MAC_SIZE = 16
ENCR_BLOCK = 16
KEY_SIZE = 16
SESSION_KEY_SIZE = 64


@dataclass(frozen=True)
class SimKeys:
    """The keys of one full authentication.  Never in ``repr``."""

    k_encr: bytes = field(repr=False)
    k_aut: bytes = field(repr=False)
    msk: bytes = field(repr=False)
    emsk: bytes = field(repr=False)


def master_key(identity: bytes, kcs: Sequence[bytes], nonce_mt: bytes,
               version_list: Sequence[int], selected_version: int) -> bytes:
    """MK = SHA1(Identity ‖ n*Kc ‖ NONCE_MT ‖ Version List ‖ Selected Version)."""
    versions = b"".join(struct.pack("!H", v) for v in version_list)
    data = identity + b"".join(kcs) + nonce_mt + versions + struct.pack("!H", selected_version)
    return hashlib.sha1(data).digest()


def derive_keys(mk: bytes) -> SimKeys:
    """K_encr, K_aut, MSK, EMSK from the PRF seeded with MK (full authentication)."""
    stream = fips186_2_prf(mk, 2 * KEY_SIZE + 2 * SESSION_KEY_SIZE)
    return SimKeys(
        k_encr=stream[:16], k_aut=stream[16:32], msk=stream[32:96], emsk=stream[96:160]
    )


def reauth_xkey(identity: bytes, counter: int, nonce_s: bytes, mk: bytes) -> bytes:
    """XKEY' = SHA1(Identity ‖ counter ‖ NONCE_S ‖ MK) (fast re-authentication)."""
    return hashlib.sha1(identity + struct.pack("!H", counter) + nonce_s + mk).digest()


def derive_reauth_keys(identity: bytes, counter: int, nonce_s: bytes,
                       mk: bytes) -> tuple[bytes, bytes]:
    """(MSK, EMSK) of a fast re-authentication: the start of the PRF stream from XKEY'."""
    stream = fips186_2_prf(reauth_xkey(identity, counter, nonce_s, mk), 2 * SESSION_KEY_SIZE)
    return stream[:64], stream[64:128]


def sim_mac(k_aut: bytes, packet: bytes, extra: bytes = b"") -> bytes:
    """AT_MAC value: HMAC-SHA1-128 over the EAP packet (MAC zeroed) ‖ ``extra``."""
    return hmac.new(k_aut, packet + extra, hashlib.sha1).digest()[:MAC_SIZE]


def sim_mac_ok(k_aut: bytes, packet: bytes, extra: bytes, received: bytes) -> bool:
    """Constant-time check of a received AT_MAC value."""
    return hmac.compare_digest(sim_mac(k_aut, packet, extra), received)


def encrypt_attributes(k_encr: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """AES-128-CBC without padding (AT_PADDING already made it a multiple of 16)."""
    if len(plaintext) % ENCR_BLOCK:
        raise ValueError("AT_ENCR_DATA plaintext must be a multiple of 16 octets")
    encryptor = Cipher(algorithms.AES(k_encr), modes.CBC(iv)).encryptor()
    return encryptor.update(plaintext) + encryptor.finalize()


def decrypt_attributes(k_encr: bytes, iv: bytes, ciphertext: bytes) -> bytes | None:
    """The nested attributes of AT_ENCR_DATA, or None if the lengths are wrong."""
    if not ciphertext or len(ciphertext) % ENCR_BLOCK or len(iv) != ENCR_BLOCK:
        return None
    decryptor = Cipher(algorithms.AES(k_encr), modes.CBC(iv)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()
