"""The data plane seen from the responder: what it must know of a Child SA and the calls the
responder adapter makes on every Child SA event (sans-I/O value types, no Twisted).

The adapter (``ikeeap/server/``) turns the core's events into these calls:

=============================  ==========================================================
core event (ike/events.py)     DataPlane call
=============================  ==========================================================
``ChildSaEstablished``         ``child_up(ChildSaUp)`` (build it with :func:`child_sa_up`)
``ChildSaRekeyed``             ``child_rekeyed(ChildSaRekey)`` (the new SA came just before
                               as ``child_up``; the old one stays until ``child_down``)
a Child SA deleted             ``child_down(ChildSaDown)`` (the core has no event for this
                               yet: INFORMATIONAL Delete of ESP SPIs only edits ``sa.children``)
``IkeSaRekeyed``               ``ike_rekeyed(old_sa_id, new_sa_id)``
``IkeSaDeleted``               ``ike_gone(sa_id)`` (every Child SA of it goes)
=============================  ==========================================================

A data plane never blocks its caller: kernel or script work happens on threads or child
processes, and what comes back later (a kernel expire, an install that failed) is reported
through the ``notify`` callback given to the data plane as :class:`ChildSaExpiring` or
:class:`ChildSaFailed`, which the responder answers with a rekey or a delete.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

from ..crypto.transforms import esp_key_lengths
from ..ike.events import ChildSaEstablished

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """Child SA limits; 0 means no limit. Soft: start a rekey; hard: the SA is gone."""

    soft_seconds: int = 0
    hard_seconds: int = 0
    soft_bytes: int = 0
    hard_bytes: int = 0
    soft_packets: int = 0
    hard_packets: int = 0


@dataclass(frozen=True, slots=True)
class ChildKeys:
    """One Child SA's ESP keys by direction (RFC 7296 §2.17: KEYMAT starts with the
    initiator-to-responder keys, which are the responder's inbound ones)."""

    encr_in: bytes = field(repr=False)
    integ_in: bytes = field(repr=False)
    encr_out: bytes = field(repr=False)
    integ_out: bytes = field(repr=False)


def split_keymat(keymat: bytes, encr: int, encr_key_bits: int, integ: int) -> ChildKeys:
    """KEYMAT → the four keys (encryption keys include the AEAD salt at their end)."""
    e, a = esp_key_lengths(encr, encr_key_bits, integ)
    if len(keymat) != 2 * (e + a):
        raise ValueError(f"KEYMAT of {len(keymat)} octets, the transforms need {2 * (e + a)}")
    return ChildKeys(keymat[:e], keymat[e:e + a], keymat[e + a:2 * e + a], keymat[2 * e + a:])


@dataclass(frozen=True, slots=True)
class ChildSaUp:
    """Everything a data plane needs to carry one Child SA (ESP, tunnel mode).

    ``local``/``remote`` are the outer addresses and ports the IKE SA uses now (4500 on both
    sides after NAT-T); ``ts_local`` is our side's selectors (TSr), ``ts_remote`` the peer's
    (TSi), as ``ike.child.describe`` writes them ("10.0.0.0/24", "a-b", "...[6/80-80]")."""

    sa_id: str
    unique_id: int  # a small number per IKE SA, stable across Child SAs (PLUTO_UNIQUEID)
    reqid: int  # ties SAs to policies; a rekeyed Child SA keeps its reqid (see ReqIds)
    spi_in: bytes
    spi_out: bytes
    encr: int
    encr_key_bits: int
    integ: int
    keymat: bytes = field(repr=False)
    local: Address
    remote: Address
    ts_local: tuple[str, ...]
    ts_remote: tuple[str, ...]
    esn: bool = False
    udp_encap: bool = False
    virtual_ip: str | None = None  # the address given to the peer (CP), if any
    connection: str = "ikeeap"
    local_id: str = ""
    remote_id: str = ""
    username: str | None = None  # the EAP identity that logged in
    lifetimes: Lifetimes = Lifetimes()
    replay_window: int = 64
    if_id: int = 0  # XFRM interface id (0: plain policies)

    def keys(self) -> ChildKeys:
        return split_keymat(self.keymat, self.encr, self.encr_key_bits, self.integ)

    @property
    def ipv6(self) -> bool:
        return ipaddress.ip_address(self.local[0]).version == 6


@dataclass(frozen=True, slots=True)
class ChildSaRekey:
    sa_id: str
    old_spi_in: bytes
    old_spi_out: bytes
    new_spi_in: bytes
    new_spi_out: bytes


@dataclass(frozen=True, slots=True)
class ChildSaDown:
    sa_id: str
    spi_in: bytes
    spi_out: bytes
    reason: str = "deleted"


@dataclass(frozen=True, slots=True)
class ChildCounters:
    """Traffic of the Child SAs of one IKE SA (or of one Child SA), as last read."""

    bytes_in: int = 0
    bytes_out: int = 0
    packets_in: int = 0
    packets_out: int = 0
    drops: tuple[tuple[str, int], ...] = ()  # (reason, count), sorted by reason

    def __add__(self, other: ChildCounters) -> ChildCounters:
        drops = dict(self.drops)
        for reason, n in other.drops:
            drops[reason] = drops.get(reason, 0) + n
        return ChildCounters(self.bytes_in + other.bytes_in, self.bytes_out + other.bytes_out,
                             self.packets_in + other.packets_in,
                             self.packets_out + other.packets_out, tuple(sorted(drops.items())))


