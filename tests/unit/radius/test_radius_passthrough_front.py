"""The pass-through method against the RADIUS front in memory: ikeeap's own EAP methods on
one side, its RADIUS client method on the other, EapPeer as the user."""

from __future__ import annotations

import asyncio
import ipaddress

from ikeeap.backends.radius import codec
from ikeeap.backends.radius.backend import RadiusBackend
from ikeeap.backends.radius.client import Completion
from ikeeap.backends.radius.config import RadiusConfig, RadiusServerConfig
from ikeeap.backends.radius.front import RadiusFront
from ikeeap.backends.radius.method import RadiusMethod, authorization_from
from ikeeap.eap.authenticator import EapAuthenticator
from ikeeap.eap.credentials import LocalUserStore, Providers
from ikeeap.eap.method import EapContext
from ikeeap.eap.methods.md5 import Md5Method
from ikeeap.eap.methods.mschapv2 import MsChapV2Method
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer import EapPeer

SECRET = b"front-secret"
STORE = LocalUserStore.from_config({"alice": {"password": "alice-pw"}})
CONFIG = RadiusConfig(servers=(RadiusServerConfig("127.0.0.1", 1812, SECRET),))


def _front(method_cls=MsChapV2Method, hook=None) -> RadiusFront:
    def make(first_id, remote):
        ctx = EapContext(peer="front", providers=Providers.from_store(STORE))
        return EapAuthenticator([(method_cls.eap_type, lambda: method_cls())], ctx,
                                first_identifier=first_id)
    return RadiusFront(SECRET, make)


def _backend(front: RadiusFront, sent: list) -> RadiusBackend:
    async def authenticate(build, server):
        request = build(SECRET, len(sent) % 256)
        raw = codec.encode_request(request)
        sent.append(codec.decode(raw, SECRET))
        reply = await front.handle(raw, ("127.0.0.1", 5000), 0.0)
        checked = codec.reply_verifies(request, reply) if reply else None
        return Completion(0, checked, 0 if checked else None, "" if checked else "no answer")
    return RadiusBackend(CONFIG, authenticate)


async def _login(front, password="alice-pw", types=(EapType.MSCHAPV2,)):
    sent: list = []
    providers = Providers(extra={"radius": _backend(front, sent)})
    ctx = EapContext(peer="198.51.100.2:500", providers=providers)
    auth = EapAuthenticator([(None, lambda: RadiusMethod({}, providers))], ctx)
    peer = EapPeer("alice", password, allowed_types=types)
    out = await auth.start()
    while not out.finished:
        out = await auth.receive(peer.respond(out.packet))
    peer.respond(out.packet)
    return out, peer, sent


def test_mschapv2_through_front_gives_the_peer_msk():
    out, peer, sent = asyncio.run(_login(_front()))
    assert out.success and peer.succeeded
    assert out.msk[:32] == peer.msk()[:32]  # MS-MPPE-Recv ‖ Send = the method's MSK
    assert out.authorization.acct_session_id == sent[0]["Acct-Session-Id"][0]
    first = sent[0]
    assert first["User-Name"] == ["alice"] and first["NAS-Port-Type"] == ["Virtual"]
    assert first["Service-Type"] == ["Framed-User"]
    assert first["Calling-Station-Id"] == ["198.51.100.2:500"]
    assert codec.ATTR_STATE in sent[1]  # State echoed after the first Challenge


def test_md5_without_keys_succeeds_and_wrong_password_fails():
    out, _, _ = asyncio.run(_login(_front(Md5Method), types=(EapType.MD5,)))
    assert out.success and out.msk is None
    out, _, _ = asyncio.run(_login(_front(Md5Method), "wrong", types=(EapType.MD5,)))
    assert not out.success and "Access-Reject" in out.reason


def test_accept_without_mppe_keys_for_mschapv2_is_a_failure(monkeypatch):
    """A key-generating method (MSCHAPv2) accepted without keys: refused, clear reason."""
    monkeypatch.setattr(codec, "add_mppe_keys", lambda *args: None)  # a front "forgetting"
    out, _peer, _ = asyncio.run(_login(_front()))
    assert not out.success and "without MS-MPPE keys" in out.reason


