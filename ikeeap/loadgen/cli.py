"""``python -m ikeeap.loadgen`` / ``ikeeap bench``: many concurrent IKEv2 EAP logins over UDP.

    python -m ikeeap.loadgen --host 127.0.0.1 --total 2000 --concurrency 100 \\
        --users 'user{n}:pw{n}' --user-count 100 --method mschapv2 --ca state/ca.pem

Prints a progress line every second and a summary (SAs/s, p50/p95/p99 per login and per
exchange, failures, retransmits); ``--json FILE`` also writes the summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..initiator.config import InitiatorConfig
from .driver import LoadPlan
from .udp import Target, UdpLoadRunner

METHODS = ("mschapv2", "md5", "gtc", "psk")


def add_arguments(p: argparse.ArgumentParser) -> None:
    t = p.add_argument_group("target")
    t.add_argument("--host", default="127.0.0.1", help="responder address (loopback or a "
                   "namespace you created)")
    t.add_argument("--port", type=int, default=500)
    t.add_argument("--nat-port", type=int, default=4500)
    t.add_argument("--bind", default="127.0.0.1", help="source address of the generator")
    t.add_argument("--sockets", type=int, default=8, help="source UDP ports to spread over")
    load = p.add_argument_group("load")
    load.add_argument("--total", type=int, default=1000, help="logins to start")
    load.add_argument("--concurrency", type=int, default=50, help="logins in flight at most")
    load.add_argument("--rate", type=float, default=0.0, help="logins started per second "
                      "(0: as fast as the concurrency allows)")
    load.add_argument("--duration", type=float, default=120.0, help="hard stop, seconds")
    load.add_argument("--keep", action="store_true", help="leave established SAs up (no "
                      "Delete): memory measurements")
    who = p.add_argument_group("logins")
    who.add_argument("--method", choices=METHODS, default="mschapv2")
    who.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    who.add_argument("--users", metavar="PATTERN", help="e.g. 'user{n}:pw{n}' with "
                     "--user-count; {n} runs from 1")
    who.add_argument("--user-count", type=int, default=1)
    who.add_argument("--psk", help="pre-shared key (--method psk); the identity is the user")
    who.add_argument("--ike-proposal", action="append", default=[],
                     help="strongSwan syntax, repeatable (default aes256gcm16-prfsha256-ecp256)")
    who.add_argument("--esp-proposal", action="append", default=[])
    who.add_argument("--no-child", action="store_true", help="childless IKE SA (RFC 6023)")
    who.add_argument("--no-vip", action="store_true", help="do not ask for a virtual IP")
    who.add_argument("--nat-t", action="store_true", help="float IKE_AUTH to the NAT-T port")
    who.add_argument("--ca", type=Path, help="CA certificate (PEM/DER) the responder's "
                     "certificate must chain to")
    who.add_argument("--remote-id", help="expected responder identity")
    who.add_argument("--retransmit-timeout", type=float, default=2.0)
    who.add_argument("--retransmit-tries", type=int, default=3)
    out = p.add_argument_group("output")
    out.add_argument("--progress", type=float, default=1.0, help="seconds between lines")
    out.add_argument("--json", type=Path, help="write the summary here as JSON")
    out.add_argument("--cpu", type=int, help="pin the generator to this CPU")


def users_from(args: argparse.Namespace) -> list[tuple[str, str]]:
    users = [tuple(u.split(":", 1)) if ":" in u else (u, "") for u in args.user]
    if args.users:
        name, _, password = args.users.partition(":")
        users += [(name.format(n=n), password.format(n=n))
                  for n in range(1, args.user_count + 1)]
    return [(u[0], u[1]) for u in users] or [("alice", "secret")]


def configs_from(args: argparse.Namespace) -> list[InitiatorConfig]:
    """One frozen InitiatorConfig per user (the driver uses them round robin)."""
    ca = args.ca.read_bytes() if args.ca else None
    common: dict[str, Any] = {
        "ike_proposals": tuple(args.ike_proposal) or ("aes256gcm16-prfsha256-ecp256",),
        "esp_proposals": tuple(args.esp_proposal) or ("aes256gcm16",),
        "child_sa": not args.no_child, "request_virtual_ip": not args.no_vip,
        "nat_t": args.nat_t, "ca_certificate": ca, "remote_identity": args.remote_id,
        "retransmit_timeout": args.retransmit_timeout,
        "retransmit_tries": args.retransmit_tries,
    }
    if args.method == "psk":
        if not args.psk:
            raise SystemExit("--method psk needs --psk")
        return [InitiatorConfig(identity=u, psk=args.psk, **common)
                for u, _ in users_from(args)]
    return [InitiatorConfig(identity=u, password=pw, eap_methods=(args.method,), **common)
            for u, pw in users_from(args)]


def run(args: argparse.Namespace) -> int:
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    plan = LoadPlan(total=args.total, concurrency=args.concurrency, rate=args.rate,
                    duration=args.duration, keep=args.keep)
    target = Target(args.host, args.port, args.nat_port, args.bind, args.sockets)
    progress = (lambda line: print(line, flush=True)) if args.progress > 0 else None
    runner = UdpLoadRunner(target, plan, configs_from(args), progress=progress,
                           progress_interval=args.progress or 1.0)
    try:
        summary = runner.run()
    finally:
        runner.close()
    print("\n".join(summary.lines()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(summary.as_dict(), indent=1))
    return 0 if summary.established and not summary.failed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ikeeap.loadgen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
