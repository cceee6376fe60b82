"""The load generator's statistics: percentiles, counters, summary lines."""

from __future__ import annotations

import math

from ikeeap.loadgen.stats import Latencies, RunStats, percentile


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile(values, 0) == 1.0


def test_percentile_of_nothing_is_nan_and_of_one_value_is_it():
    assert math.isnan(percentile([], 99))
    assert percentile([0.25], 1) == 0.25 and percentile([0.25], 99) == 0.25


def test_latencies_sort_lazily_whatever_the_arrival_order():
    lat = Latencies()
    for v in (0.5, 0.1, 0.9, 0.3, 0.7):
        lat.add(v)
    assert lat.percentiles(50, 100) == (0.5, 0.9)
    lat.add(0.05)  # after a read, new samples still count
    assert lat.percentiles(0) == (0.05,)
    assert len(lat) == 6


def test_run_stats_summary_counts_rates_and_per_exchange_percentiles():
    stats = RunStats(started_at=10.0)
    for _ in range(4):
        stats.login_started()
    for seconds in (0.010, 0.020, 0.030):
        stats.exchange_done("IKE_SA_INIT", seconds / 10)
        stats.exchange_done("IKE_AUTH", seconds / 5)
        stats.login_done(seconds)
    stats.login_failed("timeout waiting for the IKE_AUTH response")
    stats.retransmits = 2
    s = stats.summary(now=12.0)
    assert (s.started, s.established, s.failed, s.in_flight, s.retransmits) == (4, 3, 1, 0, 2)
    assert s.rate == 1.5  # 3 established in 2 s
    assert s.login == (0.020, 0.030, 0.030)
    assert s.exchanges["IKE_AUTH"] == (3, 0.004, 0.006, 0.006)
    assert s.failures == {"timeout waiting for the IKE_AUTH response": 1}
    text = "\n".join(s.lines())
    assert "established SAs/s  1.5" in text and "failure x1: timeout" in text
    assert "p99    30.0ms" in text
    assert "in-flight 0" in s.progress_line()
    assert s.as_dict()["login_p99"] == 0.030
