"""Control protocol: one JSON object per line, request then response (sans-I/O).

Request:  ``{"cmd": "status" | "list-sas" | "terminate" | "reload" | "metrics", "args": {...}}``
(``metrics``: the Prometheus text, how ``serve --workers`` collects its workers' figures)
Response: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "...", "problems": [...]}``
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COMMANDS = ("status", "list-sas", "terminate", "reload", "metrics")
MAX_LINE = 64 * 1024  # a request is tiny; a peer sending more is cut off


class ProtocolError(Exception):
    """A malformed or oversized request line."""


@dataclass(frozen=True)
class Request:
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)


def encode_request(cmd: str, **args: Any) -> bytes:
    return json.dumps({"cmd": cmd, "args": args}).encode() + b"\n"


def parse_request(line: bytes) -> Request:
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    except RecursionError:  # json.loads recurses into nested arrays and objects
        raise ProtocolError("not JSON: nested too deeply") from None
    if not isinstance(obj, dict) or obj.get("cmd") not in COMMANDS:
        raise ProtocolError(f"unknown command; one of {', '.join(COMMANDS)}")
    args = obj.get("args") or {}
    if not isinstance(args, dict):
        raise ProtocolError("args must be an object")
    return Request(obj["cmd"], args)


def ok(result: Any) -> bytes:
    return json.dumps({"ok": True, "result": result}, default=str).encode() + b"\n"


def error(message: str, problems: list[str] | None = None) -> bytes:
    body: dict[str, Any] = {"ok": False, "error": message}
    if problems:
        body["problems"] = problems
    return json.dumps(body).encode() + b"\n"


class LineBuffer:
    """Splits a byte stream into lines; refuses lines longer than MAX_LINE."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        if len(self._buf) > MAX_LINE or any(len(x) > MAX_LINE for x in lines):
            raise ProtocolError("request line too long")
        return [x for x in lines if x.strip()]
