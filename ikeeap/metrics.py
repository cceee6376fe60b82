"""Prometheus metrics (prometheus-client) on a registry of our own, fed by service events.

Logins and failures by method, backend and reason; IKE SAs by state and cookie challenges
read from the core at scrape time; exchange, EAP step (backend) and login latencies;
RADIUS server health.  The HTTP listener is ``ikeeap.server.metrics_http``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .control.views import backend_of
from .ike.events import AuthenticationFailed, IkeSaEstablished
from .ike.sa import SaState
from .wire.constants import ExchangeType

log = logging.getLogger("ikeeap.metrics")

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Failure reasons folded into a few label values (the free text goes to the audit log).
_REASONS = (("timed out", "timeout"), ("timeout", "timeout"), ("msk mismatch", "auth_mismatch"),
            ("does not verify", "auth_mismatch"), ("psk", "auth_mismatch"),
            ("no connection", "no_connection"), ("failed", "eap_failure"))


def reason_label(reason: str) -> str:
    text = reason.lower()
    for needle, label in _REASONS:
        if needle in text:
            return label
    return "other"


def exchange_label(data: bytes, marker: bool) -> str:
    """The exchange type name of an IKE message (after the non-ESP marker on 4500)."""
    offset = (4 if marker else 0) + 18
    if len(data) <= offset:
        return "unknown"
    try:
        return ExchangeType(data[offset]).name
    except ValueError:
        return "unknown"


class Metrics:
    def __init__(self, lookup: Callable[[str], Any] | None = None,
                 registry: CollectorRegistry | None = None,
                 clock: Callable[[], float] | None = None):
        self._now = clock or (lambda: 0.0)  # the reactor's clock, same as SA timestamps
        self.registry = registry or CollectorRegistry()
        self._lookup = lookup or (lambda _sa_id: None)
        r = self.registry
        self.logins = Counter("ikeeap_logins", "Login attempts by result",
                              ["method", "backend", "result"], registry=r)
        self.failures = Counter("ikeeap_login_failures", "Failed logins by reason",
                                ["method", "backend", "reason"], registry=r)
        self.exchange = Histogram("ikeeap_exchange_seconds", "Core time to answer a request",
                                  ["exchange"], buckets=_BUCKETS, registry=r)
        self.eap_step = Histogram("ikeeap_eap_step_seconds",
                                  "Time of one EAP step (method and backend round trip)",
                                  ["connection", "result"], buckets=_BUCKETS, registry=r)
        self.login_time = Histogram("ikeeap_login_seconds", "IKE_SA_INIT to established",
                                    ["method"], buckets=_BUCKETS, registry=r)
        self._core: Any = None
        self._radius: list[Any] = []

    def watch(self, responder: Any,
              radius_transports: Iterable[tuple[str, Any]] = ()) -> None:
        """Read SA counts, cookies and RADIUS health from these objects at scrape time."""
        first = self._core is None
        self._core, self._radius = responder, list(radius_transports)
        if first:
            self.registry.register(_LiveCollector(self))

    def __call__(self, event: Any) -> None:
        if isinstance(event, IkeSaEstablished):
            method, backend = self._method_backend(event.sa_id, event.method)
            self.logins.labels(method, backend, "success").inc()
            sa = self._lookup(event.sa_id)
            if sa is not None:
                self.login_time.labels(method).observe(max(0.0, self._now() - sa.created))
        elif isinstance(event, AuthenticationFailed):
            method, backend = self._method_backend(event.sa_id, "")
            self.logins.labels(method, backend, "failure").inc()
            self.failures.labels(method, backend, reason_label(event.reason)).inc()

    def observe_exchange(self, data: bytes, marker: bool, seconds: float) -> None:
        self.exchange.labels(exchange_label(data, marker)).observe(seconds)

    def observe_eap_step(self, sa_id: str, seconds: float, ok: bool) -> None:
        sa = self._lookup(sa_id)
        conn = getattr(getattr(sa, "auth", None), "connection", None)
        self.eap_step.labels(getattr(conn, "name", "unknown"),
                             "ok" if ok else "error").observe(seconds)

    def _method_backend(self, sa_id: str, method: str) -> tuple[str, str]:
        auth = getattr(self._lookup(sa_id), "auth", None)
        method = method or getattr(auth, "method_name", "") or "none"
        backend = backend_of(getattr(auth, "connection", None), method) or "none"
        return method, backend



class _LiveCollector:
    """Values that belong to the core, read when Prometheus scrapes."""

    def __init__(self, metrics: Metrics):
        self._m = metrics

    def collect(self) -> Iterable[Any]:
        core = self._m._core
        sas = GaugeMetricFamily("ikeeap_ike_sas", "IKE SAs by state", labels=["state"])
        for state in (SaState.HALF_OPEN, SaState.AUTHENTICATING, SaState.ESTABLISHED):
            sas.add_metric([state.value], core.count(state) if core is not None else 0)
        yield sas
        cookies = CounterMetricFamily("ikeeap_cookie_challenges", "COOKIE challenges sent")
        cookies.add_metric([], getattr(core, "cookies_sent", 0))
        yield cookies
        false = CounterMetricFamily("ikeeap_false_retransmits",
                                    "requests with the last message ID but other octets")
        false.add_metric([], getattr(core, "false_retransmits", 0))
        yield false
        reassembly = GaugeMetricFamily("ikeeap_reassembly_octets",
                                       "octets held in partial fragmented messages")
        reassembly.add_metric([], getattr(getattr(core, "reassembly", None), "in_use", 0))
        yield reassembly
        health = GaugeMetricFamily("ikeeap_radius_server_up",
                                   "RADIUS server alive (1) or marked dead (0)",
                                   labels=["server", "role"])
        for role, transport in self._m._radius:
            servers = getattr(transport.core, "_servers", [])
            for i in range(len(servers)):
                health.add_metric([transport.core.server_label(i), role],
                                  1.0 if transport.core.is_alive(i) else 0.0)
        yield health
