"""Responder-sent liveness checks (RFC 7296 §1.4, §2.4) and the re-authentication lifetime.

An established SA from which nothing was heard for ``dpd_interval`` seconds gets an empty
INFORMATIONAL request; it is retransmitted until ``dpd_timeout`` seconds after the first
one, then the SA is declared dead and removed. ``reauth_time`` seconds after the SA came up
we delete it (the client has to log in again, RFC 4478 style).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from ..crypto.sk import IntegrityError
from ..wire.codec import encode_payloads, parse_payloads, sk_offset
from ..wire.constants import ExchangeType, ProtocolId
from ..wire.errors import ParseError
from ..wire.payloads import DeletePayload, IkeHeader, Payload
from .hardening import Hardening
from .sa import IkeSa

log = logging.getLogger("ikeeap.ike")

MIN_RETRANSMIT = 0.5


class Verdict(enum.Enum):
    ALIVE = "alive"
    DEAD = "dead"
    REAUTH = "reauth"


@dataclass
class _Probe:
    message_id: int
    message: bytes
    started: float
    sent: float  # the last (re)transmission


@dataclass
class _State:
    last_heard: float
    started: float
    next_id: int = 0  # message IDs of our own requests on this SA
    probe: _Probe | None = None
    lifetime: float = 0.0  # this SA's own re-authentication limit (a backend's Session-Timeout)


def seal_request(sa: IkeSa, exchange: int, message_id: int, payloads: list[Payload]) -> bytes:
    """A request from the original responder (neither INITIATOR nor RESPONSE flag)."""
    first, inner = encode_payloads(payloads)
    header = IkeHeader(sa.spi_i, sa.spi_r, 0, exchange, 0, message_id)
    return sa.encrypter.seal(header, first, inner)


class LivenessMonitor:
    def __init__(self, limits: Hardening):
        self.limits = limits
        self._states: dict[bytes, _State] = {}

    @property
    def enabled(self) -> bool:
        return self.limits.dpd_interval > 0 or self.limits.reauth_time > 0

    def heard(self, sa: IkeSa, now: float) -> None:
        """A message from the peer passed its ICV: it is alive."""
        state = self._states.get(sa.spi_r)
        if state is None and not self.enabled:
            return
        if state is None:
            self._states[sa.spi_r] = _State(now, now)
        else:
            state.last_heard = now

    def limit_lifetime(self, sa: IkeSa, seconds: float, now: float) -> None:
        """Re-authenticate this SA after ``seconds`` (e.g. RADIUS Session-Timeout), or after
        reauth_time if that comes first."""
        state = self._states.setdefault(sa.spi_r, _State(now, now))
        state.started, state.lifetime = now, seconds

    def _reauth_at(self, state: _State) -> float | None:
        limits = [t for t in (self.limits.reauth_time, state.lifetime) if t > 0]
        return state.started + min(limits) if limits else None

    def watches(self, sa: IkeSa) -> bool:
        """True if this SA has liveness checks or a lifetime to enforce."""
        return sa.spi_r in self._states

    def forget(self, sa: IkeSa) -> None:
        self._states.pop(sa.spi_r, None)

    def deadline(self, sa: IkeSa) -> float:
        state = self._states.get(sa.spi_r)
        if state is None:
            return float("inf")
        lim = self.limits
        times = []
        reauth_at = self._reauth_at(state)
        if reauth_at is not None:
            times.append(reauth_at)
        if state.probe is not None:
            retransmit = max(lim.dpd_timeout / 4, MIN_RETRANSMIT)
            times.append(state.probe.started + lim.dpd_timeout)
            times.append(state.probe.sent + retransmit)
        elif lim.dpd_interval > 0:
            times.append(state.last_heard + lim.dpd_interval)
        return min(times) if times else float("inf")

    def on_timer(self, sa: IkeSa, now: float) -> tuple[Verdict, list[bytes]]:
        state = self._states.get(sa.spi_r)
        if state is None:
            return Verdict.ALIVE, []
        lim = self.limits
        reauth_at = self._reauth_at(state)
        if reauth_at is not None and now >= reauth_at:
            log.info("%s reauth_time reached: deleting the IKE SA", sa.log_prefix())
            return Verdict.REAUTH, [self._request(sa, state, [DeletePayload(ProtocolId.IKE)])]
        probe = state.probe
        if probe is not None and state.last_heard >= probe.started:
            probe = state.probe = None  # it answered something meanwhile
        if probe is not None and now >= probe.started + lim.dpd_timeout:
            log.info("%s no answer to liveness checks for %.0f s: peer is dead",
                     sa.log_prefix(), now - probe.started)
            return Verdict.DEAD, []
        if probe is not None:
            probe.sent = now
            return Verdict.ALIVE, [probe.message]  # retransmit the same request
        if lim.dpd_interval > 0 and now >= state.last_heard + lim.dpd_interval:
            message = self._request(sa, state, [])
            state.probe = _Probe(state.next_id - 1, message, now, now)
            log.debug("%s liveness check %d sent", sa.log_prefix(), state.next_id - 1)
            return Verdict.ALIVE, [message]
        return Verdict.ALIVE, []

    def on_response(self, sa: IkeSa, header: IkeHeader, data: bytes, now: float) -> bool:
        """True if ``data`` answers our outstanding check (and passes its ICV)."""
        state = self._states.get(sa.spi_r)
        if state is None or state.probe is None or header.message_id != state.probe.message_id:
            return False
        try:
            offset = sk_offset(data)
            parse_payloads(data[offset], sa.decrypter.open(data, offset))
        except (ParseError, IntegrityError) as exc:
            log.info("%s dropped liveness answer: %s", sa.log_prefix(), exc)
            return False
        state.probe, state.last_heard = None, now
        return True

    def delete_request(self, sa: IkeSa, now: float) -> bytes:
        """An INFORMATIONAL DELETE of the IKE SA with our next request message ID (used by
        administrative terminate and shutdown); works with liveness checks off too."""
        state = self._states.setdefault(sa.spi_r, _State(now, now))
        state.probe = None  # the SA ends: no check is retransmitted after the delete
        return self._request(sa, state, [DeletePayload(ProtocolId.IKE)])

    def _request(self, sa: IkeSa, state: _State, payloads: list[Payload]) -> bytes:
        message = seal_request(sa, ExchangeType.INFORMATIONAL, state.next_id, payloads)
        state.next_id += 1
        return message

