"""The EAP authenticator (server side of RFC 3748 §2, roughly the RFC 4137 state machine).

It owns the Identity round, identifiers, NAK handling, Success/Failure and MSK collection,
and drives one :class:`EapMethod` at a time.  Sans-I/O: the IKE layer feeds it the EAP
payload octets and sends the packet of each :class:`EapOutput`.

Rules:

- Each new Request takes the next identifier (mod 256); a Response whose identifier does
  not match the outstanding Request, a malformed packet, or anything that is not a
  Response is silently ignored (``EapOutput.ignored``; the transport may resend
  :attr:`EapAuthenticator.last_request`).
- A Legacy Nak (type 3) is accepted only as the answer to a method's first Request: the
  authenticator picks, in *its own* order of ``method_factories``, the first untried
  method the peer asked for (a pass-through entry with type None accepts any request);
  none left -> EAP-Failure.  A pass-through method receives every Response, Naks
  included.
- Any other unexpected Response type ends the conversation with EAP-Failure.
- An exception from a method (plugins misbehave) becomes EAP-Failure with a reason; it
  never propagates.
- On success the authorised identity is the one the method proved
  (``authenticated_identity()``), else the EAP identity; a tunnelled method's outer identity
  must satisfy the ``outer_identity`` policy (:mod:`ikeeap.eap.identity`) or the login fails.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from ikeeap.eap.authorization import Authorization
from ikeeap.eap.identity import OUTER_IDENTITY_POLICIES, outer_identity_problem, text
from ikeeap.eap.method import EapContext, EapMethod, EapStep, StepKind
from ikeeap.eap.packet import EapCode, EapPacket, EapParseError, EapType, parse_eap

logger = logging.getLogger("ikeeap.eap.authenticator")

MethodFactory = Callable[[], EapMethod]
FactoryList = Sequence[tuple[int | None, MethodFactory]]
FactorySource = FactoryList | Callable[[bytes], FactoryList]


@dataclass(frozen=True)
class EapOutput:
    """What the IKE layer should do next.

    ``packet`` is the EAP packet to send (None: nothing new).  ``finished`` with
    ``success`` means EAP-Success was produced; ``msk`` may still be None for methods
    without keys (MD5, GTC), and the IKE layer then decides what AUTH to use.
    """

    packet: bytes | None
    finished: bool
    success: bool = False
    msk: bytes | None = field(default=None, repr=False)
    emsk: bytes | None = field(default=None, repr=False)
    mutual: bool = False
    method_name: str | None = None
    identity: bytes | None = None  # the EAP (outer) identity
    reason: str = ""
    ignored: bool = False
    # Session parameters from a backend, e.g. the RADIUS Access-Accept's Framed-IP-Address;
    # None for local methods.
    authorization: Authorization | None = None
    # Who is logged in (set with success): what the method proved, else ``identity``.
    authorized_identity: bytes | None = None


class _Phase(Enum):
    NEW = 0
    IDENTITY = 1
    METHOD = 2
    DONE = 3


class EapAuthenticator:
    """One EAP conversation with one peer.

    ``method_factories``: ordered ``(eap_type, factory)`` pairs allowed for this
    user/connection (``factory()`` returns a fresh :class:`EapMethod`), or a callable that
    receives the EAP identity and returns such a list.  ``context`` supplies providers, the
    peer description and, when ``identity_round`` is False, the identity.
    """

    def __init__(
        self,
        method_factories: FactorySource,
        context: EapContext | None = None,
        require_mutual: bool = False,
        identity_round: bool = True,
        first_identifier: int | None = None,
        outer_identity: str = "anonymous-or-match",
    ) -> None:
        if outer_identity not in OUTER_IDENTITY_POLICIES:
            raise ValueError(f"outer_identity must be one of {OUTER_IDENTITY_POLICIES}")
        self._outer_policy = outer_identity
        self._source = method_factories
        self._ctx = context or EapContext()
        self._require_mutual = require_mutual
        self._mutual_methods_only = False  # set by require_mutual_methods()
        self._identity_round = identity_round
        if not identity_round and not self._ctx.identity:
            raise ValueError("identity_round=False needs context.identity")
        if first_identifier is None:
            first_identifier = secrets.randbelow(256)
        # The first Request (Identity, or the first method's) carries first_identifier.
        self._identifier = (first_identifier - (0 if identity_round else 1)) % 256
        self._identity: bytes | None = None if identity_round else self._ctx.identity
        self._phase = _Phase.NEW
        self._factories: list[tuple[int | None, MethodFactory]] = []
        self._tried: set[object] = set()  # EAP types, or factories of pass-throughs
        self._method: EapMethod | None = None
        self._method_name: str | None = None
        self._responses_in_method = 0
        self._last_request: bytes | None = None
        self._busy = False

    # -- public API ---------------------------------------------------------------------

    @property
    def last_request(self) -> bytes | None:
        """The last Request sent (for retransmission by the transport)."""
        return self._last_request

    @property
    def finished(self) -> bool:
        return self._phase is _Phase.DONE

    @property
    def identity(self) -> bytes | None:
        return self._identity

    async def start(self) -> EapOutput:
        """First Request: Identity, or the first method when the identity is known."""
        if self._phase is not _Phase.NEW:
            raise RuntimeError("EapAuthenticator.start() called twice")
        if self._identity_round:
            self._phase = _Phase.IDENTITY
            return self._request(bytes([EapType.IDENTITY]), self._identifier)
        self._busy = True
        try:
            return await self._begin_methods()
        finally:
            self._busy = False

    async def receive(self, packet: bytes) -> EapOutput:
        """Process one EAP packet from the peer."""
        if self._busy:
            return self._ignore("a step is still pending")
        if self._phase in (_Phase.NEW, _Phase.DONE):
            return self._ignore("no conversation in progress")
        try:
            eap = parse_eap(packet)
        except EapParseError as exc:
            return self._ignore(f"malformed EAP packet: {exc}")
        if eap.code != EapCode.RESPONSE:
            return self._ignore(f"EAP code {eap.code} from the peer")
        if eap.identifier != self._identifier:
            return self._ignore(f"identifier {eap.identifier} != {self._identifier}")
        self._busy = True
        try:
            if self._phase is _Phase.IDENTITY:
                return await self._on_identity(eap)
            return await self._on_method_response(eap)
        finally:
            self._busy = False

    def require_mutual_methods(self) -> None:
        """RFC 5998 EAP-only: offer only methods declaring themselves mutual and
        key-generating, and accept a success only with ``is_mutual()`` and an MSK.
        Call before :meth:`start`."""
        self._require_mutual = True
        self._mutual_methods_only = True

    def abort(self) -> None:
        """The SA is gone or timed out: release the method's state."""
        self._phase = _Phase.DONE
        self._abort_method()

    # -- phases -------------------------------------------------------------------------

    async def _on_identity(self, eap: EapPacket) -> EapOutput:
        if eap.type != EapType.IDENTITY:
            return self._fail(f"expected Identity, got type {eap.type}")
        self._identity = eap.data
        return await self._begin_methods()

    async def _begin_methods(self) -> EapOutput:
        self._phase = _Phase.METHOD
        try:
            source = self._source
            factories = source(self._identity or b"") if callable(source) else source
            self._factories = list(factories)
        except Exception as exc:  # policy callbacks are plugin code too
            logger.exception("method policy raised %s", type(exc).__name__)
            return self._fail(f"method policy raised {type(exc).__name__}")
        if self._mutual_methods_only:
            self._factories = [f for f in self._factories if _declares_mutual(f[1])]
            if not self._factories:
                return self._fail("no mutual, key-generating EAP method allowed (RFC 5998)")
        if not self._factories:
            return self._fail("no EAP method allowed")
        return await self._start_method(*self._factories[0])

    async def _on_method_response(self, eap: EapPacket) -> EapOutput:
        method = self._method
        assert method is not None
        if method.eap_type is not None:
            if eap.type == EapType.NAK:
                return await self._on_nak(eap.data)
            if eap.type != method.eap_type:
                return self._fail(f"response type {eap.type} != method {method.eap_type}")
        self._responses_in_method += 1
        ctx = self._method_ctx(eap.identifier)
        step = await self._call(lambda: method.process(ctx, eap.type_data))
        return self._apply(step, first=False)

    async def _on_nak(self, desired_octets: bytes) -> EapOutput:
        if self._responses_in_method:
            return self._fail("Nak after the method started")
        desired = {t for t in desired_octets if t not in (0, EapType.EXPANDED)}
        for eap_type, factory in self._factories:
            if _key(eap_type, factory) in self._tried:
                continue
            if (eap_type is None and desired) or eap_type in desired:
                self._abort_method()
                return await self._start_method(eap_type, factory)
        return self._fail(f"peer Nak: none of {sorted(desired)} is allowed")

    async def _start_method(self, eap_type: int | None, factory: MethodFactory) -> EapOutput:
        self._tried.add(_key(eap_type, factory))
        self._responses_in_method = 0
        try:
            self._method = factory()
            self._method_name = str(getattr(self._method, "name", type(self._method).__name__))
        except Exception as exc:
            logger.exception("EAP method factory raised %s", type(exc).__name__)
            self._method = None
            return self._fail(f"method factory raised {type(exc).__name__}")
        method = self._method
        ctx = self._method_ctx((self._identifier + 1) % 256)
        step = await self._call(lambda: method.start(ctx))
        return self._apply(step, first=True)

    # -- steps --------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], Awaitable[EapStep]]) -> EapStep:
        try:
            step = await fn()
        except Exception as exc:  # plugins misbehave; never propagate
            logger.exception("EAP method %s raised %s", self._method_name, type(exc).__name__)
            self._abort_method()
            return EapStep.failure(f"method {self._method_name} raised {type(exc).__name__}")
        if not isinstance(step, EapStep):
            self._abort_method()
            return EapStep.failure(f"method {self._method_name} returned {type(step).__name__}")
        return step

    def _apply(self, step: EapStep, first: bool) -> EapOutput:
        if step.kind is StepKind.CONTINUE:
            if not step.data:
                return self._fail(f"method {self._method_name} sent an empty request")
            expected = getattr(self._method, "eap_type", None)
            if expected is not None and step.data[0] != expected:
                return self._fail(f"method {self._method_name} sent type {step.data[0]}")
            default = (self._identifier + 1) % 256
            identifier = default if step.identifier is None else step.identifier % 256
            return self._request(step.data, identifier)
        if step.kind is StepKind.FAILURE:
            return self._fail(step.reason or "method failed", step.identifier)
        if first:
            return self._fail(f"method {self._method_name} succeeded without a response")
        return self._succeed(step.identifier)

    def _succeed(self, identifier: int | None) -> EapOutput:
        method = self._method
        assert method is not None
        try:
            msk, emsk, mutual = method.msk(), method.emsk(), bool(method.is_mutual())
        except Exception as exc:
            logger.exception("EAP method %s key export raised", self._method_name)
            return self._fail(f"method {self._method_name} raised {type(exc).__name__}")
        if not (_is_key(msk) and _is_key(emsk)):  # garbage would break the AUTH computation
            return self._fail(f"method {self._method_name} exported a key that is not bytes")
        if self._require_mutual and not mutual:
            return self._fail(f"method {self._method_name} is not mutual (RFC 5998)")
        if self._require_mutual and not msk:
            return self._fail(f"method {self._method_name} produced no MSK (RFC 5998)")
        authorized, problem = self._authorized_identity(method)
        if problem:
            return self._fail(problem)
        self._phase = _Phase.DONE
        packet = EapPacket(EapCode.SUCCESS, self._final_id(identifier)).encode()
        return EapOutput(packet, True, True, msk, emsk, mutual, self._method_name, self._identity,
                         authorization=_authorization_of(method), authorized_identity=authorized)

    def _authorized_identity(self, method: EapMethod) -> tuple[bytes, str]:
        """(who is logged in, why the login must fail or "")."""
        outer = self._identity or b""
        try:
            getter = getattr(method, "authenticated_identity", None)
            proved = getter() if callable(getter) else None
        except Exception as exc:  # plugin code: fail closed
            logger.exception("EAP method %s authenticated_identity() raised", self._method_name)
            return outer, f"method {self._method_name} raised {type(exc).__name__}"
        if proved is None:
            return outer, ""
        if not isinstance(proved, (bytes, bytearray)) or not proved:
            return outer, f"method {self._method_name} proved no usable identity"
        proved = bytes(proved)
        if getattr(method, "tunnelled", False):
            problem = outer_identity_problem(self._outer_policy, text(outer), text(proved))
            if problem:
                return proved, f"EAP-{self._method_name}: {problem} (outer_identity = " \
                               f"{self._outer_policy!r})"
        return proved, ""

    # -- helpers ------------------------------------------------------------------------

    def _method_ctx(self, identifier: int) -> EapContext:
        return replace(self._ctx, identity=self._identity or b"", identifier=identifier)

    def _request(self, type_data: bytes, identifier: int) -> EapOutput:
        try:
            packet = EapPacket.from_type_data(EapCode.REQUEST, identifier, type_data).encode()
        except ValueError as exc:
            return self._fail(f"method {self._method_name} built a bad request: {exc}")
        self._identifier = identifier
        self._last_request = packet
        return EapOutput(packet, False, method_name=self._method_name, identity=self._identity)

    def _fail(self, reason: str, identifier: int | None = None) -> EapOutput:
        logger.info("[%s] EAP failure: %s", self._ctx.peer, reason)
        self._phase = _Phase.DONE
        self._abort_method()
        packet = EapPacket(EapCode.FAILURE, self._final_id(identifier)).encode()
        return EapOutput(
            packet, True, method_name=self._method_name, identity=self._identity, reason=reason
        )

    def _final_id(self, identifier: int | None) -> int:
        return self._identifier if identifier is None else identifier % 256

    def _ignore(self, reason: str) -> EapOutput:
        logger.debug("[%s] EAP packet ignored: %s", self._ctx.peer, reason)
        return EapOutput(
            None,
            self.finished,
            method_name=self._method_name,
            identity=self._identity,
            reason=reason,
            ignored=True,
        )

    def _abort_method(self) -> None:
        method, self._method = self._method, None
        if method is None:
            return
        try:
            method.abort()
        except Exception:
            logger.exception("EAP method %s abort raised", self._method_name)


def _is_key(value: object) -> bool:
    """An MSK/EMSK a plugin may export: None (no key) or bytes."""
    return value is None or isinstance(value, (bytes, bytearray))


def _declares_mutual(factory: MethodFactory) -> bool:
    """Whether a method's static capabilities allow EAP-only; a probe instance answers
    (a pass-through without the attributes is given the benefit of the doubt: its outcome
    is still checked after success)."""
    try:
        probe = factory()
        ok = getattr(probe, "mutual", True) is not False
        ok = ok and getattr(probe, "generates_msk", True) is not False
        probe.abort()
    except Exception as exc:  # plugin factories misbehave too
        logger.info("EAP method factory raised %s while probing", type(exc).__name__)
        return False
    return ok


def _authorization_of(method: EapMethod) -> Any:
    """A method's optional ``authorization()`` result (backends only); never raises."""
    getter = getattr(method, "authorization", None)
    try:
        return getter() if callable(getter) else None
    except Exception:  # noqa: BLE001 - plugin code
        logger.exception("EAP method authorization() raised")
        return None


def _key(eap_type: int | None, factory: MethodFactory) -> object:
    """Identity of a method offer: its type, or the factory itself for pass-throughs."""
    return eap_type if eap_type is not None else factory
