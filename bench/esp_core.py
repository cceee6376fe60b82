"""Packets per second of the sans-I/O ESP core (ikeeap.esp) on one core, no sockets, no TUN.

    python bench/esp_core.py [--size 1400] [--packets 200000] [--suites aes256gcm16,aes128-sha256]

For each suite: an initiator-side OutboundSa seals inner IPv4 packets of ``--size`` octets
and the responder-side InboundSa opens them (replay window, ICV, padding, next header, inner
length and selector checks included), as the data plane does per packet. Reports seal alone,
open alone and seal + open (one packet through both ends) as packets/s and MB/s of inner
data; the best of ``--repeat`` runs. This bounds what the userspace data plane can reach per
core before TUN and socket costs.
"""

from __future__ import annotations

import argparse
import os
import platform
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ikeeap.crypto.transforms import child_keymat_length  # noqa: E402
from ikeeap.esp import initiator_child, responder_child  # noqa: E402

SUITES = {  # name: (encr, key bits, integ)
    "aes256gcm16": (20, 256, 0),
    "aes128gcm16": (20, 128, 0),
    "chacha20poly1305": (28, 256, 0),
    "aes128-sha256": (12, 128, 12),
    "aes256-sha256": (12, 256, 12),
    "aes128-sha1": (12, 128, 2),
}


class _Params:
    def __init__(self, spi_in, spi_out, encr, bits, integ, keymat):
        self.sa_id, self.spi_in, self.spi_out = "bench", spi_in, spi_out
        self.encr, self.encr_key_bits, self.integ, self.keymat = encr, bits, integ, keymat
        self.ts_i, self.ts_r, self.esn, self.udp_encap = ("10.64.0.5/32",), ("0.0.0.0/0",), 0, True


def _pair(suite: str):
    encr, bits, integ = SUITES[suite]
    keymat = os.urandom(child_keymat_length(encr, bits, integ))
    r = responder_child(_Params(b"\xc0\x00\x00\x01", b"\xc0\x00\x00\x02", encr, bits, integ,
                                keymat))
    i = initiator_child(_Params(b"\xc0\x00\x00\x02", b"\xc0\x00\x00\x01", encr, bits, integ,
                                keymat))
    return r, i


def _inner(size: int) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size, 0, 0x4000, 64, 17, 0,
                         bytes([10, 64, 0, 5]), bytes([192, 0, 2, 7]))
    return header + os.urandom(size - 20)


def _best(fn, repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def run(suite: str, size: int, packets: int, repeat: int) -> dict[str, float]:
    inner = _inner(size)

    def seal_only() -> float:
        _r, i = _pair(suite)
        seal = i.outbound.seal
        t0 = time.perf_counter()
        for _ in range(packets):
            seal(inner)
        return time.perf_counter() - t0

    def open_only() -> float:
        # sealed in batches of 256 outside the timing, so that the packets are in the cache
        # as freshly received ones would be
        r, i = _pair(suite)
        seal, opener = i.outbound.seal, r.inbound.open
        elapsed = 0.0
        for _ in range(packets // 256):
            batch = [seal(inner) for _ in range(256)]
            t0 = time.perf_counter()
            for esp in batch:
                opener(esp)
            elapsed += time.perf_counter() - t0
        assert r.inbound.packets == packets // 256 * 256, r.inbound.counters()
        return elapsed * packets / (packets // 256 * 256)

    def both() -> float:
        r, i = _pair(suite)
        seal, opener = i.outbound.seal, r.inbound.open
        t0 = time.perf_counter()
        for _ in range(packets):
            opener(seal(inner))
        elapsed = time.perf_counter() - t0
        assert r.inbound.packets == packets, r.inbound.counters()
        return elapsed

    return {name: packets / _best(fn, repeat)
            for name, fn in (("seal", seal_only), ("open", open_only), ("seal+open", both))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1400, help="inner IPv4 packet octets")
    ap.add_argument("--packets", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--suites", default="aes256gcm16,aes128-sha256")
    args = ap.parse_args()
    print(f"# ESP core, {args.size}-octet inner packets, one core; Python "
          f"{platform.python_version()} on {platform.machine()}")
    print(f"{'suite':18} {'op':10} {'packets/s':>12} {'MB/s':>9} {'us/packet':>10}")
    for suite in args.suites.split(","):
        for op, pps in run(suite, args.size, args.packets, args.repeat).items():
            print(f"{suite:18} {op:10} {pps:12,.0f} {pps * args.size / 1e6:9.1f} "
                  f"{1e6 / pps:10.2f}")


if __name__ == "__main__":
    main()
