"""The Encrypted (SK) payload, RFC 7296 §3.14, with AES-GCM (RFC 5282) and ChaCha20-Poly1305
(RFC 7634).

A message protected by SK is ``prefix ‖ IV ‖ ciphertext ‖ ICV`` where ``prefix`` runs from the
start of the IKE header to the end of the SK (or SKF, RFC 7383) generic payload header. For
CBC the ICV is HMAC over ``prefix ‖ IV ‖ ciphertext``; for AEAD ``prefix`` is the AAD and the
nonce is salt(4) ‖ IV(8). ``seal_after``/``open_after`` work on any prefix so that SKF can
reuse them; ``seal``/``open`` handle the plain SK case.
"""

from __future__ import annotations

import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..wire.constants import EncrId, PayloadType
from ..wire.payloads import IkeHeader
from .transforms import IkeSuite

HEADER_LEN = 28
SK_HEADER_LEN = 4
_HEADER = struct.Struct("!8s8sBBBBII")
_GENERIC = struct.Struct("!BBH")


class IntegrityError(Exception):
    """An SK payload failed authentication or is malformed (bad ICV, padding, length)."""


def pack_header(header: IkeHeader, length: int, next_payload: int | None = None) -> bytes:
    """The 28-octet IKE header with ``length`` (and optionally ``next_payload``) filled in."""
    return _HEADER.pack(
        header.spi_i,
        header.spi_r,
        header.next_payload if next_payload is None else next_payload,
        header.version,
        header.exchange,
        header.flags,
        header.message_id,
        length,
    )


def _xor16(a: bytes, b: bytes, c: bytes) -> bytes:
    n = int.from_bytes(a, "big") ^ int.from_bytes(b, "big") ^ int.from_bytes(c, "big")
    return n.to_bytes(16, "big")


