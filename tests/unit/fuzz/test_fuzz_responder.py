"""Bounded fuzzing (hypothesis) of everything a remote peer can reach: datagrams on both ports,
the SK decryption path with fuzzed plaintext behind a valid ICV (so the inner parsers and every
exchange handler see it), and every built-in EAP method behind the authenticator.

The contract: any input yields an answer or a clean drop, never an exception. Seeds come from
tests/fuzz/corpus (see tests/fuzz/make_corpus.py); IKEEAP_FUZZ_EXAMPLES raises the budget.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.credentials import LocalUserStore, Providers
from ikeeap.eap.method import EapContext
from ikeeap.eap.registry import MethodRegistry
from ikeeap.ike.events import Datagram
from ikeeap.ike.hardening import Hardening
from ikeeap.ike.sa import SaState
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import SERVER, Loopback
from ikeeap.initiator.testing import make_pki, make_settings
from ikeeap.wire.codec import encode_payloads, parse_header_only
from ikeeap.wire.constants import ExchangeType, NotifyType, ProtocolId, TransformType
from ikeeap.wire.payloads import (
    DeletePayload,
    IkeHeader,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
)

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"
EXAMPLES = int(os.environ.get("IKEEAP_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _seeds(kind: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.glob(f"{kind}-*.bin"))]


def _structured_inner() -> list[bytes]:
    """Seeds for exchanges the login corpus lacks: CREATE_CHILD_SA and Delete."""
    ts = TrafficSelector(7, 0, 0, 65535, bytes(4), b"\xff" * 4)
    esp = Proposal(1, ProtocolId.ESP, b"\x01\x02\x03\x04",
                   (Transform(TransformType.ENCR, 20, 256), Transform(TransformType.DH, 19),
                    Transform(TransformType.ESN, 0)))
    ike = Proposal(1, ProtocolId.IKE, b"\x01" * 8,
                   (Transform(TransformType.ENCR, 20, 256), Transform(TransformType.PRF, 5),
                    Transform(TransformType.DH, 19)))
    chains = [
        [NotifyPayload(NotifyType.REKEY_SA, protocol=ProtocolId.ESP, spi=b"\0\0\1\0"),
         SaPayload((esp,)), NoncePayload(b"n" * 32), KePayload(19, b"\x04" * 64),
         TsPayload(True, (ts,)), TsPayload(False, (ts,))],
        [SaPayload((ike,)), NoncePayload(b"n" * 32), KePayload(19, b"\x04" * 64)],
        [DeletePayload(ProtocolId.ESP, (b"\0\0\1\0",))],
    ]
    return [bytes([first]) + body for first, body in map(encode_payloads, chains)]


def mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed with flipped bits, cut, spliced or with inserted bytes; or plain random bytes."""
    def mutate(seed: bytes, ops: list[tuple[int, int, int]]) -> bytes:
        data = bytearray(seed)
        for kind, pos, value in ops:
            if not data:
                data.append(value)
                continue
            pos %= len(data)
            if kind == 0:
                data[pos] ^= 1 << (value % 8)
            elif kind == 1:
                del data[pos:]
            elif kind == 2:
                data[pos:pos] = bytes([value]) * (value % 5 + 1)
            else:
                data[pos] = value
        return bytes(data)
    op = st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), st.integers(0, 255))
    return st.one_of(
        st.builds(mutate, st.sampled_from(seeds), st.lists(op, min_size=1, max_size=6)),
        st.binary(max_size=300))


class Session:
    """An established IKE SA, logged in again whenever a fuzzed request ended it."""

    def __init__(self):
        pki = make_pki("ecdsa")
        self.settings = make_settings(users={"alice": "secret"}, pki=pki,
                                      hardening=Hardening(max_fragments=4))
        self.client = InitiatorConfig(identity="alice", password="secret",
                                      ca_certificate=pki.ca.der)
        self.loop = None
        self.ini = None

    def established(self):
        sa = next(iter(self.loop.responder.sas()), None) if self.loop else None
        if sa is None or sa.state != SaState.ESTABLISHED:
            self.loop = Loopback(self.settings)
            result = self.loop.login(self.client)
            assert result.established
            self.ini = result.initiator
            sa = self.loop.responder.sas()[0]
        return sa


