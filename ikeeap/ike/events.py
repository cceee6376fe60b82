"""Events the sans-I/O responder reports to its adapter (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable

from ..eap.authenticator import EapOutput
from ..eap.authorization import Authorization

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Datagram:
    data: bytes
    local: Address
    remote: Address


@dataclass(frozen=True, slots=True)
class EapStepPending:
    """Run ``step`` (an awaitable EapOutput) and hand the result to ``Responder.eap_done``."""

    sa_id: str
    step: Awaitable[EapOutput]
    timeout: float


@dataclass(frozen=True, slots=True)
class IkeSaEstablished:
    sa_id: str
    remote: Address
    identity: str
    eap_identity: str | None
    method: str
    virtual_ip: str | None
    # From a backend (RADIUS Session-Timeout, Class, Acct-Session-Id for accounting), or None.
    authorization: Authorization | None = None
    outer_identity: str | None = None  # the EAP identity when a tunnelled method proved another


@dataclass(frozen=True, slots=True)
class ChildSaEstablished:
    sa_id: str
    spi_in: bytes
    spi_out: bytes
    encr: int
    encr_key_bits: int
    integ: int
    keymat: bytes  # initiator->responder keys first, as RFC 7296 §2.17 orders them
    ts_i: tuple[str, ...]
    ts_r: tuple[str, ...]
    esn: int = 0  # EsnId: 1 when extended sequence numbers were negotiated
    udp_encap: bool = False  # a NAT was detected: ESP-in-UDP on port 4500 (RFC 3948)


@dataclass(frozen=True, slots=True)
class AuthenticationFailed:
    sa_id: str
    remote: Address
    identity: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class IkeSaDeleted:
    sa_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChildSaRekeyed:
    """A Child SA replaced by CREATE_CHILD_SA; the new one came as ChildSaEstablished just
    before. The old SPIs stay valid until the initiator deletes them."""

    sa_id: str
    old_spi_in: bytes
    old_spi_out: bytes
    new_spi_in: bytes
    new_spi_out: bytes


@dataclass(frozen=True, slots=True)
class IkeSaRekeyed:
    """The IKE SA ``sa_id`` was rekeyed to ``new_sa_id`` (its Child SAs moved with it)."""

    sa_id: str
    new_sa_id: str


Event = EapStepPending | IkeSaEstablished | ChildSaEstablished | AuthenticationFailed | IkeSaDeleted \
    | ChildSaRekeyed | IkeSaRekeyed
