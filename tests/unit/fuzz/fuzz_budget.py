"""How many cases each fuzz target runs: bounded for CI, raised by one environment variable.

``IKEEAP_FUZZ_EXAMPLES`` (default 150) is the base count; each target runs a multiple of it
(``fuzz_budget(weight)``): cheap parsers several times the base, targets that do a TLS
handshake per case a fraction of it.  ``IKEEAP_FUZZ_RANDOM=1`` drops the fixed seed, so a long
local run explores new inputs each time instead of replaying CI's.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

BASE_EXAMPLES = int(os.environ.get("IKEEAP_FUZZ_EXAMPLES", "150"))
REPLAY_CI_SEED = os.environ.get("IKEEAP_FUZZ_RANDOM", "") != "1"


def fuzz_examples(weight: float) -> int:
    """The number of cases of a target weighing ``weight`` base budgets."""
    return max(1, round(BASE_EXAMPLES * weight))


def fuzz_budget(weight: float = 1.0) -> settings:
    """Hypothesis settings for one fuzz target: its case count, no deadline (a slow case is
    not a bug here), a reproducible seed in CI and no example database written to disk."""
    return settings(max_examples=fuzz_examples(weight), deadline=None,
                    derandomize=REPLAY_CI_SEED, database=None,
                    suppress_health_check=list(HealthCheck))
