"""Accounting as an event listener: Start, Interim-Update per interval, Stop with cause."""

from __future__ import annotations

from twisted.internet import defer, task

from ikeeap.backends.radius import codec
from ikeeap.backends.radius.backend import RadiusBackend
from ikeeap.backends.radius.client import Completion
from ikeeap.backends.radius.config import RadiusConfig, RadiusServerConfig
from ikeeap.eap.authorization import Authorization
from ikeeap.ike.events import IkeSaDeleted, IkeSaEstablished
from ikeeap.server.radius_accounting import AccountingListener

SECRET = b"acct"
CONFIG = RadiusConfig(servers=(RadiusServerConfig("127.0.0.1", 1812, SECRET),),
                      nas_identifier="nas-1")


def _listener():
    sent = []

    def account(build, server):
        sent.append(codec.decode(codec.encode_request(build(SECRET, len(sent) % 256)), SECRET))
        return defer.succeed(Completion(len(sent), None, None, "test"))
    clock = task.Clock()
    return AccountingListener(RadiusBackend(CONFIG, account, account), clock), clock, sent


def test_start_interim_stop_with_session_id_class_and_cause():
    listener, clock, sent = _listener()
    authz = Authorization(acct_session_id="abc123", radius_class=(b"cls",), interim_interval=60)
    listener(IkeSaEstablished("ff" * 8, ("198.51.100.2", 500), "alice", "alice", "radius",
                              "10.0.0.7", authorization=authz))
    clock.pump([60, 60, 5])
    listener(IkeSaDeleted("ff" * 8, "deleted by peer"))
    clock.advance(600)  # no more interims once stopped
    statuses = [p["Acct-Status-Type"][0] for p in sent]
    assert statuses == ["Start", "Interim-Update", "Interim-Update", "Stop"]
    assert {p["Acct-Session-Id"][0] for p in sent} == {"abc123"}
    assert all(p[codec.ATTR_CLASS] == [b"cls"] for p in sent)
    stop = sent[-1]
    assert stop["Acct-Terminate-Cause"] == ["User-Request"]
    assert stop["Acct-Session-Time"] == [125] and stop["Framed-IP-Address"] == ["10.0.0.7"]
    assert stop.VerifyAcctRequest()  # Request Authenticator per RFC 2866 §3


def test_unestablished_sa_deleted_sends_nothing_and_shutdown_sends_off():
    listener, _, sent = _listener()
    listener(IkeSaDeleted("aa" * 8, "authenticating timeout"))
    assert sent == []
    listener.accounting_on()
    listener.shutdown()
    assert [p["Acct-Status-Type"][0] for p in sent] == ["Accounting-On", "Accounting-Off"]
