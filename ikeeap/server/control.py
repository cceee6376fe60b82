"""The control socket: a UNIX stream listener whose file mode is the access control.

Each connection sends one JSON line per command (``ikeeap.control.protocol``) and gets one
JSON line back.  Commands act through a :class:`ControlTarget` (the running ServeApp).
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any, Callable, Protocol

from twisted.internet import defer
from twisted.internet.protocol import Factory
from twisted.internet.protocol import Protocol as TwistedProtocol

from ..control import protocol as cp
from ..control.views import select

log = logging.getLogger("ikeeap.control")


class ControlTarget(Protocol):
    def status(self) -> dict[str, Any]: ...
    def list_sas(self) -> list[dict[str, Any]]: ...
    def terminate(self, sa_ids: list[str], reason: str) -> list[str]: ...
    def reload(self) -> Any: ...  # a dict, or a Deferred firing with one; raises ConfigError
    def metrics_text(self) -> str: ...


def dispatch(target: ControlTarget, request: cp.Request) -> Any:
    """The command's result (or a Deferred of it); raises ValueError for bad arguments."""
    if request.cmd == "status":
        return target.status()
    if request.cmd == "list-sas":
        by = _selectors(request)
        return select(target.list_sas(), by["id"], by["user"], by["virtual_ip"])
    if request.cmd == "terminate":
        by = _selectors(request)
        if not any(by.values()):
            raise ValueError("terminate needs an SA id, a user or a virtual IP")
        if by["id"] and len(by["id"]) < 4:
            raise ValueError("give at least 4 hex digits of the SA id")
        chosen = select(target.list_sas(), by["id"], by["user"], by["virtual_ip"])
        ids = target.terminate([v["id"] for v in chosen], "terminated by administrator")
        return {"terminated": ids}
    if request.cmd == "metrics":
        return {"text": target.metrics_text()}
    return target.reload()


def _selectors(request: cp.Request) -> dict[str, str | None]:
    """The SA selectors of list-sas/terminate; ValueError (a refusal) unless strings."""
    by = {k: request.args.get(k) for k in ("id", "user", "virtual_ip")}
    bad = [k for k, v in by.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise ValueError(f"{', '.join(bad)} must be a string")
    return by


Dispatcher = Callable[[Any, cp.Request], Any]  # (target, request) -> result or Deferred


class ControlProtocol(TwistedProtocol):
    def __init__(self, target: Any, dispatcher: Dispatcher = dispatch) -> None:
        self._target = target
        self._dispatch = dispatcher
        self._lines = cp.LineBuffer()

    def dataReceived(self, data: bytes) -> None:
        try:
            lines = self._lines.feed(data)
        except cp.ProtocolError as exc:
            self._reply(cp.error(str(exc)), close=True)
            return
        for line in lines:
            self._handle(line)

    def _handle(self, line: bytes) -> None:
        try:
            request = cp.parse_request(line)
            log.info("control: %s %s", request.cmd,
                     " ".join(f"{k}={v}" for k, v in request.args.items() if v))
            d = defer.maybeDeferred(self._dispatch, self._target, request)
        except cp.ProtocolError as exc:
            self._reply(cp.error(str(exc)))
            return
        d.addCallbacks(lambda result: self._reply(cp.ok(result)), self._failed)

    def _failed(self, failure: Any) -> None:
        exc = failure.value
        problems = getattr(exc, "problems", None)
        if problems is not None or isinstance(exc, ValueError):
            self._reply(cp.error(str(exc).splitlines()[0] if str(exc) else "refused",
                                 list(problems or [])))
            return
        log.error("control command failed: %s", failure.getTraceback())
        self._reply(cp.error(f"internal error: {type(exc).__name__}"))

    def _reply(self, data: bytes, close: bool = False) -> None:
        if self.transport is not None:
            self.transport.write(data)
            if close:
                self.transport.loseConnection()


class ControlFactory(Factory):
    def __init__(self, target: Any, dispatcher: Dispatcher = dispatch) -> None:
        self.target = target
        self.dispatcher = dispatcher

    def buildProtocol(self, addr: Any) -> ControlProtocol:
        return ControlProtocol(self.target, self.dispatcher)


def listen_control(reactor: Any, path: Path, mode: int, target: Any,
                   dispatcher: Dispatcher = dispatch) -> Any:
    """Listen on ``path`` (a stale socket file is replaced) with file mode ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_socket():
        if control_socket_answers(path):
            raise OSError(f"control socket {path} is in use by a running ikeeap")
        path.unlink()  # left behind by a crash
    old = os.umask(0o777 & ~mode)  # no window where the socket has looser permissions
    try:
        port = reactor.listenUNIX(str(path), ControlFactory(target, dispatcher), mode=mode,
                                 wantPID=False)
    finally:
        os.umask(old)
    os.chmod(path, mode)
    log.info("control socket %s (mode %04o)", path, mode)
    return port


def control_socket_answers(path: Path) -> bool:
    """Whether a server listens on ``path`` (a socket file left by a crash does not)."""
    if not path.is_socket():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True
