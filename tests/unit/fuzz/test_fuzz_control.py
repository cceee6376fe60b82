"""Fuzzing the control socket's server side (ikeeap/control/protocol.py, ikeeap/server/control.py).

Whoever may connect to the socket (its file mode is the access control) sends JSON lines.
Contract: ``parse_request`` returns a Request or raises ProtocolError (what ControlProtocol
catches); every complete request line gets exactly one JSON reply line ``{"ok": ...}``
(an oversized line one error, then the connection is closed); a bad argument is refused
("ok": false) without the "control command failed" traceback of an internal error (an
escape, fuzz_escapes.py).

Inputs: the request lines of tests/fuzz/corpus/control-* mutated as bytes (deep nesting
included), and well-formed requests whose arguments are arbitrary JSON values.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.testing import StringTransport

from fuzz_budget import fuzz_budget
from fuzz_escapes import reported_escapes
from fuzz_mutations import corpus_seeds, mutated
from ikeeap.control import protocol as cp
from ikeeap.server.control import ControlProtocol

CONTROL_SEEDS = corpus_seeds("control")
VIEWS = [
    {"id": "aabbccdd00112233", "short_id": "aabbccdd", "eap_identity": "alice",
     "ike_identity": "alice", "virtual_ip": "10.0.0.1", "state": "established", "children": []},
    {"id": "1122334455667788", "short_id": "11223344", "eap_identity": "bob",
     "ike_identity": "bob@x", "virtual_ip": "10.0.0.2", "state": "established", "children": []},
]


class FakeTarget:
    """What ServeApp offers the control socket, without a responder behind it."""

    def status(self) -> dict[str, Any]:
        return {"version": "fuzz", "uptime": 1, "sas": {"established": len(VIEWS)}}

    def list_sas(self) -> list[dict[str, Any]]:
        return [dict(v) for v in VIEWS]

    def terminate(self, sa_ids: list[str], reason: str) -> list[str]:
        assert all(isinstance(i, str) for i in sa_ids)
        return list(sa_ids)

    def reload(self) -> dict[str, Any]:
        return {"reloaded": True}

    def metrics_text(self) -> str:
        return "ikeeap_up 1\n"


def _expected_replies(data: bytes) -> int | None:
    """Request lines in ``data`` (None: too long, one error then the connection closes)."""
    *lines, rest = data.split(b"\n")
    if len(rest) > cp.MAX_LINE or any(len(line) > cp.MAX_LINE for line in lines):
        return None
    return sum(1 for line in lines if line.strip())


def converse(data: bytes, chunk: int) -> list[dict[str, Any]]:
    """``data`` fed to a ControlProtocol in pieces of ``chunk`` octets; its replies."""
    protocol, transport = ControlProtocol(FakeTarget()), StringTransport()
    protocol.makeConnection(transport)
    for i in range(0, len(data), chunk):
        protocol.dataReceived(data[i:i + chunk])
        if transport.disconnecting:
            break
    out = transport.value()
    assert out == b"" or out.endswith(b"\n"), out[-40:]
    replies = [json.loads(line) for line in out.splitlines()]
    assert all(isinstance(r, dict) and isinstance(r.get("ok"), bool) for r in replies)
    expected = _expected_replies(data)
    if expected is None:
        assert transport.disconnecting and replies and replies[-1]["ok"] is False
    else:
        assert len(replies) == expected, (len(replies), expected)
    return replies


@fuzz_budget(3)
@given(data=mutated(CONTROL_SEEDS, long_runs=True), chunk=st.sampled_from([1, 7, 4096, 1 << 20]))
def test_fuzzed_control_lines(data, chunk):
    with reported_escapes() as escapes:
        for line in data.split(b"\n"):
            try:
                request = cp.parse_request(line)
            except cp.ProtocolError:
                continue
            assert request.cmd in cp.COMMANDS and isinstance(request.args, dict)
        converse(data + b"\n", chunk)
    assert not escapes


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
SELECTOR = st.one_of(st.sampled_from(["aabbccdd", "aab", "AABBCCDD00112233", "11223344", "alice",
                                      "bob@x", "10.0.0.1", "10.0.0.2", "", "*"]),
                     st.text(max_size=12), JSON)
ARGS = st.fixed_dictionaries({}, optional={"id": SELECTOR, "user": SELECTOR,
                                           "virtual_ip": SELECTOR, "force": JSON})


@fuzz_budget(3)
@given(cmd=st.sampled_from(cp.COMMANDS), args=st.one_of(ARGS, JSON))
def test_requests_with_arbitrary_arguments(cmd, args):
    """A known command with any JSON as arguments: an answer, never an internal error."""
    line = json.dumps({"cmd": cmd, "args": args}).encode() + b"\n"
    with reported_escapes() as escapes:
        (reply,) = converse(line, 1 << 20)
    assert not escapes, escapes
    if not reply["ok"]:
        assert not reply["error"].startswith("internal error"), reply
