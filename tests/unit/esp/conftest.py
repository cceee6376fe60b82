"""Fixtures for the ESP core tests: a Child SA pair on both sides and inner packet builders."""

from __future__ import annotations

import ipaddress
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ikeeap.crypto.transforms import child_keymat_length
from ikeeap.esp import EspChild, initiator_child, responder_child

SPI_R = bytes.fromhex("c0ffee01")  # the responder's inbound SPI
SPI_I = bytes.fromhex("0badf00d")  # the initiator's inbound SPI
VIP = "10.10.0.5"


@dataclass(frozen=True)
class Params:
    """The fields of ChildSaEstablished / ChildResult the ESP core reads."""

    sa_id: str
    spi_in: bytes
    spi_out: bytes
    encr: int
    encr_key_bits: int
    integ: int
    keymat: bytes
    ts_i: tuple[str, ...]
    ts_r: tuple[str, ...]
    esn: int = 0
    udp_encap: bool = False


@pytest.fixture
def make_pair() -> Callable[..., tuple[EspChild, EspChild]]:
    """(responder child, initiator child) sharing one random KEYMAT."""

    def build(encr: int = 20, bits: int = 256, integ: int = 0, *, esn: int = 0,
              ts_i: tuple[str, ...] = (f"{VIP}/32",), ts_r: tuple[str, ...] = ("0.0.0.0/0",),
              spi_r: bytes = SPI_R, spi_i: bytes = SPI_I,
              **kwargs: Any) -> tuple[EspChild, EspChild]:
        keymat = os.urandom(child_keymat_length(encr, bits, integ))
        r = Params("ike-1", spi_r, spi_i, encr, bits, integ, keymat, ts_i, ts_r, esn)
        i = Params("ike-1", spi_i, spi_r, encr, bits, integ, keymat, ts_i, ts_r, esn)
        return responder_child(r, **kwargs), initiator_child(i, sa_id="ike-1", **kwargs)

    return build


def _ipv4(src: str, dst: str, payload: bytes, protocol: int) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0, 64, protocol,
                         0, ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return header + payload


@pytest.fixture
def ipv4() -> Callable[..., bytes]:
    """ipv4(src, dst, size=100, protocol=17, ports=(1234, 53)): an IPv4 packet."""

    def build(src: str = VIP, dst: str = "192.0.2.7", size: int = 100, protocol: int = 17,
              ports: tuple[int, int] = (1234, 53)) -> bytes:
        body = struct.pack("!HH", *ports) + bytes(range(256)) * (size // 256 + 1)
        return _ipv4(src, dst, body[:max(size, 4)], protocol)

    return build


@pytest.fixture
def ipv6() -> Callable[..., bytes]:
    """ipv6(src, dst, size=60, next_header=17, ports=(1234, 53), extensions=b"")."""

    def build(src: str = "2001:db8::5", dst: str = "2001:db8:1::7", size: int = 60,
              next_header: int = 17, ports: tuple[int, int] = (1234, 53),
              extensions: bytes = b"", first_header: int | None = None) -> bytes:
        body = extensions + struct.pack("!HH", *ports) + bytes(size)
        header = struct.pack("!IHBB16s16s", 6 << 28, len(body),
                             next_header if first_header is None else first_header, 64,
                             ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed)
        return header + body

    return build