def test_front_caches_retransmits_and_rejects_unknown_state():
    front = _front(Md5Method)
    request = codec.access_request(SECRET, 9, [("User-Name", "alice")],
                                   eap=b"\x02\x05\x00\x0a\x01alice")
    raw = codec.encode_request(request)
    first = asyncio.run(front.handle(raw, ("127.0.0.1", 1), 0.0))
    again = asyncio.run(front.handle(raw, ("127.0.0.1", 1), 1.0))
    assert first == again and codec.decode(first, SECRET).code == codec.ACCESS_CHALLENGE
    assert front.conversations == 1
    stale = codec.access_request(SECRET, 10, [], eap=b"\x02\x06\x00\x06\x04\x00",
                                 state=b"no-such-state")
    reply = asyncio.run(front.handle(codec.encode_request(stale), ("127.0.0.1", 1), 2.0))
    assert codec.decode(reply, SECRET).code == codec.ACCESS_REJECT
    asyncio.run(front.handle(codec.encode_request(stale), ("127.0.0.1", 1), 100.0))
    assert front.conversations == 0  # expired after state_lifetime


def test_front_drops_requests_without_message_authenticator():
    front = _front()
    request = codec.access_request(SECRET, 9, [], eap=b"\x02\x05\x00\x0a\x01alice")
    raw = bytearray(codec.encode_request(request))
    raw[-1] ^= 1
    assert asyncio.run(front.handle(bytes(raw), ("127.0.0.1", 1), 0.0)) is None


def test_authorization_from_accept_attributes():
    request = codec.access_request(SECRET, 1, [])
    reply = codec.decode(codec.encode_request(request), SECRET).CreateReply()
    reply.AddAttribute("Framed-IP-Address", "10.1.2.3")
    reply.AddAttribute("Session-Timeout", 3600)
    reply.AddAttribute("Acct-Interim-Interval", 300)
    reply.AddAttribute("MS-Primary-DNS-Server", "10.1.0.53")
    reply[codec.ATTR_CLASS] = [b"c1", b"c2"]
    decoded = codec.decode(bytes(reply.ReplyPacket()), SECRET)
    authz = authorization_from(decoded, "sess", "srv")
    assert authz.virtual_ip == ipaddress.IPv4Address("10.1.2.3")
    assert authz.dns == (ipaddress.IPv4Address("10.1.0.53"),)
    assert (authz.session_timeout, authz.interim_interval) == (3600, 300)
    assert authz.radius_class == (b"c1", b"c2")


def _accept_altered(monkeypatch, **changes):
    """The front's Access-Accept with ``eap`` / ``user`` replaced (a lying or odd server)."""
    original = RadiusFront._reply

    def reply(self, request, code, eap=None, state=None, msk=None, user="", **kw):
        if code == codec.ACCESS_ACCEPT:
            eap, user = changes.get("eap", eap), changes.get("user", user)
        return original(self, request, code, eap, state, msk, user, **kw)

    monkeypatch.setattr(RadiusFront, "_reply", reply)


def test_accept_carrying_eap_failure_is_a_failure(monkeypatch):
    """RFC 3579 §2.6.3: the EAP-Message decides; an Accept with EAP-Failure grants nothing."""
    _accept_altered(monkeypatch, eap=b"\x04\x07\x00\x04")
    out, _, _ = asyncio.run(_login(_front()))
    assert not out.success and "Access-Accept with EAP code 4" in out.reason


def test_accept_without_eap_message_is_a_failure(monkeypatch):
    _accept_altered(monkeypatch, eap=None)
    out, _, _ = asyncio.run(_login(_front(Md5Method), types=(EapType.MD5,)))
    assert not out.success and "Access-Accept with no EAP-Message" in out.reason


def test_accept_user_name_is_who_logs_in(monkeypatch):
    """The server's User-Name names the authorised user; the EAP identity was only outer."""
    out, _, _ = asyncio.run(_login(_front()))
    assert out.success and out.authorized_identity == b"alice"
    _accept_altered(monkeypatch, user="carol")
    out, _, _ = asyncio.run(_login(_front()))
    assert not out.success and "outer identity 'alice' is neither 'carol'" in out.reason