@dataclass(frozen=True, slots=True)
class ChildSaExpiring:
    """A lifetime ran out: ``hard`` False → rekey this Child SA; True → it is gone, delete it."""

    sa_id: str
    spi_in: bytes
    hard: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ChildSaFailed:
    """The data plane could not install a Child SA; the responder should delete it."""

    sa_id: str
    spi_in: bytes
    reason: str


Notice = ChildSaExpiring | ChildSaFailed
Notify = Callable[[Notice], None]


@runtime_checkable
class DataPlane(Protocol):
    """What the responder adapter drives. Every call returns at once and never raises for a
    kernel or script problem (those come back through ``notify`` and the log)."""

    name: str  # "none", "kernel", "userspace": for the log and status

    def child_up(self, child: ChildSaUp) -> None: ...

    def child_rekeyed(self, rekey: ChildSaRekey) -> None: ...

    def child_down(self, down: ChildSaDown) -> None: ...

    def ike_rekeyed(self, old_sa_id: str, new_sa_id: str) -> None: ...

    def ike_gone(self, sa_id: str) -> None: ...

    def counters(self, sa_id: str) -> ChildCounters: ...

    def close(self) -> None: ...


class NoDataPlane:
    """``mode = "none"``: negotiates Child SAs, carries no traffic (ikeeap before issue 17)."""

    name = "none"

    def child_up(self, child: ChildSaUp) -> None:
        pass

    def child_rekeyed(self, rekey: ChildSaRekey) -> None:
        pass

    def child_down(self, down: ChildSaDown) -> None:
        pass

    def ike_rekeyed(self, old_sa_id: str, new_sa_id: str) -> None:
        pass

    def ike_gone(self, sa_id: str) -> None:
        pass

    def counters(self, sa_id: str) -> ChildCounters:
        return ChildCounters()

    def close(self) -> None:
        pass


class ReqIds:
    """Reqids for Child SAs: one per (IKE SA, selectors); a Child SA with the same selectors
    as a live one of the same IKE SA (a rekey: the core reports the new SA before it says it
    was a rekey) shares its reqid, so the kernel's policies stay and pick the newer SA."""

    def __init__(self, first: int = 1) -> None:
        self._next = first
        self._by_key: dict[tuple[str, tuple[str, ...], tuple[str, ...]], int] = {}
        self._users: dict[int, set[bytes]] = {}
        self._key_of: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}

    def acquire(self, sa_id: str, spi_in: bytes, ts_local: tuple[str, ...],
                ts_remote: tuple[str, ...]) -> int:
        key = (sa_id, tuple(ts_local), tuple(ts_remote))
        reqid = self._by_key.get(key)
        if reqid is None:
            reqid = self._by_key[key] = self._next
            self._key_of[reqid] = key
            self._users[reqid] = set()
            self._next += 1
        self._users[reqid].add(spi_in)
        return reqid

    def release(self, reqid: int, spi_in: bytes) -> bool:
        """Forget one Child SA; True when it was the reqid's last (its policies can go)."""
        users = self._users.get(reqid)
        if users is None:
            return False
        users.discard(spi_in)
        if users:
            return False
        del self._users[reqid]
        self._by_key.pop(self._key_of.pop(reqid), None)
        return True

    def moved(self, old_sa_id: str, new_sa_id: str) -> None:
        """The IKE SA was rekeyed: its Child SAs (and their reqids) belong to the new one."""
        for key in [k for k in self._by_key if k[0] == old_sa_id]:
            reqid = self._by_key.pop(key)
            new_key = (new_sa_id, key[1], key[2])
            self._by_key[new_key] = reqid
            self._key_of[reqid] = new_key


def child_sa_up(event: ChildSaEstablished, *, unique_id: int, reqid: int, local: Address,
                remote: Address, virtual_ip: str | None = None, connection: str = "ikeeap",
                local_id: str = "", remote_id: str = "", username: str | None = None,
                lifetimes: Lifetimes = Lifetimes(), replay_window: int = 64,
                if_id: int = 0) -> ChildSaUp:
    """A ``ChildSaUp`` from the core's ``ChildSaEstablished`` and what the adapter knows of
    the IKE SA (its addresses, identities, virtual IP) and the settings (lifetimes, window)."""
    return ChildSaUp(
        sa_id=event.sa_id, unique_id=unique_id, reqid=reqid, spi_in=event.spi_in,
        spi_out=event.spi_out, encr=event.encr, encr_key_bits=event.encr_key_bits,
        integ=event.integ, keymat=event.keymat, local=local, remote=remote,
        ts_local=tuple(event.ts_r), ts_remote=tuple(event.ts_i), esn=bool(event.esn),
        udp_encap=bool(event.udp_encap), virtual_ip=virtual_ip, connection=connection,
        local_id=local_id, remote_id=remote_id, username=username, lifetimes=lifetimes,
        replay_window=replay_window, if_id=if_id)
