"""The opt-in Prometheus endpoint: ``GET /metrics`` served by twisted.web on the reactor.

Our own small resource rather than ``prometheus_client.twisted.MetricsResource``: that module
imports the global reactor, and ``serve --workers`` must not install one before it forks.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from twisted.web.resource import Resource
from twisted.web.server import Site

log = logging.getLogger("ikeeap.metrics")


class MetricsResource(Resource):
    isLeaf = True

    def __init__(self, registry: Any) -> None:
        super().__init__()
        self._registry = registry

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode())
        return generate_latest(self._registry)


def listen_metrics(reactor: Any, resource_or_registry: Any, host: str, port: int) -> Any:
    """Serve ``/metrics`` from a registry (or a ready resource, e.g. the workers' sum)."""
    resource = (resource_or_registry if isinstance(resource_or_registry, Resource)
                else MetricsResource(resource_or_registry))
    root = Resource()
    root.putChild(b"metrics", resource)
    listening = reactor.listenTCP(port, Site(root), interface=host)
    log.info("metrics on http://%s:%d/metrics", host, listening.getHost().port)
    return listening
