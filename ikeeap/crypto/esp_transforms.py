"""ESP transforms: the per-packet cryptography of one ESP SA direction (RFC 4303 §2, §3.3.2,
§3.4.4), built once per SA and reused for every packet.

- AES-GCM with a 16-octet ICV (RFC 4106) and ChaCha20-Poly1305 (RFC 7634): nonce = salt(4) ‖
  IV(8), AAD = SPI ‖ Sequence Number (SPI ‖ ESN high ‖ ESN low with RFC 4304 ESN), the ICV is
  the AEAD tag. The explicit IV is a per-transform 64-bit counter: it never repeats for a key.
- AES-CBC (RFC 3602) with HMAC-SHA2-256-128/384-192/512-256 (RFC 4868) or HMAC-SHA1-96
  (RFC 2404): encrypt-then-MAC, the ICV is the truncated HMAC over SPI ‖ Sequence Number ‖ IV ‖
  ciphertext, followed by the (untransmitted) high ESN half when ESN is in use (RFC 4303
  §2.2.1).

The packet layout here is ``header ‖ IV ‖ ciphertext ‖ ICV`` with ``header`` = SPI ‖ low
Sequence Number (8 octets). Plaintext in and out is Payload Data ‖ Padding ‖ Pad Length ‖ Next
Header: the ESP core (ikeeap/esp) builds and checks the trailer, sequence numbers and the
replay window. ``seq_hi`` is the high half of the 64-bit sequence number as 4 octets when ESN
is in use, else ``b""``. Callers check lengths first (``fits``); ``open`` returns None for a
packet that fails authentication.
"""

from __future__ import annotations

import hmac as _stdlib_hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..wire.constants import EncrId, IntegId
from .transforms import UnsupportedTransform, encr_spec, esp_key_lengths, integ_spec

__all__ = [
    "AeadTransform",
    "CbcHmacTransform",
    "EspIntegrity",
    "EspTransform",
    "esp_transform",
]

_Q = struct.Struct("!Q")
_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
           "sha512": hashes.SHA512}
_RANDOM_CHUNK = 16 * 256  # CBC IV seeds drawn from os.urandom in chunks of 256
HEADER_LEN = 8  # SPI ‖ Sequence Number


class EspTransform:
    """What the ESP core needs of a transform: sizes, ``seal`` and ``open``."""

    __slots__ = ("name", "iv_len", "icv_len", "align", "overhead", "min_len")

    name: str
    iv_len: int  # explicit IV octets in every packet
    icv_len: int  # ICV octets at the end of every packet
    align: int  # the plaintext (payload ‖ padding ‖ 2) is a multiple of this
    overhead: int  # header + IV + ICV
    min_len: int  # the shortest well-formed packet

    def _sizes(self, name: str, iv_len: int, icv_len: int, align: int) -> None:
        self.name, self.iv_len, self.icv_len, self.align = name, iv_len, icv_len, align
        self.overhead = HEADER_LEN + iv_len + icv_len
        self.min_len = self.overhead + align  # at least the 2 trailer octets, aligned

    def fits(self, length: int) -> bool:
        """True when a packet of ``length`` octets has a well-formed shape for this transform:
        long enough and with an aligned ciphertext (checked before any cryptography)."""
        return length >= self.min_len and (length - self.overhead) % self.align == 0

    def seal(self, header: bytes, seq_hi: bytes, plaintext: bytes,
             iv: bytes | None = None) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def open(self, packet: bytes | bytearray | memoryview,
             seq_hi: bytes) -> bytes | memoryview | None:  # pragma: no cover - interface
        raise NotImplementedError


class AeadTransform(EspTransform):
    """AES-GCM-16 (RFC 4106) or ChaCha20-Poly1305 (RFC 7634) for one direction.

    ``keymat`` is the direction's encryption keymat: key ‖ 4-octet salt (RFC 7296 §2.17,
    RFC 4106 §8.1, RFC 7634 §2).
    """

    __slots__ = ("_aead", "_salt", "_iv")

    def __init__(self, encr_id: int, key_bits: int | None, keymat: bytes) -> None:
        spec = encr_spec(encr_id, key_bits)
        if not spec.aead:
            raise UnsupportedTransform(f"ENCR {encr_id} is not an AEAD cipher")
        if spec.icv_len != 16:
            raise UnsupportedTransform(f"ENCR {encr_id}: only the 16-octet ICV is provided")
        if len(keymat) != spec.keymat_len:
            raise ValueError(f"ESP keymat for ENCR {encr_id} must be {spec.keymat_len} octets")
        key, self._salt = bytes(keymat[:spec.key_len]), bytes(keymat[spec.key_len:])
        if encr_id == EncrId.CHACHA20_POLY1305:
            self._aead: AESGCM | ChaCha20Poly1305 = ChaCha20Poly1305(key)
            name = "chacha20poly1305"
        else:
            self._aead = AESGCM(key)
            name = f"aes{spec.key_bits}gcm16"
        self._sizes(name, 8, 16, 4)  # RFC 4303 §2.4: 4-octet alignment for stream-like modes
        self._iv = 1  # the next explicit IV, a counter (RFC 4106 §3.1, RFC 7634 §2)

    def seal(self, header: bytes, seq_hi: bytes, plaintext: bytes,
             iv: bytes | None = None) -> bytes:
        """``header ‖ IV ‖ ciphertext ‖ tag``. ``iv`` is for known-answer tests only."""
        if iv is None:
            n = self._iv
            self._iv = n + 1
            iv = _Q.pack(n)  # raises past 2**64 - 1: an IV is never repeated
        aad = header[:4] + seq_hi + header[4:8] if seq_hi else header
        return header + iv + self._aead.encrypt(self._salt + iv, plaintext, aad)

    def open(self, packet: bytes | bytearray | memoryview, seq_hi: bytes) -> bytes | None:
        if type(packet) is not bytes:
            packet = bytes(packet)
        aad = packet[:4] + seq_hi + packet[4:8] if seq_hi else packet[:8]
        try:
            return self._aead.decrypt(self._salt + packet[8:16], packet[16:], aad)
        except InvalidTag:
            return None


