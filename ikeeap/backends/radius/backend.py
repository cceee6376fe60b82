"""The RADIUS backend as EAP methods and accounting see it: config plus request functions.

The server layer builds it (with a Twisted transport) and hands it over as the provider
``providers.get("radius")``; tests hand over in-memory request functions instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .client import Completion, PacketBuilder
from .config import RadiusConfig

# (build, pinned server index or None) -> awaitable Completion
Requester = Callable[[PacketBuilder, "int | None"], Awaitable[Completion]]

PROVIDER_NAME = "radius"


@dataclass(frozen=True)
class RadiusBackend:
    config: RadiusConfig
    authenticate: Requester
    account: Requester | None = None
