"""The ``[hardening]`` configuration table, parsed into :class:`ikeeap.ike.hardening.Hardening`.

    [hardening]
    cookie_threshold = 100        # half-open SAs before every IKE_SA_INIT needs a COOKIE
    cookie_threshold_per_ip = 5   # ... or from one source address
    max_half_open = 5000          # then IKE_SA_INIT is dropped (logged)
    max_ike_sas = 50000
    block_threshold = 100         # IKE_SA_INIT per block_window from one address -> blocked
    fragment_size = 1280          # larger IKE messages are sent as RFC 7383 fragments
    dpd_interval = 0              # idle seconds before a liveness check (0: off)

Every field of Hardening is a key; the parser never raises.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

from .ike.hardening import Hardening

if TYPE_CHECKING:  # config.py imports this module
    from .config import ConfigReader

_PREFIX = "hardening."


def parse_hardening_section(r: ConfigReader, table: dict) -> Hardening:
    r.unknown_keys(table, _PREFIX, {f.name for f in fields(Hardening)})
    default = Hardening()
    values = {}
    for f in fields(Hardening):
        kind = type(getattr(default, f.name))
        values[f.name] = r.get(table, _PREFIX, f.name, kind, getattr(default, f.name))
    result = Hardening(**values)
    for name, message in result.problems():
        r.problem(_PREFIX + name, message)
    return result
