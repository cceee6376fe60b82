"""Load generation: many sans-I/O initiators from one process (``python -m ikeeap.loadgen``,
``ikeeap bench``).  ``driver`` is the sans-I/O core, ``udp`` the socket loop, ``stats`` the
numbers."""

from .driver import LoadDriver, LoadPlan
from .stats import RunStats, Summary, percentile

__all__ = ["LoadDriver", "LoadPlan", "RunStats", "Summary", "percentile"]
