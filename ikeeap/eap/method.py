"""The one interface for built-in EAP methods, backends (RADIUS pass-through) and plugins.

A method owns only its own conversation.  The authenticator owns Identity, NAK,
identifiers and Success/Failure.  ``start``/``process`` return awaitables (``async def`` or
a Twisted Deferred) and must never raise on malformed peer input: they return
``EapStep.failure(reason)`` instead.  An exception is treated as a plugin bug and ends the
conversation with EAP-Failure.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from ikeeap.eap.credentials import Providers

_LOG = logging.getLogger("ikeeap.eap")


class StepKind(Enum):
    CONTINUE = "continue"
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class EapStep:
    """Result of ``start``/``process``.

    CONTINUE carries ``data`` = Type ‖ Type-Data of the next Request.  ``identifier``
    lets a pass-through method impose the EAP identifier chosen by its AAA server; built-in
    methods leave it None and the authenticator numbers the packets.
    """

    kind: StepKind
    data: bytes = b""
    reason: str = ""
    identifier: int | None = None

    @classmethod
    def continue_(cls, data: bytes, identifier: int | None = None) -> EapStep:
        return cls(StepKind.CONTINUE, bytes(data), identifier=identifier)

    @classmethod
    def success(cls, identifier: int | None = None) -> EapStep:
        return cls(StepKind.SUCCESS, identifier=identifier)

    @classmethod
    def failure(cls, reason: str, identifier: int | None = None) -> EapStep:
        return cls(StepKind.FAILURE, reason=reason, identifier=identifier)


@dataclass(frozen=True)
class EapContext:
    """What a method may know about the conversation.

    ``identity`` is the EAP identity (from the Identity round or supplied by the IKE
    layer); ``peer`` describes the IKE peer for logs; ``identifier`` is the EAP identifier
    of the Request being built (``start``) or of the Response being processed
    (``process``) — EAP-MD5 hashes it.
    """

    identity: bytes = b""
    peer: str = ""
    providers: Providers = field(default_factory=Providers)
    identifier: int = 0
    log: logging.Logger | logging.LoggerAdapter[Any] = field(
        default=_LOG, repr=False, compare=False
    )

    @property
    def user(self) -> str | None:
        """The identity as a UTF-8 string, or None if empty or not valid UTF-8."""
        try:
            text = self.identity.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return text or None

    def info(self, msg: str, *args: object) -> None:
        """Log at INFO, prefixed with the peer.  Never pass secrets."""
        self.log.info("[%s] " + msg, self.peer, *args)

    def debug(self, msg: str, *args: object) -> None:
        self.log.debug("[%s] " + msg, self.peer, *args)

    def warning(self, msg: str, *args: object) -> None:
        self.log.warning("[%s] " + msg, self.peer, *args)


@runtime_checkable
class EapMethod(Protocol):
    """Server side of one EAP method (see docs/architecture.md, "eap")."""

    # Read-only members: a plain class attribute satisfies them.
    @property
    def name(self) -> str: ...
    @property
    def eap_type(self) -> int | None: ...  # None: pass-through relaying any type (RADIUS)
    @property
    def generates_msk(self) -> bool: ...  # static capability; msk() decides after success
    @property
    def mutual(self) -> bool: ...  # static capability; is_mutual() decides after success

    def start(self, ctx: EapContext) -> Awaitable[EapStep]: ...
    def process(self, ctx: EapContext, response: bytes) -> Awaitable[EapStep]: ...
    def msk(self) -> bytes | None: ...
    def emsk(self) -> bytes | None: ...
    def is_mutual(self) -> bool: ...
    def abort(self) -> None: ...


class BaseMethod:
    """Defaults for methods without keys: no MSK/EMSK, not mutual, nothing to release.

    Two optional members bind the login to who proved it (:mod:`ikeeap.eap.identity`):
    ``authenticated_identity()`` returns the identity the method proved when it is not the EAP
    identity (None: the EAP identity itself); ``tunnelled`` says that the EAP identity is only
    an outer, routing identity, so the connection's ``outer_identity`` rule applies.
    """

    name: str = "base"
    eap_type: int | None = None
    generates_msk: bool = False
    mutual: bool = False
    tunnelled: bool = False

    def __init__(
        self, config: dict[str, Any] | None = None, providers: Providers | None = None
    ) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.providers = providers

    def _providers(self, ctx: EapContext) -> Providers:
        """Providers given at construction win over those in the context."""
        return self.providers if self.providers is not None else ctx.providers

    def msk(self) -> bytes | None:
        return None

    def emsk(self) -> bytes | None:
        return None

    def is_mutual(self) -> bool:
        return False

    def authenticated_identity(self) -> bytes | None:
        return None

    def abort(self) -> None:
        return None
