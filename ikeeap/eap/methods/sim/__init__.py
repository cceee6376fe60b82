"""EAP-SIM (RFC 4186): server method, codec, identities and provider interfaces.

- :mod:`.attributes`: message/attribute codec; :mod:`.protection`: AT_MAC, AT_ENCR_DATA.
- :mod:`.identities`: permanent / pseudonym / re-authentication identities.
- :mod:`.provider`: TripletSource, SimIdentityStore, SimPolicy (implementations in
  :mod:`ikeeap.backends.sim`).
- :mod:`.requests`: the server's Requests; :mod:`.server`: :class:`SimMethod`.
"""

from ikeeap.eap.methods.sim.provider import (
    IDENTITIES,
    POLICY,
    TRIPLETS,
    ReauthState,
    SimIdentityStore,
    SimPolicy,
    Triplet,
    TripletSource,
)
from ikeeap.eap.methods.sim.server import SimMethod

__all__ = ["IDENTITIES", "POLICY", "TRIPLETS", "ReauthState", "SimIdentityStore", "SimMethod",
           "SimPolicy", "Triplet", "TripletSource"]
