"""A hostile RADIUS server for tests: answers every Access-Request with an Access-Accept
carrying EAP-Success and a *valid* Response Authenticator, but a missing or forged
Message-Authenticator (the BlastRADIUS shape).  A client that does not insist on a valid
Message-Authenticator on every reply would let the login through.

    python -m tests.interop.hostile_radius --port N --secret S --mode missing|forged
"""

from __future__ import annotations

import argparse
import hashlib
import socket
import struct
import sys

EAP_MESSAGE, MESSAGE_AUTHENTICATOR = 79, 80


def forge_accept(request: bytes, secret: bytes, mode: str) -> bytes:
    identifier, authenticator = request[1], request[4:20]
    eap_success = bytes([3, 0, 0, 4])
    attrs = bytes([EAP_MESSAGE, 2 + len(eap_success)]) + eap_success
    if mode == "forged":
        attrs = bytes([MESSAGE_AUTHENTICATOR, 18]) + b"\xa5" * 16 + attrs
    header = struct.pack("!BBH", 2, identifier, 20 + len(attrs))
    response_auth = hashlib.md5(header + authenticator + attrs + secret).digest()
    return header + response_auth + attrs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--mode", choices=["missing", "forged"], default="missing")
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.address, args.port))
    print(f"hostile RADIUS on {args.address}:{args.port} ({args.mode})", flush=True)
    while True:
        data, peer = sock.recvfrom(4096)
        if len(data) >= 20 and data[0] == 1:
            sock.sendto(forge_accept(data, args.secret.encode(), args.mode), peer)
            print(f"answered {peer} id {data[1]}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