class SkCipher:
    """Protects messages in one direction with one (SK_e, SK_a) pair. Not thread-safe.

    For CBC the OpenSSL contexts are kept open across messages (creating one costs ~20 µs):
    encryption folds the fresh random IV into the first block; decryption feeds IV ‖ C and
    drops the first output block.
    """

    __slots__ = (
        "_aead",
        "_aead_key",
        "_block",
        "_counter",
        "_dec",
        "_enc",
        "_enc_state",
        "_integ_hash",
        "_integ_key",
        "_salt",
        "aead",
        "icv_len",
        "iv_len",
    )

    def __init__(self, suite: IkeSuite, encr_key: bytes, integ_key: bytes) -> None:
        spec = suite.encr_spec
        if len(encr_key) != spec.keymat_len:
            raise ValueError(f"encryption key must be {spec.keymat_len} octets")
        self.aead = spec.aead
        self.iv_len = spec.iv_len
        self._block = spec.block_len
        if spec.aead:
            key, self._salt = encr_key[: spec.key_len], encr_key[spec.key_len :]
            cls = ChaCha20Poly1305 if spec.id == EncrId.CHACHA20_POLY1305 else AESGCM
            self._aead: AESGCM | ChaCha20Poly1305 | None = cls(key)
            self._aead_key = (cls, key)
            self.icv_len = spec.icv_len
            self._counter = int.from_bytes(os.urandom(8), "big")
            return
        integ = suite.integ_spec
        if integ is None:
            raise ValueError("a CBC suite needs an INTEG transform")
        if len(integ_key) != integ.key_len:
            raise ValueError(f"integrity key must be {integ.key_len} octets")
        self.icv_len = integ.icv_len
        self._integ_key = integ_key
        self._integ_hash = integ.hash_name
        self._enc_state = os.urandom(16)
        aes = algorithms.AES(encr_key)
        self._enc = Cipher(aes, modes.CBC(self._enc_state)).encryptor()
        self._dec = Cipher(aes, modes.CBC(bytes(16))).decryptor()

    def park(self) -> None:
        """Free the AEAD context (OpenSSL state, kilobytes) of an idle SA; the next seal or
        open rebuilds it from the key.  CBC suites keep theirs."""
        if self.aead:
            self._aead = None

    def _revive(self) -> AESGCM | ChaCha20Poly1305:
        cls, key = self._aead_key
        self._aead = aead = cls(key)
        return aead

    def sealed_length(self, plaintext_len: int) -> int:
        """Length of IV ‖ ciphertext ‖ ICV for ``plaintext_len`` octets of inner payloads."""
        b = self._block
        padded = plaintext_len + 1 + (-(plaintext_len + 1)) % b
        return self.iv_len + padded + self.icv_len

    def seal_after(self, prefix: bytes, plaintext: bytes, iv: bytes | None = None) -> bytes:
        """``prefix ‖ IV ‖ ciphertext ‖ ICV``; ``prefix`` must already carry the final lengths.

        ``iv`` is for known-answer tests only (it must never repeat under one key).
        """
        if iv is not None and len(iv) != self.iv_len:
            raise ValueError(f"IV must be {self.iv_len} octets")
        pad = (-(len(plaintext) + 1)) % self._block
        padded = plaintext + bytes(pad) + bytes((pad,))
        if self.aead:
            if iv is None:
                iv = self._counter.to_bytes(8, "big")
                self._counter = (self._counter + 1) & 0xFFFFFFFFFFFFFFFF
            aead = self._aead or self._revive()
            return prefix + iv + aead.encrypt(self._salt + iv, padded, prefix)
        if iv is None:
            iv = os.urandom(16)
        first = _xor16(padded[:16], iv, self._enc_state)
        ct = self._enc.update(first + padded[16:])
        self._enc_state = ct[-16:]
        data = prefix + iv + ct
        return data + hmac.digest(self._integ_key, data, self._integ_hash)[: self.icv_len]

    def seal(self, header: IkeHeader, first_payload: int, plaintext: bytes) -> bytes:
        """The whole message: IKE header (next payload SK, length set) ‖ SK payload."""
        sk_len = SK_HEADER_LEN + self.sealed_length(len(plaintext))
        prefix = pack_header(header, HEADER_LEN + sk_len, PayloadType.SK) + _GENERIC.pack(
            first_payload, 0, sk_len
        )
        return self.seal_after(prefix, plaintext)

    def open_after(self, message: bytes, body_offset: int) -> bytes:
        """Verify and decrypt ``message[body_offset:]`` (IV ‖ C ‖ ICV) with
        ``message[:body_offset]`` as the authenticated prefix; returns the inner payloads."""
        mv = memoryview(message)
        end = len(message) - self.icv_len
        ct_start = body_offset + self.iv_len
        ct_len = end - ct_start
        if body_offset < 0 or ct_len < 1 or ct_len % self._block:
            raise IntegrityError("encrypted payload has a bad length")
        iv = message[body_offset:ct_start]
        if self.aead:
            try:
                pt = (self._aead or self._revive()).decrypt(self._salt + iv, mv[ct_start:], mv[:body_offset])
            except InvalidTag:
                raise IntegrityError("ICV mismatch") from None
        else:
            icv = hmac.digest(self._integ_key, mv[:end], self._integ_hash)[: self.icv_len]
            if not hmac.compare_digest(icv, mv[end:]):
                raise IntegrityError("ICV mismatch")
            pt = self._dec.update(iv + message[ct_start:end])[16:]
        pad = pt[-1]
        if pad >= len(pt):
            raise IntegrityError("bad padding")
        return pt[: len(pt) - pad - 1]

    def open(self, message: bytes, sk_offset: int) -> bytes:
        """Verify and decrypt the SK payload whose generic header starts at ``sk_offset``."""
        if sk_offset < HEADER_LEN or sk_offset + SK_HEADER_LEN > len(message):
            raise IntegrityError("SK payload offset out of range")
        (sk_len,) = struct.unpack_from("!H", message, sk_offset + 2)
        if sk_len != len(message) - sk_offset:
            raise IntegrityError("SK payload length does not reach the end of the message")
        return self.open_after(message, sk_offset + SK_HEADER_LEN)
