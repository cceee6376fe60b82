"""Sends spoofed-source IKE_SA_INIT requests with a raw socket (run inside a test namespace).

    python flood_sender.py DST TEMPLATE_FILE COUNT RATE

Each request is the template with a fresh initiator SPI, from 10.x.y.z (a new address for
every request), paced at RATE per second. Prints how many were sent.
"""

from __future__ import annotations

import socket
import struct
import sys
import time


def _ipv4_udp(src: str, dst: str, sport: int, payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", sport, 500, 8 + len(payload), 0) + payload  # no UDP checksum
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP,
                         0, socket.inet_aton(src), socket.inet_aton(dst))
    return header + udp  # the kernel fills in the IP checksum


def main() -> None:
    dst, template_path, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    with open(template_path, "rb") as f:
        template = f.read()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    started = time.monotonic()
    for i in range(count):
        n = i + 1
        src = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        data = n.to_bytes(8, "big") + template[8:]
        sock.sendto(_ipv4_udp(src, dst, 1024 + n % 60000, data), (dst, 0))
        ahead = (i + 1) / rate - (time.monotonic() - started)
        if ahead > 0.005:
            time.sleep(ahead)
    print(f"sent {count} in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
