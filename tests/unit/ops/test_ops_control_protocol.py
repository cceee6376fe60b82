"""Control protocol framing, SA selection and the table renderers."""

import json

import pytest

from ikeeap.config import ConnectionConfig
from ikeeap.control import protocol as cp
from ikeeap.control.render import render_sas, render_status
from ikeeap.control.views import backend_of, select


def test_request_round_trip_and_line_buffer_splits_partial_lines():
    data = cp.encode_request("terminate", user="alice")
    buf = cp.LineBuffer()
    assert buf.feed(data[:5]) == []
    (line,) = buf.feed(data[5:])
    req = cp.parse_request(line)
    assert req.cmd == "terminate" and req.args == {"user": "alice"}


@pytest.mark.parametrize("line", [b"nonsense", b'{"cmd": "rm -rf"}',
                                  b'{"cmd": "status", "args": [1]}', b"[]"])
def test_bad_requests_are_refused(line):
    with pytest.raises(cp.ProtocolError):
        cp.parse_request(line)


def test_oversized_line_is_refused():
    with pytest.raises(cp.ProtocolError):
        cp.LineBuffer().feed(b"x" * (cp.MAX_LINE + 1))


def test_error_response_carries_problems():
    body = json.loads(cp.error("bad config", ["f.toml:users.x: needs password"]))
    assert body == {"ok": False, "error": "bad config",
                    "problems": ["f.toml:users.x: needs password"]}


VIEWS = [
    {"id": "aabbccdd00112233", "short_id": "aabbccdd", "eap_identity": "alice",
     "ike_identity": "alice", "virtual_ip": "10.0.0.1", "peer": {"address": "1.2.3.4",
     "port": 500}, "method": "md5", "backend": "local", "state": "established", "age": 5,
     "reauth_due": None, "children": [{"spi_in": "01020304", "spi_out": "05060708",
                                       "ts_local": ["0.0.0.0/0"], "ts_remote": ["10.0.0.1/32"]}]},
    {"id": "1122334455667788", "short_id": "11223344", "eap_identity": "bob",
     "ike_identity": "bob@x", "virtual_ip": "10.0.0.2", "peer": {"address": "1.2.3.5",
     "port": 4500}, "method": "gtc", "backend": "ldap", "state": "established", "age": 500,
     "reauth_due": 100, "children": []},
]


def test_select_by_id_prefix_user_and_virtual_ip():
    assert [v["short_id"] for v in select(VIEWS, sa_id="AABB")] == ["aabbccdd"]
    assert [v["short_id"] for v in select(VIEWS, user="bob@x")] == ["11223344"]
    assert [v["short_id"] for v in select(VIEWS, virtual_ip="10.0.0.1")] == ["aabbccdd"]
    assert select(VIEWS, user="alice", virtual_ip="10.0.0.2") == []
    assert len(select(VIEWS)) == 2


def test_tables_show_the_fields_and_child_sas():
    text = render_sas(VIEWS)
    assert "aabbccdd  1.2.3.4:500" in text and "ldap" in text
    assert "01020304_i 05060708_o  0.0.0.0/0 === 10.0.0.1/32" in text
    assert render_sas([]) == "no IKE SAs"
    status = render_status({"version": "1", "uptime": 3, "sas": {"established": 2},
                            "logins": {"success": 2, "failure": 1}})
    assert "2 established" in status and "1 failed" in status


def test_backend_names_where_credentials_were_checked():
    ldap = ConnectionConfig("c", password_backend="ldap")
    assert backend_of(ldap, "gtc") == "ldap"
    assert backend_of(ldap, "mschapv2") == "local"
    assert backend_of(ldap, "radius") == "radius"
    assert backend_of(ConnectionConfig("p", auth="psk"), "psk") == "psk"
