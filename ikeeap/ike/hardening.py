"""Limits and timers that protect the responder (DoS, fragments, liveness).

One frozen dataclass so the core, the config parser and tests share the same defaults.
The ``[hardening]`` table in the config file sets any of these fields by name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hardening:
    # ---- cookies and limits (RFC 7296 §2.6) -------------------------------------------
    cookie_threshold: int = 100          # half-open SAs (all sources) before COOKIE is demanded
    cookie_threshold_per_ip: int = 5     # half-open SAs from one address before COOKIE
    cookie_secret_lifetime: float = 120.0  # seconds; the previous secret stays valid as long
    max_half_open: int = 5000            # half-open SAs beyond which IKE_SA_INIT is dropped
    max_half_open_per_ip: int = 50       # the same bound for one source address
    max_ike_sas: int = 50000             # all IKE SAs beyond which IKE_SA_INIT is dropped
    block_threshold: int = 100           # IKE_SA_INIT from one address per block_window ...
    block_window: float = 10.0           # ... seconds, beyond which the address is blocked
    block_duration: float = 60.0         # seconds a flooding address stays blocked
    # ---- fragmentation (RFC 7383) -----------------------------------------------------
    fragment_size: int = 1280            # largest IP datagram (headers included) we send
                                         # unfragmented; 0: never fragment
    max_fragments: int = 32              # fragments of one message we reassemble
    max_reassembly_size: int = 65535     # octets of one reassembled message
    max_unauthenticated_reassembly: int = 10000  # the same before IKE_AUTH is done (strongSwan's
                                         # max_packet): a half-open SA cannot hold 64 KiB
    reassembly_budget: int = 16 << 20    # octets of partial messages over all SAs together
    reassembly_timeout: float = 5.0      # seconds to collect all fragments of a message
    # ---- liveness ------------------------------------------------------------------
    dpd_interval: float = 0.0            # idle seconds before we check liveness (0: never)
    dpd_timeout: float = 30.0            # seconds without an answer before the SA is dropped
    reauth_time: float = 0.0             # seconds after which an IKE SA is deleted (0: never)
    # ---- Child SAs ---------------------------------------------------------------------
    max_child_sas: int = 8               # Child SAs per IKE SA; more get NO_ADDITIONAL_SAS
                                         # (a rekey may overlap its old SA until the Delete)

    def problems(self) -> list[tuple[str, str]]:
        """(field, what is wrong) for values that cannot work."""
        out = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value < 0:
                out.append((name, "must not be negative"))
        if self.fragment_size and self.fragment_size < 256:
            out.append(("fragment_size", "must be at least 256 (RFC 7383 §2.5.1 sizes)"))
        for name in ("max_fragments", "block_window", "cookie_secret_lifetime",
                     "max_child_sas"):
            if getattr(self, name) <= 0:
                out.append((name, "must be positive"))
        return out