@pytest.fixture(scope="module")
def session() -> Session:
    return Session()


def _check(out) -> None:
    assert isinstance(out, list) and all(isinstance(d, Datagram) for d in out)
    for d in out:
        data = d.data[4:] if d.local[1] == 4500 else d.data
        parse_header_only(data)  # every answer is a well-formed IKE message


@FUZZ
@given(data=mutated(_seeds("outer")), nat_port=st.booleans())
def test_fuzzed_datagrams_never_raise(session, data, nat_port):
    session.established()
    responder = session.loop.responder
    local = (SERVER[0], 4500) if nat_port else SERVER
    payload = b"\0\0\0\0" + data if nat_port else data
    _check(responder.receive_datagram(payload, local, ("198.51.100.9", 500), 1.0))
    _check(responder.handle_timer(1.0))


@FUZZ
@given(inner=mutated(_seeds("inner") + _structured_inner()),
       exchange=st.sampled_from([ExchangeType.IKE_AUTH, ExchangeType.CREATE_CHILD_SA,
                                 ExchangeType.INFORMATIONAL, 99]))
def test_fuzzed_plaintext_behind_valid_icv_never_raises(session, inner, exchange):
    """The SK payload authenticates, so the inner parser and the exchange handlers see it."""
    sa = session.established()
    first, body = (inner[0], inner[1:]) if inner else (0, b"")
    header = IkeHeader(sa.spi_i, sa.spi_r, 0, exchange, 0x08, sa.next_request_id)
    message = session.ini.sa.encrypter.seal(header, first, body)
    out = session.loop.responder.receive_datagram(message, SERVER, session.ini.local,
                                                  session.loop.now)
    _check(out)
    while session.loop.responder.next_event() is not None:
        pass


def _eap_methods() -> list[str]:
    registry = MethodRegistry.discover(entry_points=False)
    usable = []
    for name in registry.names():
        try:
            registry.factory_for(name, {}, _providers())[1]()
        except Exception:  # noqa: BLE001, S112 - methods that need site config are skipped
            continue
        usable.append(name)
    return usable


def _providers() -> Providers:
    return Providers.from_store(LocalUserStore.from_config({"alice": {"password": "secret"}}))


def _authenticator(name: str) -> EapAuthenticator:
    registry = MethodRegistry.discover(entry_points=False)
    factory = registry.factory_for(name, {}, _providers())
    ctx = EapContext(identity=b"alice", peer="198.51.100.9:500", providers=_providers())
    return EapAuthenticator([factory], ctx, identity_round=False)


EAP_METHODS = _eap_methods()


def test_every_builtin_method_is_fuzzed():
    assert {"md5", "gtc", "mschapv2"} <= set(EAP_METHODS)


@settings(FUZZ, max_examples=EXAMPLES * 2)
@given(method=st.sampled_from(EAP_METHODS),
       responses=st.lists(mutated(_seeds("eap")), min_size=1, max_size=4),
       well_formed=st.booleans())
def test_fuzzed_eap_responses_never_raise(method, responses, well_formed):
    async def converse() -> None:
        auth = _authenticator(method)
        out = await auth.start()
        for response in responses:
            if well_formed and out.packet and len(out.packet) >= 5:
                # Code 2, the request's identifier, the method's type: reach its parser.
                body = out.packet[4:5] + response
                response = bytes([2, out.packet[1]]) + (4 + len(body)).to_bytes(2, "big") + body
            out = await auth.receive(response)
            assert isinstance(out, EapOutput)
            if out.finished:
                break
        auth.abort()
    asyncio.run(converse())
