"""EAP-SIM backends: triplet sources, the sqlite identity store and the ``[sim]`` table.

- :mod:`.triplets`: FileTripletSource (strongSwan eap-sim-file format),
  MilenageTripletSource (Ki/OPc test SIMs, as hostapd's hlr_auc_gw).
- :mod:`.store`: SqliteIdentityStore (pseudonyms, re-auth identities, expiry).
- :mod:`.config`: ``[sim]`` -> SimConfig; :mod:`.providers`: SimConfig -> Providers.extra.
"""

from ikeeap.backends.sim.config import SimConfig, parse_sim_section
from ikeeap.backends.sim.providers import sim_providers, triplet_source
from ikeeap.backends.sim.store import SqliteIdentityStore
from ikeeap.backends.sim.triplets import (
    FileTripletSource,
    MilenageSubscriber,
    MilenageTripletSource,
    parse_triplets,
)

__all__ = ["FileTripletSource", "MilenageSubscriber", "MilenageTripletSource", "SimConfig",
           "SqliteIdentityStore", "parse_sim_section", "parse_triplets", "sim_providers",
           "triplet_source"]
