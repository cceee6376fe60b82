"""A sans-I/O IKEv2 initiator (RFC 7296) for tests, the method-author kit and load generation.

No sockets, no threads, no clock: ``now`` is passed in. One request is outstanding at a time
(window size 1); later requests (``liveness``, ``delete``) queue behind it::

    out = ini.start(now)                          # -> [Datagram] IKE_SA_INIT
    out = ini.receive_datagram(data, now)         # each response -> the next request(s)
    ini.get_timer() / ini.handle_timer(now)       # retransmits, exponential, bounded
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..crypto.sk import IntegrityError
from ..eap.peer import EapPeer, PeerError
from ..ike.events import Address, Datagram
from ..ike.nat import NON_ESP_MARKER
from ..wire.codec import parse_header_only, parse_message
from ..wire.constants import ExchangeType, NotifyType, ProtocolId
from ..wire.errors import ParseError
from ..wire.payloads import (
    DeletePayload,
    EapPayload,
    IdPayload,
    IkeHeader,
    NotifyPayload,
    Payload,
    SaPayload,
)
from . import ike_auth, sa_init
from .config import InitiatorConfig
from .results import InitiatorEvent, InitiatorResult, InitiatorState
from .session import InitiatorSa

Handler = Callable[[IkeHeader, list[Payload], float], list[Datagram]]
NAT_PORT = 4500
_DONE = (InitiatorState.FAILED, InitiatorState.CLOSED)


@dataclass
class _Outstanding:
    message_id: int
    exchange: int
    message: bytes
    handler: Handler
    deadline: float
    tries: int = 0


class Initiator:
    """One IKE SA from the initiator's side; see the module docstring for the flow."""

    def __init__(
        self,
        config: InitiatorConfig,
        local: Address,
        remote: Address,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.config = config
        self.local = local
        self.remote = remote
        self.state = InitiatorState.INIT
        self.failure_reason: str | None = None
        self.failure_notify: int | None = None
        self.result = InitiatorResult()
        self.events: list[InitiatorEvent] = []
        self._random = random
        self._ca = ike_auth.load_ca(config)
        self._attempt: sa_init.InitAttempt | None = None
        self._sa: InitiatorSa | None = None
        self._peer: EapPeer | None = None
        self._esp_spi = b""
        self._esp_offer: SaPayload | None = None
        self._next_mid = 0
        self._out: _Outstanding | None = None
        self._queue: deque[tuple[int, list[Payload], Handler]] = deque()
        self._floated = False
        self._peer_next_mid = 0
        self._peer_last: tuple[int, bytes] | None = None
        self._raw: tuple[bytes, bytes] = (b"", b"")  # request and response being handled
        self._id_r: IdPayload | None = None
        self.last_response: list[Payload] | None = None

    # ---- public API ---------------------------------------------------------------------

    @property
    def established(self) -> bool:
        return self.state == InitiatorState.ESTABLISHED

    @property
    def finished(self) -> bool:
        """Established, failed or closed, with nothing left to send."""
        return (
            self._out is None
            and not self._queue
            and self.state not in (InitiatorState.INIT, InitiatorState.AUTH, InitiatorState.EAP)
        )

    @property
    def sa(self) -> InitiatorSa | None:
        return self._sa

    def start(self, now: float) -> list[Datagram]:
        """The IKE_SA_INIT request."""
        if self._attempt is not None:
            raise RuntimeError("Initiator.start() called twice")
        self._attempt = sa_init.new_attempt(self.config, self._random)
        self.result.spi_i = self._attempt.spi_i
        return self._send_sa_init(now)

    def receive_datagram(self, data: bytes, now: float) -> list[Datagram]:
        if self._floated and data[:4] == NON_ESP_MARKER:
            data = data[4:]
        try:
            header = parse_header_only(data)
        except ParseError:
            return []
        if (
            self._attempt is None
            or header.spi_i != self._attempt.spi_i
            or header.length != len(data)
        ):
            return []
        if not header.is_response:
            return self._peer_request(header, data)
        out = self._out
        if out is None or header.message_id != out.message_id or header.exchange != out.exchange:
            return []  # a late or duplicate response
        payloads = self._open(header, data)
        if payloads is None:
            return []
        self._out = None
        self._raw = (out.message, data)
        self.result.exchanges[_exchange_name(header.exchange)] += 1
        self.result.notifies += [p.notify_type for p in payloads if isinstance(p, NotifyPayload)]
        sent = out.handler(header, payloads, now)
        return sent + self._next_queued(now)

    def get_timer(self) -> float | None:
        return self._out.deadline if self._out is not None else None

    def handle_timer(self, now: float) -> list[Datagram]:
        """Retransmit the outstanding request, or fail after ``retransmit_tries``."""
        out = self._out
        if out is None or now < out.deadline:
            return []
        if out.tries >= self.config.retransmit_tries:
            return self._fail(f"timeout waiting for the {_exchange_name(out.exchange)} response")
        out.tries += 1
        out.deadline = now + self.config.retransmit_timeout * 2**out.tries
        self.result.retransmits += 1
        self.events.append(InitiatorEvent("retransmit", _exchange_name(out.exchange)))
        return self._datagrams(out.message)

    def liveness(self, now: float) -> list[Datagram]:
        """An empty INFORMATIONAL request (RFC 7296 §1.4)."""
        return self._informational([], self._on_liveness, now)

    def delete(self, now: float) -> list[Datagram]:
        """INFORMATIONAL with Delete of the IKE SA (and so of its Child SAs)."""
        return self._informational([DeletePayload(ProtocolId.IKE)], self._on_delete, now)

    def delete_child(self, now: float) -> list[Datagram]:
        """INFORMATIONAL with Delete of the first Child SA (our inbound SPI)."""
        child = self.result.child
        if child is None:
            raise RuntimeError("no Child SA to delete")
        payload = DeletePayload(ProtocolId.ESP, (child.spi_in,))
        return self._informational([payload], self._on_child_delete, now)

    def send_request(
        self, exchange: int, payloads: list[Payload], now: float, handler: Handler | None = None
    ) -> list[Datagram]:
        """Any protected request (tests of odd peers); the response lands in ``last_response``."""
        if self._sa is None:
            raise RuntimeError("no IKE SA yet")
        return self._request(exchange, payloads, handler or self._on_custom, now)

    # ---- sending ------------------------------------------------------------------------

    def _datagrams(self, message: bytes) -> list[Datagram]:
        if self._floated:
            return [Datagram(NON_ESP_MARKER + message, self.local, self.remote)]
        return [Datagram(message, self.local, self.remote)]

    def _transmit(
        self, message: bytes, mid: int, exchange: int, handler: Handler, now: float
    ) -> list[Datagram]:
        self._out = _Outstanding(
            mid, exchange, message, handler, now + self.config.retransmit_timeout
        )
        return self._datagrams(message)

    def _request(
        self, exchange: int, payloads: list[Payload], handler: Handler, now: float
    ) -> list[Datagram]:
        if self.state in _DONE or self._sa is None:
            return []
        if self._out is not None:
            self._queue.append((exchange, payloads, handler))
            return []
        mid = self._next_mid
        self._next_mid += 1
        return self._transmit(self._sa.seal(exchange, mid, payloads), mid, exchange, handler, now)

    def _next_queued(self, now: float) -> list[Datagram]:
        if self._out is not None or not self._queue:
            return []
        exchange, payloads, handler = self._queue.popleft()
        return self._request(exchange, payloads, handler, now)

    def _informational(
        self, payloads: list[Payload], handler: Handler, now: float
    ) -> list[Datagram]:
        if self.state != InitiatorState.ESTABLISHED:
            raise RuntimeError(f"INFORMATIONAL needs an established IKE SA, not {self.state}")
        return self._request(ExchangeType.INFORMATIONAL, payloads, handler, now)

    def _send_sa_init(self, now: float) -> list[Datagram]:
        assert self._attempt is not None
        message = sa_init.build_request(self.config, self._attempt, self.local, self.remote)
        self._next_mid = 1
        return self._transmit(message, 0, ExchangeType.IKE_SA_INIT, self._on_sa_init, now)

    # ---- receiving ----------------------------------------------------------------------

    def _open(self, header: IkeHeader, data: bytes) -> list[Payload] | None:
        try:
            if header.exchange == ExchangeType.IKE_SA_INIT:
                return parse_message(data)[1]
            if self._sa is None or header.spi_r != self._sa.spi_r:
                return None
            return self._sa.open(data)
        except (ParseError, IntegrityError):
            return None

    def _peer_request(self, header: IkeHeader, data: bytes) -> list[Datagram]:
        """A request from the responder: answer INFORMATIONAL (liveness, Delete) only."""
        if self._sa is None or header.exchange != ExchangeType.INFORMATIONAL:
            return []
        mid = header.message_id
        if self._peer_last is not None and mid == self._peer_last[0]:
            return self._datagrams(self._peer_last[1])
        if mid != self._peer_next_mid:
            return []
        payloads = self._open(header, data)
        if payloads is None:
            return []
        response = self._sa.seal(ExchangeType.INFORMATIONAL, mid, [], response=True)
        self._peer_next_mid, self._peer_last = mid + 1, (mid, response)
        if any(isinstance(p, DeletePayload) and p.protocol == ProtocolId.IKE for p in payloads):
            self._close("deleted by the responder")
        return self._datagrams(response)

    # ---- failure and closing ------------------------------------------------------------

    def _fail(
        self, reason: str, notify: int | None = None, tell_peer: bool = False
    ) -> list[Datagram]:
        """Give up; with ``tell_peer`` send a one-shot INFORMATIONAL AUTHENTICATION_FAILED."""
        self.state = InitiatorState.FAILED
        self.failure_reason, self.failure_notify = reason, notify
        self.events.append(InitiatorEvent("failed", reason))
        self._out = None
        self._queue.clear()
        if not tell_peer or self._sa is None:
            return []
        mid = self._next_mid
        self._next_mid += 1
        message = self._sa.seal(
            ExchangeType.INFORMATIONAL, mid, [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)]
        )
        return self._datagrams(message)

    def _close(self, reason: str) -> None:
        self.state = InitiatorState.CLOSED
        self.result.deleted = True
        self.events.append(InitiatorEvent("closed", reason))
        self._out = None
        self._queue.clear()

    # ---- handlers, one per expected response --------------------------------------------

    def _on_sa_init(self, header: IkeHeader, payloads: list[Payload], now: float) -> list[Datagram]:
        assert self._attempt is not None
        request, response = self._raw
        outcome = sa_init.process_response(
            self.config, self._attempt, request, response, header, payloads, self.local
        )
        if outcome.retry:
            assert outcome.event is not None
            self.events.append(InitiatorEvent(*outcome.event))
            return self._send_sa_init(now)
        if outcome.sa is None:
            return self._fail(outcome.reason, outcome.notify)
        return self._start_auth(outcome, now)

    def _start_auth(self, outcome: sa_init.InitOutcome, now: float) -> list[Datagram]:
        sa = outcome.sa
        assert sa is not None
        self._sa = sa
        self.result.suite, self.result.spi_r = sa.suite, sa.spi_r
        self.result.nat_detected = outcome.nat_detected
        self.events.append(InitiatorEvent("sa_init", f"{sa.suite}"))
        if self.config.nat_t or outcome.nat_detected:
            self._float()
        self._esp_spi = self._child_spi()
        payloads, self._esp_offer = ike_auth.first_request(self.config, sa, self._esp_spi, self._ca)
        if not self.config.uses_psk and self.config.eap_peer is not None:
            identity = (self.config.eap_identity or self.config.identity).encode("utf-8")
            self._peer = self.config.eap_peer(identity, self.config.password)
        elif not self.config.uses_psk:
            self._peer = EapPeer(
                self.config.eap_identity or self.config.identity,
                self.config.password,
                self.config.eap_types,
            )
        self.state = InitiatorState.AUTH
        return self._request(ExchangeType.IKE_AUTH, payloads, self._on_first_auth, now)

    def _float(self) -> None:
        """Move to UDP 4500 with the non-ESP marker (RFC 7296 §2.23)."""
        self._floated = True
        if self.local[1] == 500:
            self.local = (self.local[0], NAT_PORT)
        self.remote = (self.remote[0], NAT_PORT)
        self.events.append(InitiatorEvent("nat_t", f"{self.remote[0]}:{NAT_PORT}"))

    def _child_spi(self) -> bytes:
        while True:
            spi = self._random(4)
            if int.from_bytes(spi, "big") >= 256:
                return spi

    def _auth_error(self, payloads: list[Payload]) -> list[Datagram] | None:
        """Fail on an error notify in an IKE_AUTH response that carries no AUTH."""
        if ike_auth.first(payloads, ike_auth.AuthPayload) is not None:
            return None
        for p in payloads:
            if isinstance(p, NotifyPayload) and p.notify_type < 16384:
                return self._fail(sa_init.notify_name(p.notify_type), p.notify_type)
        return None

    def _on_first_auth(
        self, header: IkeHeader, payloads: list[Payload], now: float
    ) -> list[Datagram]:
        assert self._sa is not None
        failed = self._auth_error(payloads)
        if failed is not None:
            return failed
        if self.config.uses_psk:
            assert self.config.psk is not None
            check = ike_auth.verify_shared(
                self.config, self._sa, payloads, self.config.psk.encode()
            )
        elif self.config.eap_only and ike_auth.first(payloads, ike_auth.AuthPayload) is None:
            check = ike_auth.verify_eap_only(self.config, payloads)
            self.result.eap_only = check.ok
        else:
            check = ike_auth.verify_signature(self.config, self._sa, payloads, self._ca)
        self._note_responder(check)
        if not check.ok:
            return self._fail(check.reason, tell_peer=True)
        if self.config.uses_psk:
            return self._establish(payloads)
        self.state = InitiatorState.EAP
        return self._on_eap(header, payloads, now)

    def _note_responder(self, check: ike_auth.ResponderAuth) -> None:
        self._id_r = check.id_payload
        self.result.responder_identity = check.identity
        self.result.responder_auth_method = check.method
        if check.cert is not None:
            self.result.server_cert = check.cert
            self.result.server_cert_trusted = check.trusted

    def _on_eap(self, header: IkeHeader, payloads: list[Payload], now: float) -> list[Datagram]:
        assert self._peer is not None and self._sa is not None
        eap = ike_auth.first(payloads, EapPayload)
        if eap is None:
            failed = self._auth_error(payloads)
            return failed if failed is not None else self._fail("IKE_AUTH response without EAP")
        try:
            answer = self._peer.respond(eap.data)
        except PeerError as exc:
            return self._fail(f"EAP peer: {exc}", tell_peer=True)
        if answer is not None:
            request_type = eap.data[4] if len(eap.data) > 4 else 0
            self.result.eap_request_types.append(request_type)
            self.events.append(InitiatorEvent("eap_request", str(request_type)))
            return self._request(ExchangeType.IKE_AUTH, [EapPayload(answer)], self._on_eap, now)
        if not self._peer.succeeded:
            failed = self._auth_error(payloads)
            return failed if failed is not None else self._fail("EAP failure")
        problem = ike_auth.eap_only_problem(self._peer) if self.result.eap_only else ""
        if problem:
            return self._fail(problem, tell_peer=True)
        msk = self._peer.msk()
        self.result.msk = msk
        self.result.eap_method = self._peer.method.eap_type if self._peer.method else None
        self.events.append(InitiatorEvent("eap_success", "msk" if msk else "no msk"))
        auth = ike_auth.final_auth(self.config, self._sa, msk)
        return self._request(ExchangeType.IKE_AUTH, [auth], self._on_final_auth, now)

    def _on_final_auth(
        self, header: IkeHeader, payloads: list[Payload], now: float
    ) -> list[Datagram]:
        assert self._sa is not None
        failed = self._auth_error(payloads)
        if failed is not None:
            return failed
        key = self.result.msk or self._sa.keys.sk_pr
        check = ike_auth.verify_shared(self.config, self._sa, payloads, key, self._id_r)
        if not check.ok:
            return self._fail(check.reason, tell_peer=True)
        return self._establish(payloads)

    def _establish(self, payloads: list[Payload]) -> list[Datagram]:
        assert self._sa is not None
        child, error = ike_auth.child_result(self._sa, self._esp_offer, self._esp_spi, payloads)
        self.result.child, self.result.child_error = child, error
        self.result.virtual_ip, self.result.dns = ike_auth.config_reply(payloads)
        self.result.established = True
        self.state = InitiatorState.ESTABLISHED
        self.events.append(InitiatorEvent("established", self.result.virtual_ip or ""))
        return []

    def _on_liveness(
        self, header: IkeHeader, payloads: list[Payload], now: float
    ) -> list[Datagram]:
        self.result.liveness_answered += 1
        self.events.append(InitiatorEvent("liveness"))
        return []

    def _on_delete(self, header: IkeHeader, payloads: list[Payload], now: float) -> list[Datagram]:
        self._close("deleted by us")
        return []

    def _on_child_delete(
        self, header: IkeHeader, payloads: list[Payload], now: float
    ) -> list[Datagram]:
        spis = [s for p in payloads if isinstance(p, DeletePayload) for s in p.spis]
        child = self.result.child
        if child is not None and child.spi_out in spis:
            self.result.child = None
            self.events.append(InitiatorEvent("child_deleted", child.spi_in.hex()))
        return []

    def _on_custom(self, header: IkeHeader, payloads: list[Payload], now: float) -> list[Datagram]:
        self.last_response = payloads
        return []


def _exchange_name(exchange: int) -> str:
    try:
        return ExchangeType(exchange).name
    except ValueError:
        return f"EXCHANGE_{exchange}"
