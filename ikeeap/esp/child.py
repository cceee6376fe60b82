"""A Child SA's two ESP SAs, built from what the IKE side negotiated (ChildSaEstablished).

KEYMAT (RFC 7296 §2.17) holds the initiator→responder keys first, then responder→initiator;
in each direction the encryption keymat (key ‖ salt for AEAD) comes before the integrity key.
The responder therefore decrypts with the first half and encrypts with the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..crypto.esp_transforms import esp_transform
from ..crypto.transforms import esp_key_lengths
from .events import ChildRef, HardExpired, RekeyDue
from .sa import InboundSa, Lifetime, OutboundSa, SaCounters
from .selectors import SelectorCheck

if TYPE_CHECKING:
    from ..ike.events import ChildSaEstablished

__all__ = ["EspChild", "initiator_child", "responder_child", "split_keymat"]


class _ChildParams(Protocol):
    spi_in: bytes
    spi_out: bytes
    encr: int
    encr_key_bits: int
    integ: int
    keymat: bytes
    ts_i: tuple[str, ...]
    ts_r: tuple[str, ...]
    esn: int


@dataclass(frozen=True, slots=True)
class DirectionKeys:
    encr: bytes  # key (‖ salt for AEAD)
    integ: bytes  # b"" for AEAD


def split_keymat(encr: int, encr_key_bits: int | None, integ: int, keymat: bytes
                 ) -> tuple[DirectionKeys, DirectionKeys]:
    """(initiator→responder, responder→initiator) keys from a Child SA's KEYMAT."""
    e, a = esp_key_lengths(encr, encr_key_bits, integ)
    if len(keymat) < 2 * (e + a):
        raise ValueError(f"KEYMAT of {len(keymat)} octets, {2 * (e + a)} needed")
    i2r = DirectionKeys(bytes(keymat[:e]), bytes(keymat[e:e + a]))
    r2i = DirectionKeys(bytes(keymat[e + a:2 * e + a]), bytes(keymat[2 * e + a:2 * (e + a)]))
    return i2r, r2i


@dataclass(slots=True)
class EspChild:
    """One Child SA on the data plane: the inbound and the outbound ESP SA."""

    ref: ChildRef
    inbound: InboundSa
    outbound: OutboundSa
    selectors: SelectorCheck
    udp_encap: bool = False

    @property
    def events(self) -> list:
        return self.inbound.events

    def pop_events(self) -> list[RekeyDue | HardExpired]:
        """The lifetime events of both directions so far (the list is shared)."""
        out = list(self.inbound.events)
        self.inbound.events.clear()
        if self.outbound.events is not self.inbound.events:
            out += self.outbound.events
            self.outbound.events.clear()
        return out

    def poll(self, now: float) -> None:
        self.inbound.poll(now)
        self.outbound.poll(now)

    def next_deadline(self) -> float | None:
        times = [t for t in (self.inbound.next_deadline(), self.outbound.next_deadline())
                 if t is not None]
        return min(times, default=None)

    def counters(self) -> tuple[SaCounters, SaCounters]:
        """(inbound, outbound): Acct-Input-* from inbound, Acct-Output-* from outbound."""
        return self.inbound.counters(), self.outbound.counters()


def _build(params: _ChildParams, sa_id: str, *, initiator: bool, now: float,
           lifetime: Lifetime, replay_window: int, events: list | None,
           udp_encap: bool, outbound_selector_check: bool,
           seq_soft_limit: int | None) -> EspChild:
    i2r, r2i = split_keymat(params.encr, params.encr_key_bits, params.integ, params.keymat)
    keys_in, keys_out = (r2i, i2r) if initiator else (i2r, r2i)
    ref = ChildRef(sa_id, bytes(params.spi_in), bytes(params.spi_out))
    # The peer's side is TSi for the responder and TSr for the initiator.
    remote, local = (params.ts_r, params.ts_i) if initiator else (params.ts_i, params.ts_r)
    selectors = SelectorCheck(remote, local)
    shared: list = [] if events is None else events
    esn = bool(params.esn)
    inbound = InboundSa(
        params.spi_in,
        esp_transform(params.encr, params.encr_key_bits, params.integ, keys_in.encr,
                      keys_in.integ),
        esn=esn, child=ref, lifetime=lifetime, now=now, events=shared, selectors=selectors,
        replay_window=replay_window)
    outbound = OutboundSa(
        params.spi_out,
        esp_transform(params.encr, params.encr_key_bits, params.integ, keys_out.encr,
                      keys_out.integ),
        esn=esn, child=ref, lifetime=lifetime, now=now, events=shared,
        selectors=selectors if outbound_selector_check else None,
        seq_soft_limit=seq_soft_limit)
    return EspChild(ref, inbound, outbound, selectors, udp_encap)


def responder_child(event: ChildSaEstablished, *, now: float = 0.0,
                    lifetime: Lifetime = Lifetime(), replay_window: int = 64,
                    events: list | None = None, outbound_selector_check: bool = True,
                    seq_soft_limit: int | None = None) -> EspChild:
    """The responder's ESP SAs for a Child SA the IKE core established (or rekeyed)."""
    return _build(event, event.sa_id, initiator=False, now=now, lifetime=lifetime,
                  replay_window=replay_window, events=events, udp_encap=event.udp_encap,
                  outbound_selector_check=outbound_selector_check,
                  seq_soft_limit=seq_soft_limit)


def initiator_child(params: _ChildParams, *, sa_id: str = "", now: float = 0.0,
                    lifetime: Lifetime = Lifetime(), replay_window: int = 64,
                    events: list | None = None, udp_encap: bool = False,
                    outbound_selector_check: bool = True,
                    seq_soft_limit: int | None = None) -> EspChild:
    """The initiator's mirror image (tests, the load generator): ``params`` is e.g. the
    initiator's ChildResult, whose spi_in is the initiator's own SPI."""
    return _build(params, sa_id, initiator=True, now=now, lifetime=lifetime,
                  replay_window=replay_window, events=events, udp_encap=udp_encap,
                  outbound_selector_check=outbound_selector_check,
                  seq_soft_limit=seq_soft_limit)
