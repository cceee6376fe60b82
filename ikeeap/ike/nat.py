"""NAT detection (RFC 7296 §2.23) and the UDP 4500 non-ESP marker (RFC 3948 §2.2)."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import struct

NON_ESP_MARKER = b"\x00\x00\x00\x00"


_PORT = struct.Struct("!H")


@functools.lru_cache(maxsize=4096)  # ipaddress parsing costs more than the SHA-1; peers repeat
def _packed(host: str) -> bytes:
    return ipaddress.ip_address(host).packed


def nat_hash(spi_i: bytes, spi_r: bytes, address: tuple[str, int]) -> bytes:
    """SHA-1(SPIi | SPIr | IP | Port), the NAT_DETECTION_* notify data."""
    return hashlib.sha1(spi_i + spi_r + _packed(address[0]) + _PORT.pack(address[1])).digest()
