"""The sans-I/O IKEv2 responder: routes datagrams to IKE SAs, keeps the message window,
runs timers, and reports events. No sockets, no clock: ``now`` is passed in.

Usage by an adapter::

    out = responder.receive_datagram(data, local, remote, now)   # -> [Datagram]
    while (event := responder.next_event()) is not None: ...
    # EapStepPending: await event.step, then responder.eap_done(event.sa_id, output, now)
"""

from __future__ import annotations

import heapq
import itertools
import hmac
import logging
import os
from collections import deque
from typing import Any, Callable

from ..crypto.sk import IntegrityError
from ..eap.authenticator import EapOutput
from ..wire.codec import (parse_header_only, parse_message, parse_outer_chain,
                           parse_payloads)
from ..wire.constants import ExchangeType, HeaderFlag, NotifyType
from ..wire.errors import ParseError
from ..wire.payloads import EncryptedFragmentPayload, EncryptedPayload, IkeHeader, NotifyPayload
from .cookies import CookieJar, cookie_challenge
from .create_child_sa import handle_create_child_sa
from .dos import Admission, DosGuard
from .events import (Address, AuthenticationFailed, Datagram, EapStepPending, Event,
                     IkeSaDeleted, IkeSaEstablished)
from .fragments import (ReassemblyBudget, receive_fragment, request_digest,
                        seal_response_fragments)
from .ike_auth import eap_step_done, handle_ike_auth
from .informational import handle_informational
from .liveness import LivenessMonitor, Verdict
from .nat import NON_ESP_MARKER
from .sa import IkeSa, Outcome, SaState
from .sa_init import handle_sa_init
from .settings import ResponderSettings

log = logging.getLogger("ikeeap.ike")

CLOSED_LINGER = 10.0  # seconds a finished SA still answers retransmits of its last response


