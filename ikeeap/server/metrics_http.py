"""The opt-in Prometheus endpoint: ``GET /metrics`` served by twisted.web on the reactor."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client.twisted import MetricsResource
from twisted.web.resource import Resource
from twisted.web.server import Site

log = logging.getLogger("ikeeap.metrics")


def listen_metrics(reactor: Any, registry: Any, host: str, port: int) -> Any:
    root = Resource()
    root.putChild(b"metrics", MetricsResource(registry=registry))
    listening = reactor.listenTCP(port, Site(root), interface=host)
    log.info("metrics on http://%s:%d/metrics", host, listening.getHost().port)
    return listening
