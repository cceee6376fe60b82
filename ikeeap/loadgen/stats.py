"""Counters and latency percentiles of a load run (pure: no clock, no I/O).

    stats = RunStats(started=0.0)
    stats.exchange_done("IKE_SA_INIT", 0.004)
    stats.login_done(0.021)
    stats.summary(now=1.0).lines()
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an already sorted list; nan when empty."""
    if not sorted_values:
        return math.nan
    rank = math.ceil(p / 100.0 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


class Latencies:
    """Samples of one kind (seconds); sorted lazily, only when percentiles are read."""

    __slots__ = ("_sorted", "_values")

    def __init__(self) -> None:
        self._values: list[float] = []
        self._sorted = True

    def add(self, seconds: float) -> None:
        if self._values and seconds < self._values[-1]:
            self._sorted = False
        self._values.append(seconds)

    def __len__(self) -> int:
        return len(self._values)

    def percentiles(self, *ps: float) -> tuple[float, ...]:
        if not self._sorted:
            self._values.sort()
            self._sorted = True
        return tuple(percentile(self._values, p) for p in ps)


@dataclass(frozen=True)
class Summary:
    """What a run achieved up to ``elapsed`` seconds."""

    elapsed: float
    started: int
    established: int
    failed: int
    in_flight: int
    retransmits: int
    rate: float  # established per second over the whole run
    login: tuple[float, float, float]  # p50, p95, p99 seconds
    exchanges: dict[str, tuple[int, float, float, float]]  # name -> (n, p50, p95, p99)
    failures: dict[str, int]

    def progress_line(self) -> str:
        p50, _, p99 = self.login
        return (f"[{self.elapsed:7.1f}s] started {self.started} established {self.established}"
                f" failed {self.failed} in-flight {self.in_flight} retransmits {self.retransmits}"
                f" | {self.rate:8.1f} SAs/s | login p50 {_ms(p50)} p99 {_ms(p99)}")

    def lines(self) -> list[str]:
        p50, p95, p99 = self.login
        out = [
            f"elapsed            {self.elapsed:.2f} s",
            f"logins started     {self.started}",
            f"established        {self.established}",
            f"failed             {self.failed}",
            f"retransmits        {self.retransmits}",
            f"established SAs/s  {self.rate:.1f}",
            f"login latency      p50 {_ms(p50)}  p95 {_ms(p95)}  p99 {_ms(p99)}",
        ]
        for name, (n, e50, e95, e99) in sorted(self.exchanges.items()):
            out.append(f"  {name:<16} n={n:<7} p50 {_ms(e50)}  p95 {_ms(e95)}  p99 {_ms(e99)}")
        for reason, n in sorted(self.failures.items(), key=lambda kv: -kv[1]):
            out.append(f"  failure x{n}: {reason}")
        return out

    def as_dict(self) -> dict:
        """Machine-readable form (bench/compare.py reads it as JSON)."""
        return {
            "elapsed": self.elapsed, "started": self.started, "established": self.established,
            "failed": self.failed, "retransmits": self.retransmits, "rate": self.rate,
            "login_p50": self.login[0], "login_p95": self.login[1], "login_p99": self.login[2],
            "exchanges": {k: list(v) for k, v in self.exchanges.items()},
            "failures": dict(self.failures),
        }


def _ms(seconds: float) -> str:
    return "   n/a  " if math.isnan(seconds) else f"{seconds * 1000:7.1f}ms"


@dataclass
class RunStats:
    started_at: float
    started: int = 0
    established: int = 0
    failed: int = 0
    retransmits: int = 0
    login: Latencies = field(default_factory=Latencies)
    exchanges: dict[str, Latencies] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)

    def login_started(self) -> None:
        self.started += 1

    def exchange_done(self, name: str, seconds: float) -> None:
        lat = self.exchanges.get(name)
        if lat is None:
            lat = self.exchanges[name] = Latencies()
        lat.add(seconds)

    def login_done(self, seconds: float) -> None:
        self.established += 1
        self.login.add(seconds)

    def login_failed(self, reason: str) -> None:
        self.failed += 1
        self.failures[reason] += 1

    def summary(self, now: float) -> Summary:
        elapsed = max(now - self.started_at, 1e-9)
        exchanges: dict[str, tuple[int, float, float, float]] = {}
        for name, lat in self.exchanges.items():
            e50, e95, e99 = lat.percentiles(50, 95, 99)
            exchanges[name] = (len(lat), e50, e95, e99)
        p50, p95, p99 = self.login.percentiles(50, 95, 99)
        return Summary(elapsed, self.started, self.established, self.failed,
                       self.started - self.established - self.failed, self.retransmits,
                       self.established / elapsed, (p50, p95, p99), exchanges,
                       dict(self.failures))