class EspIntegrity:
    """A truncated HMAC ICV (RFC 4868 §2.1, RFC 2404) with the keyed state built once."""

    __slots__ = ("_mac", "icv_len")

    def __init__(self, integ_id: int, key: bytes) -> None:
        spec = integ_spec(integ_id)
        if len(key) != spec.key_len:
            raise ValueError(f"INTEG {integ_id} key must be {spec.key_len} octets")
        self._mac = _hmac.HMAC(bytes(key), _HASHES[spec.hash_name]())
        self.icv_len = spec.icv_len

    def icv(self, *parts: bytes | bytearray | memoryview) -> bytes:
        mac = self._mac.copy()
        for part in parts:
            mac.update(part)
        return mac.finalize()[:self.icv_len]


class CbcHmacTransform(EspTransform):
    """AES-CBC (RFC 3602) with an HMAC ICV for one direction.

    The OpenSSL CBC contexts stay open across packets (a new context costs far more than a
    1,400-octet packet). Encryption feeds a fresh random block R first: its ciphertext
    E(R ⊕ previous block) is uniformly random to anyone without the key and serves as this
    packet's IV, so the IV is unpredictable (RFC 3602 §2.1) and comes out of the same call.
    Decryption feeds IV ‖ ciphertext and drops the first output block.
    """

    __slots__ = ("_key", "_enc", "_dec", "_integ", "_random", "_random_pos")

    def __init__(self, key_bits: int, encr_key: bytes, integ_id: int, integ_key: bytes) -> None:
        spec = encr_spec(EncrId.AES_CBC, key_bits)
        if len(encr_key) != spec.key_len:
            raise ValueError(f"AES-CBC-{key_bits} key must be {spec.key_len} octets")
        self._key = bytes(encr_key)
        cipher = Cipher(algorithms.AES(self._key), modes.CBC(bytes(16)))
        self._enc = cipher.encryptor()
        self._dec = cipher.decryptor()
        self._integ = EspIntegrity(integ_id, integ_key)
        self._random, self._random_pos = b"", _RANDOM_CHUNK
        integ_name = {IntegId.HMAC_SHA1_96: "sha1", IntegId.HMAC_SHA2_256_128: "sha256",
                      IntegId.HMAC_SHA2_384_192: "sha384",
                      IntegId.HMAC_SHA2_512_256: "sha512"}[integ_id]
        self._sizes(f"aes{key_bits}-{integ_name}", 16, self._integ.icv_len, 16)

    def _seed(self) -> bytes:
        pos = self._random_pos
        if pos >= _RANDOM_CHUNK:
            self._random, pos = os.urandom(_RANDOM_CHUNK), 0
        self._random_pos = pos + 16
        return self._random[pos:pos + 16]

    def seal(self, header: bytes, seq_hi: bytes, plaintext: bytes,
             iv: bytes | None = None) -> bytes:
        """``header ‖ IV ‖ ciphertext ‖ ICV``; ``plaintext`` is a multiple of 16 octets.
        ``iv`` is for known-answer tests only (a one-off CBC context)."""
        if len(plaintext) & 15:
            raise ValueError("CBC plaintext must be a multiple of the block size")
        if iv is None:
            out = header + self._enc.update(self._seed() + plaintext)
        else:
            one_off = Cipher(algorithms.AES(self._key), modes.CBC(iv)).encryptor()
            out = header + iv + one_off.update(plaintext)
        if seq_hi:
            return out + self._integ.icv(out, seq_hi)
        return out + self._integ.icv(out)

    def open(self, packet: bytes | bytearray | memoryview, seq_hi: bytes) -> memoryview | None:
        mv = memoryview(packet)
        end = len(mv) - self._integ.icv_len
        if end < 40 or (end - 8) & 15:
            return None  # the caller checks fits(); never desynchronise the CBC context
        icv = self._integ.icv(mv[:end], seq_hi) if seq_hi else self._integ.icv(mv[:end])
        if not _stdlib_hmac.compare_digest(icv, mv[end:]):
            return None
        return memoryview(self._dec.update(mv[8:end]))[16:]


def esp_transform(encr: int, encr_key_bits: int | None, integ: int, encr_keymat: bytes,
                  integ_key: bytes = b"") -> EspTransform:
    """The transform for one direction from the negotiated ids and that direction's keys."""
    e_len, a_len = esp_key_lengths(encr, encr_key_bits, integ)
    if len(encr_keymat) != e_len or len(integ_key) != a_len:
        raise ValueError("ESP key lengths do not match the transforms")
    if encr_spec(encr, encr_key_bits).aead:
        return AeadTransform(encr, encr_key_bits, encr_keymat)
    if encr != EncrId.AES_CBC:
        raise UnsupportedTransform(f"ENCR {encr} for ESP")
    return CbcHmacTransform(int(encr_key_bits or 0), encr_keymat, integ, integ_key)
