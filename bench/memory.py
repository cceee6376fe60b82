"""Bytes per established IKE SA held by one sans-I/O Responder (in-process, no sockets).

    python bench/memory.py [--sas 100000] [--method mschapv2] [--child]

The generator forgets each initiator once its SA is up (``LoadPlan(keep=True)``), so what
the process holds afterwards is the responder's state.  Reports RSS growth per SA and
tracemalloc's top allocation sites for a small sample (``--trace N``).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import common
from profile_logins import build

from ikeeap.ike.responder import Responder
from ikeeap.ike.sa import SaState
from ikeeap.loadgen.driver import LoadDriver, LoadPlan
from ikeeap.loadgen.inmemory import pump


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * common.PAGE


def establish(count: int, method: str, child: bool) -> tuple[Responder, float]:
    settings, configs = build(method, "ecdsa")
    if not child:
        from dataclasses import replace
        configs = [replace(c, child_sa=False) for c in configs]
    responder = Responder(settings)
    plan = LoadPlan(total=count, concurrency=200, keep=True, duration=1e9)
    driver = LoadDriver(plan, configs, [("198.51.100.2", 500 + n) for n in range(64)],
                        ("198.51.100.1", 500), 0.0)
    t0 = time.perf_counter()
    pump(driver, responder)
    assert driver.stats.established == count, driver.stats.summary(1.0).lines()
    return responder, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sas", type=int, default=100_000)
    p.add_argument("--method", default="mschapv2")
    p.add_argument("--child", action="store_true")
    p.add_argument("--trace", type=int, default=2000)
    args = p.parse_args()
    if args.trace:
        tracemalloc.start(1)
        responder, _ = establish(args.trace, args.method, args.child)
        gc.collect()
        snap = tracemalloc.take_snapshot()
        total = sum(s.size for s in snap.statistics("filename"))
        print(f"tracemalloc: {total / args.trace:.0f} B per SA in {args.trace} SAs; top sites:")
        for stat in snap.statistics("lineno")[:15]:
            print(f"  {stat.size / args.trace:8.0f} B/SA  {stat.traceback}")
        tracemalloc.stop()
        del responder, snap
        gc.collect()
    establish(300, args.method, args.child)  # warm-up: imports, caches, allocator pools
    gc.collect()
    base = rss()
    responder, took = establish(args.sas, args.method, args.child)
    gc.collect()
    grown = rss() - base
    up = responder.count(SaState.ESTABLISHED)
    print(f"{up} established IKE SAs in one Responder ({took:.0f} s to set up): RSS grew "
          f"{grown / 2**20:.1f} MiB = {grown / up:.0f} bytes per SA")


if __name__ == "__main__":
    main()
