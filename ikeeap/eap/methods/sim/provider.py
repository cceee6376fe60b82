"""The provider interfaces of EAP-SIM: triplet sources and the identity store.

Implementations live in :mod:`ikeeap.backends.sim` (triplets file, GSM-Milenage, sqlite
store); an operator's HLR/HSS gateway is one more :class:`TripletSource`.  The method
finds them in ``Providers.extra`` under :data:`TRIPLETS`, :data:`IDENTITIES` and
:data:`POLICY`.  All calls return awaitables so a backend may do I/O off the reactor.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

TRIPLETS = "sim_triplets"
IDENTITIES = "sim_identities"
POLICY = "sim_policy"

RAND_SIZE, SRES_SIZE, KC_SIZE = 16, 4, 8


@dataclass(frozen=True)
class Triplet:
    """One GSM authentication vector.  SRES and Kc never in ``repr``."""

    rand: bytes
    sres: bytes = field(repr=False)
    kc: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if (len(self.rand), len(self.sres), len(self.kc)) != (RAND_SIZE, SRES_SIZE, KC_SIZE):
            raise ValueError("a triplet is RAND (16), SRES (4), Kc (8) octets")


@runtime_checkable
class TripletSource(Protocol):
    """``count`` triplets with distinct RANDs for ``imsi``; None for an unknown subscriber."""

    def get_triplets(self, imsi: str, count: int) -> Awaitable[list[Triplet] | None]: ...


@dataclass(frozen=True)
class ReauthState:
    """What a fast re-authentication needs: the subscriber, MK of the last full
    authentication and the last counter used (0 right after the full authentication)."""

    imsi: str
    mk: bytes = field(repr=False)
    counter: int = 0


@runtime_checkable
class SimIdentityStore(Protocol):
    """Pseudonyms and one-time re-authentication identities, keyed by username."""

    def save_pseudonym(self, pseudonym: str, imsi: str) -> Awaitable[None]: ...
    def lookup_pseudonym(self, pseudonym: str) -> Awaitable[str | None]: ...
    def save_reauth(self, reauth_id: str, state: ReauthState) -> Awaitable[None]: ...
    def take_reauth(self, reauth_id: str) -> Awaitable[ReauthState | None]: ...


ID_REQUEST_POLICIES = ("any", "fullauth", "permanent", "none")


@dataclass(frozen=True)
class SimPolicy:
    """Server behaviour (the ``[sim]`` table fills it).

    ``identity_request``: the identity attribute of the first Start (RFC 4186 §4.2.4);
    ``trust_eap_identity``: use a recognisable EAP-Response/Identity without asking again;
    ``rand_count``: 2 or 3 RANDs per Challenge; ``reauth_max``: highest counter before a
    full authentication is required; ``result_ind``: offer protected result indications.
    """

    identity_request: str = "any"
    trust_eap_identity: bool = True
    rand_count: int = 3
    pseudonyms: bool = True
    fast_reauth: bool = True
    reauth_max: int = 16
    result_ind: bool = False

    def __post_init__(self) -> None:
        if self.identity_request not in ID_REQUEST_POLICIES:
            raise ValueError(f"identity_request must be one of {ID_REQUEST_POLICIES}")
        if self.rand_count not in (2, 3):
            raise ValueError("rand_count must be 2 or 3")
        if not 1 <= self.reauth_max <= 0xFFFF:
            raise ValueError("reauth_max must be 1..65535")
