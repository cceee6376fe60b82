"""Fuzzing the RADIUS codec (ikeeap/backends/radius/codec.py) where it meets the network.

- Replies, as the pass-through client checks them (``codec.check_reply``, the client core's
  ``receive``): genuine replies of a relayed login (Access-Challenge, -Accept with MS-MPPE
  keys, -Reject), mutated.  Unsigned mutants must be refused whenever an authenticated
  octet changed (a forgery test); re-signed mutants (Response Authenticator and
  Message-Authenticator recomputed with the secret) pass the checks, so the attribute
  decoders behind them run: EAP-Message joining, MS-MPPE key decryption, the Authorization.
- The same inside a whole relayed login: one of the server's replies mutated (re-signed or
  not) before the client core sees it; the conversation ends cleanly.
- Access-Requests at the RADIUS front (radius-front): mutated, with a valid
  Message-Authenticator or not; the answer is nothing or a reply that verifies.

Contract: decoders return None or a value, check_reply returns (None, reason); nothing is
raised or logged as an escape (fuzz_escapes.py).
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from fuzz_budget import fuzz_budget
from fuzz_escapes import reported_escapes
from fuzz_methods import (
    RADIUS_CLIENT_ADDRESS,
    RADIUS_SECRET,
    check_output,
    fuzzed_login,
    lab,
    login,
)
from fuzz_mutations import apply_mutations, corpus_seeds, mutated, mutation_operations
from ikeeap.backends.radius import codec
from ikeeap.backends.radius.front import RadiusFront
from ikeeap.backends.radius.method import authorization_from
from ikeeap.eap.authorization import Authorization
from ikeeap.initiator.loopback import drive

MA = codec.ATTR_MESSAGE_AUTHENTICATOR


def _attributes(raw: bytes) -> list[tuple[int, int, int]] | None:
    """(type, offset, length) of each attribute after the 20-octet header, None if they do
    not tile the packet."""
    out, pos = [], 20
    while pos < len(raw):
        if pos + 2 > len(raw) or raw[pos + 1] < 2 or pos + raw[pos + 1] > len(raw):
            return None
        out.append((raw[pos], pos, raw[pos + 1]))
        pos += raw[pos + 1]
    return out


def _sign_message_authenticator(packet: bytearray, vector: bytes | None) -> None:
    attrs = _attributes(bytes(packet)) or []
    found = [pos for kind, pos, length in attrs if kind == MA and length == 18]
    if len(found) == 1 and sum(kind == MA for kind, _, _ in attrs) == 1:
        packet[found[0] + 2:found[0] + 18] = bytes(16)
        value = codec.message_authenticator(bytes(packet), RADIUS_SECRET, vector)
        if value is not None:
            packet[found[0] + 2:found[0] + 18] = value


def resigned_reply(raw: bytes, request_authenticator: bytes) -> bytes:
    """``raw`` as the server holding the secret would have sent it: Message-Authenticator
    (when there is exactly one) and Response Authenticator recomputed (RFC 3579 §3.2,
    RFC 2865 §3) over the octets its Length field covers."""
    if len(raw) < 20:
        return raw
    length = int.from_bytes(raw[2:4], "big")
    if not 20 <= length <= len(raw):
        return raw
    packet = bytearray(raw[:length])
    _sign_message_authenticator(packet, request_authenticator)
    packet[4:20] = hashlib.md5(bytes(packet[:4]) + request_authenticator + bytes(packet[20:])
                               + RADIUS_SECRET).digest()
    return bytes(packet) + raw[length:]


def resigned_request(raw: bytes) -> bytes:
    """An Access-Request with its Message-Authenticator recomputed (the front requires one)."""
    if len(raw) < 20:
        return raw
    length = int.from_bytes(raw[2:4], "big")
    if not 20 <= length <= len(raw):
        return raw
    packet = bytearray(raw[:length])
    _sign_message_authenticator(packet, None)
    return bytes(packet) + raw[length:]


@functools.cache
def genuine_exchanges() -> list[tuple[bytes, bytes]]:
    """(Access-Request, reply) pairs of relayed logins: Challenges, an Accept carrying
    EAP-Success, MS-MPPE keys and a User-Name, a Reject (MD5, wrong password)."""
    pairs: list[tuple[bytes, bytes]] = []
    for variant, password in (("mschapv2", None), ("md5", "wrong")):
        conv = lab().conversation("radius", variant)
        if password is not None:
            conv.peer = type(conv.peer)("alice", password, allowed_types=conv.peer.allowed_types)
        login(conv)
        assert conv.radius is not None
        pairs += list(zip(conv.radius.requests, conv.radius.replies, strict=True))
    codes = {reply[0] for _, reply in pairs}
    assert codes == {codec.ACCESS_CHALLENGE, codec.ACCESS_ACCEPT, codec.ACCESS_REJECT}, codes
    return pairs


def _decoded_attributes(reply) -> None:
    """What the pass-through method reads from an accepted reply: none of it may raise."""
    codec.join_eap_message(reply)
    codec.first_value(reply, codec.ATTR_STATE)
    codec.first_value(reply, codec.ATTR_USER_NAME)
    msk = codec.msk_from_mppe(reply, RADIUS_SECRET, reply.request_authenticator)
    assert msk is None or isinstance(msk, bytes)
    assert isinstance(authorization_from(reply, "session", "server"), Authorization)


@fuzz_budget(4)
@given(pair=st.integers(0, 1 << 16), operations=mutation_operations(), resign=st.booleans())
def test_fuzzed_replies_are_refused_or_decoded(pair, operations, resign):
    """check_reply refuses every unsigned mutant that changed an authenticated octet; a
    re-signed one decodes, or is refused, without raising."""
    raw_request, genuine = genuine_exchanges()[pair % len(genuine_exchanges())]
    request = codec.decode(raw_request, RADIUS_SECRET)
    assert request is not None
    data = apply_mutations(genuine, operations)
    if resign:
        data = resigned_reply(data, request.authenticator)
    with reported_escapes() as escapes:
        reply, problem = codec.check_reply(request, data)
        if reply is None:
            assert isinstance(problem, str) and problem
        else:
            assert problem == ""
            _decoded_attributes(reply)
    assert not escapes
    authenticated = int.from_bytes(genuine[2:4], "big")
    if not resign and data[:authenticated] != genuine[:authenticated]:
        assert reply is None, "a reply with altered authenticated octets was accepted"


@fuzz_budget(1)
@given(at=st.integers(0, 1 << 16), operations=mutation_operations(), resign=st.booleans(),
       inner=st.sampled_from(["mschapv2", "md5"]))
def test_fuzzed_replies_inside_a_relayed_login(at, operations, resign, inner):
    """One reply of the RADIUS server mutated (re-signed or not) while the pass-through
    method relays a genuine login: the login ends (success only if the mutant was
    harmless), every answer to the IKE layer is well formed, nothing escapes."""
    replies = {"n": 0}
    at %= 3

    def hook(reply: bytes, request_authenticator: bytes) -> bytes:
        index, replies["n"] = replies["n"], replies["n"] + 1
        if index != at:
            return reply
        data = apply_mutations(reply, operations)
        return resigned_reply(data, request_authenticator) if resign else data

    conv = lab().conversation("radius", inner, reply_hook=hook)
    with reported_escapes() as escapes:
        outputs = fuzzed_login(conv, -1, lambda genuine: genuine, [])
    assert not escapes
    for out in outputs:
        check_output(out)


def _front() -> RadiusFront:
    return lab().conversation("radius", "mschapv2").radius.front  # type: ignore[union-attr]


@fuzz_budget(2)
@given(data=mutated(corpus_seeds("radius")), resign=st.booleans(),
       prefix=st.sampled_from([0, 1]))
def test_fuzzed_access_requests_at_the_front(data, resign, prefix):
    """radius-front: a mutated Access-Request is dropped or answered with a reply that
    verifies against it.  ``prefix``: after the genuine first request of a login, so the
    corpus requests carrying the State of that conversation reach its authenticator (the
    lab's fronts hand out reproducible States)."""
    front = _front()
    exchanges = genuine_exchanges()
    with reported_escapes() as escapes:
        if prefix:
            drive(front.handle(exchanges[0][0], RADIUS_CLIENT_ADDRESS, 0.0))
        raw = resigned_request(data) if resign else data
        reply = drive(front.handle(raw, RADIUS_CLIENT_ADDRESS, 1.0))
        if reply is not None:
            request = codec.decode(raw, RADIUS_SECRET)
            assert request is not None, "answered an undecodable request"
            checked, problem = codec.check_reply(request, reply)
            assert checked is not None, problem
    assert not escapes


@fuzz_budget(2)
@given(value=st.one_of(mutated(corpus_seeds("radius")), st.binary(max_size=300)),
       vector=st.binary(min_size=16, max_size=16))
def test_fuzzed_packets_and_mppe_values_decode_or_return_none(value, vector):
    """decode, Message-Authenticator and MS-MPPE key decryption on anything: a value or
    None, never an exception."""
    packet = codec.decode(value, RADIUS_SECRET)
    if packet is not None:
        codec.join_eap_message(packet)
        codec.raw_values(packet, codec.MS_MPPE_RECV_KEY)
    mac = codec.message_authenticator(value, RADIUS_SECRET, vector)
    assert mac is None or len(mac) == 16
    assert isinstance(codec.verify_message_authenticator(value, RADIUS_SECRET), bool)
    key = codec.mppe_decrypt(RADIUS_SECRET, vector, value)
    assert key is None or isinstance(key, bytes) and len(key) <= len(value)
    codec.decode_ipv4(value[:4])
    codec.decode_u32(value[:4])


def test_resigning_makes_a_mutant_pass_the_checks():
    """The re-signing helper works (else the re-signed cases would test nothing deeper)."""
    raw_request, genuine = genuine_exchanges()[0]
    request = codec.decode(raw_request, RADIUS_SECRET)
    changed = bytearray(genuine)
    changed[-1] ^= 0x01  # inside the last attribute
    assert codec.check_reply(request, bytes(changed))[0] is None
    reply, problem = codec.check_reply(request, resigned_reply(bytes(changed),
                                                               request.authenticator))
    assert reply is not None, problem
    assert hmac.compare_digest(resigned_reply(genuine, request.authenticator), genuine)
