"""A blocking client for the control socket (the CLI side; no Twisted)."""

from __future__ import annotations

import json
import socket
from typing import Any

from .protocol import MAX_LINE, encode_request


class ControlError(Exception):
    """The responder refused the command (``problems`` lists config errors for reload)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


def call(path: str, cmd: str, timeout: float = 30.0, **args: Any) -> Any:
    """Send one command and return its result; raises ControlError or OSError."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(encode_request(cmd, **args))
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > 64 * MAX_LINE:
                raise ControlError("response too long")
    if not data:
        raise ControlError("the responder closed the connection without an answer")
    reply = json.loads(data)
    if not reply.get("ok"):
        raise ControlError(reply.get("error", "failed"), reply.get("problems"))
    return reply.get("result")
