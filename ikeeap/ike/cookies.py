"""Stateless COOKIE challenge (RFC 7296 §2.6).

Cookie = version(4) ‖ HMAC-SHA256(secret[version], Ni ‖ IPi ‖ SPIi). Nothing is stored per
request, so answering a flood costs one HMAC per packet. The secret is replaced every
``lifetime`` seconds; the previous one is still accepted until the next rotation, so an
initiator caught by a rotation between its two requests still gets in. The cookie covers
neither the KE payload nor the proposals, so it stays valid when the same initiator has to
retry with another DH group after INVALID_KE_PAYLOAD (§2.6.1).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable

from ..wire.codec import encode_message
from ..wire.constants import ExchangeType, HeaderFlag, NotifyType
from ..wire.payloads import IkeHeader, NoncePayload, NotifyPayload, Payload

VERSION_LEN = 4
DIGEST_LEN = 32
COOKIE_LEN = VERSION_LEN + DIGEST_LEN  # §2.6: at most 64 octets


class CookieJar:
    def __init__(self, lifetime: float, random: Callable[[int], bytes] = os.urandom):
        self._lifetime = lifetime
        self._random = random
        self._version = int.from_bytes(random(4), "big")
        self._secrets = {self._version: random(32)}
        self._rotated_at: float | None = None  # the core has no clock: set on first use

    def _rotate_if_due(self, now: float) -> None:
        if self._rotated_at is None:
            self._rotated_at = now
        if now - self._rotated_at < self._lifetime:
            return
        previous = self._secrets[self._version]
        # Two lifetimes without a request: the previous secret is too old to keep.
        keep_previous = now - self._rotated_at < 2 * self._lifetime
        self._version = (self._version + 1) & 0xFFFFFFFF
        self._secrets = {self._version: self._random(32)}
        if keep_previous:
            self._secrets[(self._version - 1) & 0xFFFFFFFF] = previous
        self._rotated_at = now

    @staticmethod
    def _digest(secret: bytes, nonce: bytes, ip: str, spi_i: bytes) -> bytes:
        ip_octets = ip.encode()
        material = struct.pack("!H", len(nonce)) + nonce + bytes([len(ip_octets)]) + ip_octets
        return hmac.digest(secret, material + spi_i, hashlib.sha256)

    def make(self, nonce: bytes, ip: str, spi_i: bytes, now: float) -> bytes:
        self._rotate_if_due(now)
        secret = self._secrets[self._version]
        return struct.pack("!I", self._version) + self._digest(secret, nonce, ip, spi_i)

    def verify(self, cookie: bytes, nonce: bytes, ip: str, spi_i: bytes, now: float) -> bool:
        self._rotate_if_due(now)
        if len(cookie) != COOKIE_LEN:
            return False
        (version,) = struct.unpack_from("!I", cookie)
        secret = self._secrets.get(version)
        if secret is None:
            return False
        return hmac.compare_digest(cookie[VERSION_LEN:],
                                   self._digest(secret, nonce, ip, spi_i))


def cookie_challenge(jar: CookieJar, header: IkeHeader, payloads: list[Payload], ip: str,
                     now: float) -> bytes | None:
    """None if the request carries a valid COOKIE; else the stateless answer demanding one
    (or b"" to drop a request without a nonce, which cannot be bound to a cookie)."""
    nonce = next((p.data for p in payloads if isinstance(p, NoncePayload)), None)
    if nonce is None:
        return b""
    cookie = next((p.data for p in payloads if isinstance(p, NotifyPayload)
                   and p.notify_type == NotifyType.COOKIE), None)
    if cookie is not None and jar.verify(cookie, nonce, ip, header.spi_i, now):
        return None
    reply = IkeHeader(header.spi_i, bytes(8), 0, ExchangeType.IKE_SA_INIT,
                      HeaderFlag.RESPONSE, 0)
    fresh = jar.make(nonce, ip, header.spi_i, now)
    return encode_message(reply, [NotifyPayload(NotifyType.COOKIE, fresh)])
