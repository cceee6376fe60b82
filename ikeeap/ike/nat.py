"""NAT detection (RFC 7296 §2.23) and the UDP 4500 non-ESP marker (RFC 3948 §2.2)."""

from __future__ import annotations

import hashlib
import ipaddress
import struct

NON_ESP_MARKER = b"\x00\x00\x00\x00"


def nat_hash(spi_i: bytes, spi_r: bytes, address: tuple[str, int]) -> bytes:
    """SHA-1(SPIi | SPIr | IP | Port), the NAT_DETECTION_* notify data."""
    ip = ipaddress.ip_address(address[0]).packed
    return hashlib.sha1(spi_i + spi_r + ip + struct.pack("!H", address[1])).digest()
