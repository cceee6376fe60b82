"""Builds the EAP-SIM providers from a :class:`SimConfig` (used by ``runtime``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ikeeap.backends.sim.config import SimConfig
from ikeeap.backends.sim.store import RunBlocking, SqliteIdentityStore, run_inline
from ikeeap.backends.sim.triplets import FileTripletSource, MilenageTripletSource
from ikeeap.eap.methods.sim.provider import IDENTITIES, POLICY, TRIPLETS, TripletSource


def triplet_source(config: SimConfig) -> TripletSource:
    if config.source == "file":
        return FileTripletSource({imsi: list(ts) for imsi, ts in config.triplets.items()})
    return MilenageTripletSource(config.subscribers)


def sim_providers(config: SimConfig, state_dir: Path,
                  run_blocking: RunBlocking | None = None) -> dict[str, Any]:
    """``Providers.extra`` entries: triplet source, sqlite identity store, policy."""
    store = SqliteIdentityStore(config.db_path(state_dir), config.pseudonym_lifetime,
                                config.reauth_lifetime, run_blocking or run_inline)
    return {TRIPLETS: triplet_source(config), IDENTITIES: store, POLICY: config.policy}
