"""The initiator's state, what it learned, and the events it records."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from ..crypto.transforms import IkeSuite


class InitiatorState(enum.Enum):
    INIT = "init"  # IKE_SA_INIT sent (possibly again, after COOKIE/INVALID_KE)
    AUTH = "auth"  # first IKE_AUTH sent
    EAP = "eap"  # EAP rounds (including the final AUTH round)
    ESTABLISHED = "established"
    FAILED = "failed"
    CLOSED = "closed"  # deleted (by us or by the responder)


@dataclass(frozen=True, slots=True)
class InitiatorEvent:
    """One thing that happened, e.g. ("invalid_ke", "20") or ("eap_request", "26")."""

    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ChildResult:
    """The first Child SA, as the initiator derived it."""

    spi_in: bytes  # ours: the responder sends to it
    spi_out: bytes  # the responder's
    encr: int
    encr_key_bits: int
    integ: int
    esn: int
    keymat: bytes  # initiator->responder keys first (RFC 7296 §2.17)
    ts_i: tuple[str, ...]
    ts_r: tuple[str, ...]


@dataclass
class InitiatorResult:
    """Everything a test or the load generator wants to know after a login."""

    established: bool = False
    suite: IkeSuite | None = None
    spi_i: bytes = b""
    spi_r: bytes = b""
    virtual_ip: str | None = None
    dns: list[str] = field(default_factory=list)
    child: ChildResult | None = None
    child_error: int | None = None  # notify type refusing the Child SA
    msk: bytes | None = None
    eap_method: int | None = None  # EAP type that authenticated us
    eap_request_types: list[int] = field(default_factory=list)
    responder_identity: str | None = None
    eap_only: bool = False  # the responder omitted CERT/AUTH (RFC 5998)
    responder_auth_method: int | None = None
    server_cert: bytes | None = None
    server_cert_trusted: bool = False
    nat_detected: bool = False
    exchanges: Counter[str] = field(default_factory=Counter)  # responses received per exchange
    retransmits: int = 0
    liveness_answered: int = 0
    notifies: list[int] = field(default_factory=list)  # every notify type received
    deleted: bool = False

    @property
    def eap_rounds(self) -> int:
        """EAP Requests answered (Identity included)."""
        return len(self.eap_request_types)