class Responder:
    def __init__(self, settings: ResponderSettings, random: Callable[[int], bytes] = os.urandom):
        self.settings = settings
        self._random = random
        self._sas: dict[bytes, IkeSa] = {}
        self._half_open: dict[tuple[Address, bytes], bytes] = {}  # (remote, SPIi) -> SPIr
        self._events: deque[Event] = deque()
        self._timers: list[tuple[float, int, bytes]] = []
        self._timer_seq = itertools.count()
        self.dos = DosGuard(settings.hardening)
        self._cookies = CookieJar(settings.hardening.cookie_secret_lifetime, random)
        self.liveness = LivenessMonitor(settings.hardening)
        self.cookies_sent = 0  # COOKIE challenges answered (RFC 7296 §2.6)
        self.reassembly = ReassemblyBudget(settings.hardening.reassembly_budget)
        self.false_retransmits = 0  # last message ID but other octets: not answered

    # ---- adapter API -------------------------------------------------------------------

    def receive_datagram(self, data: bytes, local: Address, remote: Address,
                         now: float) -> list[Datagram]:
        if local[1] == self.settings.nat_port:
            if len(data) < 4 or data[:4] != NON_ESP_MARKER:
                return []  # NAT keepalive (0xff) or ESP, which the kernel owns
            data = data[4:]
        try:
            header = parse_header_only(data)
        except ParseError as exc:
            log.debug("%s:%d dropped: %s", *remote, exc)
            return []
        if len(data) != header.length:
            return []
        if header.is_response:  # only answers to our liveness checks are expected
            self._response(header, data, now)
            return []
        if header.exchange == ExchangeType.IKE_SA_INIT and header.spi_r == bytes(8):
            return self._frame(self._sa_init(header, data, local, remote, now), local, remote)
        sa = self._sas.get(header.spi_r)
        if sa is None or sa.spi_i != header.spi_i:
            log.debug("%s:%d dropped: unknown SPI %s", *remote, header.spi_r.hex())
            return []
        return self._frame(self._request(sa, header, data, local, remote, now), local, remote)

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        while self._timers:
            deadline, _, spi = self._timers[0]
            sa = self._sas.get(spi)
            if sa is not None and sa.deadline == deadline:
                return deadline
            heapq.heappop(self._timers)
        return None

    def handle_timer(self, now: float) -> list[Datagram]:
        out: list[Datagram] = []
        while self._timers and self._timers[0][0] <= now:
            deadline, _, spi = heapq.heappop(self._timers)
            sa = self._sas.get(spi)
            if sa is not None and sa.deadline == deadline:
                if sa.state == SaState.ESTABLISHED and self.liveness.watches(sa):
                    out += self._liveness_timer(sa, now)
                else:
                    self._expire(sa)
        return out

    def eap_done(self, sa_id: str, output: EapOutput | None, now: float) -> list[Datagram]:
        """Feed back the result of an EapStepPending (None: it failed or timed out)."""
        sa = self._sas.get(bytes.fromhex(sa_id))
        if sa is None or sa.state == SaState.CLOSED or sa.pending_request_id is None \
                or sa.reply_to is None:
            return []
        outcome = eap_step_done(self.settings, sa, output)
        local, remote = sa.reply_to
        return self._frame(self._answer(sa, sa.pending_request_id, ExchangeType.IKE_AUTH,
                                        outcome, now), local, remote)

    # ---- introspection ------------------------------------------------------------------

    def sas(self) -> list[IkeSa]:
        return [sa for sa in self._sas.values() if sa.state != SaState.CLOSED]

    def count(self, state: SaState) -> int:
        return sum(1 for sa in self._sas.values() if sa.state == state)

    def get_sa(self, sa_id: str) -> IkeSa | None:
        """The SA with this id (hex SPIr), closed ones included while they linger."""
        try:
            return self._sas.get(bytes.fromhex(sa_id))
        except ValueError:
            return None

    # ---- administrative control ----------------------------------------------------------

    def terminate(self, sa_id: str, now: float, reason: str = "terminated") -> list[Datagram]:
        """End one SA: an established one gets an INFORMATIONAL DELETE (RFC 7296 §1.4.1)
        through the liveness request machinery; one still logging in is just dropped."""
        sa = self.get_sa(sa_id)
        if sa is None or sa.state == SaState.CLOSED:
            return []
        out: list[Datagram] = []
        if sa.state == SaState.ESTABLISHED:
            out = self._frame([self.liveness.delete_request(sa, now)], sa.local, sa.remote)
        log.info("%s %s: deleting the IKE SA", sa.log_prefix(), reason)
        self._events.append(IkeSaDeleted(sa.id, reason))
        self._close(sa, now)
        return out

    def terminate_all(self, now: float, reason: str = "shutdown") -> list[Datagram]:
        out: list[Datagram] = []
        for sa in self.sas():
            out += self.terminate(sa.id, now, reason)
        return out

    # ---- internals ----------------------------------------------------------------------

    def _frame(self, messages: list[bytes], local: Address, remote: Address) -> list[Datagram]:
        marker = NON_ESP_MARKER if local[1] == self.settings.nat_port else b""
        return [Datagram(marker + m, local, remote) for m in messages]

    def _schedule(self, sa: IkeSa, deadline: float) -> None:
        sa.deadline = deadline
        heapq.heappush(self._timers, (deadline, next(self._timer_seq), sa.spi_r))

    def _sa_init(self, header: IkeHeader, data: bytes, local: Address, remote: Address,
                 now: float) -> list[bytes]:
        if header.message_id != 0 or not header.flags & HeaderFlag.INITIATOR:
            return []
        known = self._half_open.get((remote, header.spi_i))
        if known is not None and known in self._sas:
            sa = self._sas[known]
            # Its own response, even after IKE_AUTH replaced last_response (RFC 7296 §2.1).
            return [sa.init_response] if sa.init_request == data else []
        if self.dos.admit(remote[0], len(self._sas), now) is Admission.DROP:
            return []
        try:
            _, payloads = parse_message(data)
        except ParseError as exc:
            log.info("%s:%d malformed IKE_SA_INIT: %s", *remote, exc)
            return []
        if self.dos.cookie_required(remote[0]):
            # Stateless until the initiator proves it receives at its address (RFC 7296 §2.6).
            challenge = cookie_challenge(self._cookies, header, payloads, remote[0], now)
            if challenge is not None:
                self.cookies_sent += 1 if challenge else 0  # for the metrics
                return [challenge] if challenge else []
        result = handle_sa_init(self.settings, header, payloads, data, local, remote, now,
                                self._random)
        if result.sa is not None:
            self._sas[result.sa.spi_r] = result.sa
            self._half_open[(remote, header.spi_i)] = result.sa.spi_r
            result.sa.half_open_key = (remote, header.spi_i)
            self.dos.sa_created(result.sa.spi_r, remote[0])
            self._schedule(result.sa, result.sa.deadline)
            if log.isEnabledFor(logging.DEBUG):  # log_prefix() formats even when filtered
                log.debug("%s IKE_SA_INIT answered, suite %s", result.sa.log_prefix(),
                          result.sa.suite)
        return [result.response]

    def _request(self, sa: IkeSa, header: IkeHeader, data: bytes, local: Address,
                 remote: Address, now: float) -> list[bytes]:
        mid = header.message_id
        if mid == sa.last_response_id and mid == sa.next_request_id - 1:
            return self._retransmit(sa, data)
        if mid == sa.pending_request_id or mid != sa.next_request_id or sa.state == SaState.CLOSED:
            return []  # being worked on, or outside the window
        try:
            opened = self._open_request(sa, header, data, mid, now)
        except (ParseError, IntegrityError) as exc:
            log.info("%s dropped request %d: %s", sa.log_prefix(), mid, exc)
            return []
        if opened is None:
            return []  # more fragments to come
        inner, sa.request_digest = opened
        self.dos.sa_authenticated(sa.spi_r)  # it has the keys: not a spoofed half-open SA
        self.liveness.heard(sa, now)
        sa.remote, sa.local = remote, local  # NAT-T: answer where the request came from
        sa.reply_to = (local, remote)
        outcome = self._dispatch(sa, header, inner, now)
        return self._answer(sa, mid, header.exchange, outcome, now)

    def _open_request(self, sa: IkeSa, header: IkeHeader, data: bytes, mid: int,
                      now: float) -> tuple[list, bytes] | None:
        """The inner payloads of an SK message, or of a reassembled SKF one (RFC 7383), with
        the digest a retransmission must match; None while fragments are missing."""
        # One walk of the outer chain with the header already parsed (receive_datagram
        # checked its length): sk_offset + parse_message parsed it twice more.
        outer = parse_outer_chain(data, header.next_payload)
        sk = outer[-1] if outer else None
        if isinstance(sk, EncryptedPayload):
            offset = len(data) - 4 - len(sk.data)  # SK is last: its generic header
            inner = parse_payloads(sk.first_payload, sa.decrypter.open(data, offset))
            return inner, request_digest(data)
        if not isinstance(sk, EncryptedFragmentPayload):
            raise ParseError("no SK or SKF payload in message")
        offset = len(data) - 8 - len(sk.data)  # generic header + fragment number/total
        done = receive_fragment(sa, self.settings.hardening, self.reassembly, data, offset, sk,
                                mid, now)
        if done is None:
            return None
        return parse_payloads(done.first_payload, done.inner), done.first_digest

    def _retransmit(self, sa: IkeSa, data: bytes) -> list[bytes]:
        """Our last response again (RFC 7296 §2.1) for the same octets as the request it
        answered; for a fragmented request only when its first fragment comes again, so each
        retransmitted fragment is not answered.  Anything else with that message ID (a bad
        ICV, a forgery) is dropped without the cost of a decryption."""
        if hmac.compare_digest(request_digest(data), sa.request_digest):
            return list(sa.last_response)
        try:
            _, outer = parse_message(data)
        except ParseError:
            outer = []
        last = outer[-1] if outer else None
        if not (isinstance(last, EncryptedFragmentPayload) and last.fragment_number != 1):
            self.false_retransmits += 1  # later fragments of a retransmission are expected
            log.debug("%s request %d again with other octets: not answered", sa.log_prefix(),
                      sa.last_response_id)
        return []

    def _dispatch(self, sa: IkeSa, header: IkeHeader, payloads: list,
                  now: float = 0.0) -> Outcome:
        exchange = header.exchange
        if exchange == ExchangeType.IKE_AUTH and sa.state in (SaState.HALF_OPEN,
                                                              SaState.AUTHENTICATING):
            return handle_ike_auth(self.settings, sa, payloads)
        if exchange == ExchangeType.INFORMATIONAL and sa.state == SaState.AUTHENTICATING:
            # The initiator refusing our AUTH or certificate (RFC 7296 §2.21.2).
            outcome = handle_informational(sa, payloads)
            return outcome if outcome.close else _refuse(sa, "INFORMATIONAL before AUTH done")
        if sa.state != SaState.ESTABLISHED:
            return _refuse(sa, f"exchange {exchange} before AUTH done")
        if exchange == ExchangeType.INFORMATIONAL:
            return handle_informational(sa, payloads)
        if exchange == ExchangeType.CREATE_CHILD_SA:
            return self._create_child_sa(sa, payloads, now)
        return Outcome([NotifyPayload(NotifyType.INVALID_SYNTAX)])

    def _response(self, header: IkeHeader, data: bytes, now: float) -> None:
        sa = self._sas.get(header.spi_r)
        if sa is None or sa.spi_i != header.spi_i or sa.state != SaState.ESTABLISHED:
            return
        if self.liveness.on_response(sa, header, data, now):
            self._deadline_for_state(sa)

    def _liveness_timer(self, sa: IkeSa, now: float) -> list[Datagram]:
        """Send or retransmit a liveness check, or end an SA that is dead or too old."""
        verdict, messages = self.liveness.on_timer(sa, now)
        out = self._frame(messages, sa.local, sa.remote)
        if verdict is Verdict.DEAD:
            self._events.append(IkeSaDeleted(sa.id, "peer dead: no answer to liveness checks"))
            self._release(sa)
            del self._sas[sa.spi_r]
        elif verdict is Verdict.REAUTH:
            self._events.append(IkeSaDeleted(sa.id, "reauth_time reached"))
            self._close(sa, now)
        else:
            self._deadline_for_state(sa)
        return out

    def _create_child_sa(self, sa: IkeSa, payloads: list, now: float) -> Outcome:
        result = handle_create_child_sa(self.settings, sa, payloads, self._random, now)
        new = result.new_ike_sa
        if new is not None:  # an IKE SA rekey: the new SA takes over (RFC 7296 §2.18)
            self._sas[new.spi_r] = new
            self.liveness.heard(new, now)
            self._deadline_for_state(new)
        return result.outcome

    def _answer(self, sa: IkeSa, mid: int, exchange: int, outcome: Outcome,
                now: float) -> list[bytes]:
        self._events.extend(outcome.events)
        if outcome.pending is not None:
            sa.pending_request_id = mid
            self._events.append(EapStepPending(sa.id, outcome.pending,
                                               self.settings.eap_step_timeout))
            self._deadline_for_state(sa)
            return []
        sa.pending_request_id = None
        responses = seal_response_fragments(
            sa, self.settings.hardening, exchange, mid, outcome.payloads,
            marker_len=len(NON_ESP_MARKER) if sa.local[1] == self.settings.nat_port else 0,
            allowed=_fragments_allowed(sa))
        sa.last_response_id, sa.last_response = mid, responses
        established = next((e for e in outcome.events if isinstance(e, IkeSaEstablished)), None)
        if established is not None:
            self._limit_session(sa, established, now)
            sa.park()  # the login is over: free its buffers (docs/performance.md)
        sa.next_request_id = mid + 1
        if outcome.close:
            self._close(sa, now)
        else:
            self._deadline_for_state(sa)
        return list(responses)

    def _limit_session(self, sa: IkeSa, event: IkeSaEstablished, now: float) -> None:
        """A backend's Session-Timeout becomes this SA's re-authentication lifetime."""
        timeout = getattr(event.authorization, "session_timeout", None)
        if timeout:
            log.info("%s session timeout %d s (from %s)", sa.log_prefix(), timeout,
                     getattr(event.authorization, "server", None) or "the EAP backend")
            self.liveness.limit_lifetime(sa, float(timeout), now)

    def _deadline_for_state(self, sa: IkeSa) -> None:
        if sa.state == SaState.ESTABLISHED:
            deadline = self.liveness.deadline(sa)  # inf: no liveness checks configured
            if deadline == float("inf"):
                sa.deadline = deadline
            elif deadline != sa.deadline:
                self._schedule(sa, deadline)
        elif sa.deadline == sa.created + self.settings.half_open_timeout:
            self._schedule(sa, sa.created + self.settings.auth_timeout)

    def _release(self, sa: IkeSa) -> None:
        self.dos.sa_removed(sa.spi_r)
        self.reassembly.drop(sa)
        self.liveness.forget(sa)
        if sa.half_open_key is not None:
            self._half_open.pop(sa.half_open_key, None)
            sa.half_open_key = None
        if sa.auth is not None and sa.auth.authenticator is not None:
            sa.auth.authenticator.abort()
            sa.auth.authenticator = None
        if sa.virtual_ip is not None and sa.pool_name in self.settings.pools:
            self.settings.pools[sa.pool_name].release(sa.virtual_ip)
            sa.virtual_ip = None

    def _close(self, sa: IkeSa, now: float) -> None:
        """Stop using the SA but keep answering retransmits of its last response a while."""
        self._release(sa)
        sa.move_to(SaState.CLOSED)
        self._schedule(sa, now + CLOSED_LINGER)

    def _expire(self, sa: IkeSa) -> None:
        if sa.state not in (SaState.CLOSED, SaState.ESTABLISHED):
            log.info("%s %s SA timed out", sa.log_prefix(), sa.state.value)
            if sa.state == SaState.AUTHENTICATING and sa.auth is not None:
                # A login that never finished is a failed login (audit, metrics).
                self._events.append(AuthenticationFailed(
                    sa.id, sa.remote, sa.auth.peer_id_text, "authentication timed out"))
            self._events.append(IkeSaDeleted(sa.id, f"{sa.state.value} timeout"))
        self._release(sa)
        del self._sas[sa.spi_r]


def _fragments_allowed(sa: IkeSa) -> bool:
    """The connection's switch for clients that break on fragments (some Android builds)."""
    conn = sa.auth.connection if sa.auth is not None else None
    return getattr(conn, "fragmentation", True)


def _refuse(sa: IkeSa, reason: str) -> Outcome:
    """Answer INVALID_SYNTAX and end an SA that is not established yet."""
    log.info("%s %s: closing", sa.log_prefix(), reason)
    return Outcome([NotifyPayload(NotifyType.INVALID_SYNTAX)], close=True,
                   events=[IkeSaDeleted(sa.id, reason)])
