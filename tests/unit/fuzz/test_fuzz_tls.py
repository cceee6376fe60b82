"""Fuzzing the EAP-TLS framing engine (ikeeap/eap/tls/engine.py) and EAP-TTLS phase 2
(ikeeap/eap/methods/ttls.py, ttls_avp.py).

- The engine alone, fresh: sequences of mutated EAP-TLS responses of a genuine peer
  (tests/fuzz/corpus/tls-*: Flags, TLS Message Length, fragments, TLS records).
- The engine mid-handshake: a genuine TlsPeer (with fragmentation both ways) leads the
  handshake to a chosen round, then one of its responses is mutated.  Every step is a
  TlsStep whose reply is well framed (our Type, no Start flag, a Length that covers the
  message, fragments no larger than max_fragment_size), and a failure is final.
- TTLS phase 2 inside a real tunnel: the handshake is genuine, the AVPs the peer then
  encrypts (PAP, or inner EAP Identity/MSCHAPv2) are mutated or replaced by mutated corpus
  AVPs, so the AVP parser, the PAP check and the inner authenticator see fuzzed plaintext.
- parse_avps: raises only AvpError (what TtlsMethod catches); what it parses re-encodes
  to the same AVPs.
"""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from fuzz_budget import fuzz_budget
from fuzz_escapes import reported_escapes
from fuzz_methods import OUTER, PASSWORD, USER, TtlsPeer, check_output, fuzzed_login, lab
from fuzz_mutations import apply_mutations, corpus_seeds, mutated, mutation_operations
from ikeeap.crypto.certs import cert_pem, key_pem
from ikeeap.eap.methods.ttls_avp import Avp, AvpError, encode_avps, parse_avps
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer import PeerError
from ikeeap.eap.peer.tls import TlsPeer
from ikeeap.eap.tls.context import TlsServerFiles, server_context
from ikeeap.eap.tls.engine import (
    FLAG_LENGTH,
    FLAG_MORE,
    FLAG_START,
    MAX_MESSAGE,
    VERSION_MASK,
    TlsEngine,
    TlsStep,
)
from ikeeap.testkit.peer import KitPeer

TLS_SEEDS = [bytes([EapType.TLS]) + seed for seed in corpus_seeds("tls")]
AVP_SEEDS = corpus_seeds("avp")


def _engine(max_fragment: int = 1024) -> TlsEngine:
    files = lab().tls_files
    context = server_context(TlsServerFiles(files.certificate, files.private_key, lab().ca_file),
                             "1.2", "1.3", require_client_certificate=True)
    return TlsEngine(EapType.TLS, context, version=0, max_fragment_size=max_fragment)


def check_step(engine: TlsEngine, step: TlsStep) -> None:
    assert isinstance(step, TlsStep), step
    assert step.failure is None or isinstance(step.failure, str) and step.failure
    assert isinstance(step.app_data, bytes)
    reply = step.reply
    if reply is None:
        return
    assert len(reply) >= 2 and reply[0] == engine.eap_type, reply[:8]
    flags = reply[1]
    assert not flags & FLAG_START and flags & VERSION_MASK == engine.version
    chunk = reply[2:]
    if flags & FLAG_LENGTH:
        assert len(reply) >= 6
        (total,) = struct.unpack("!I", reply[2:6])
        chunk = reply[6:]
        assert total >= len(chunk) and (total > len(chunk)) == bool(flags & FLAG_MORE)
    assert len(chunk) <= engine.max_fragment_size


def check_final(engine: TlsEngine, step: TlsStep) -> None:
    """After a failure the engine stays failed, whatever comes next."""
    if step.failure:
        again = engine.receive(bytes([engine.eap_type, 0]))
        assert again.failure, "the engine recovered from a failure"


@fuzz_budget(4)
@given(responses=st.lists(mutated(TLS_SEEDS), min_size=1, max_size=4),
       max_fragment=st.sampled_from([64, 200, 1024]))
def test_fuzzed_responses_to_a_fresh_engine(responses, max_fragment):
    engine = _engine(max_fragment)
    engine.start_request()
    with reported_escapes() as escapes:
        for response in responses:
            step = engine.receive(response)
            check_step(engine, step)
            check_final(engine, step)
            if step.failure:
                break
    assert not escapes


def _tls_peer(fragment: int) -> TlsPeer:
    client = lab().client
    return TlsPeer(cert_pem(client.cert), key_pem(client.key), lab().ca_pem,
                   max_version="1.3", fragment_size=fragment)


@fuzz_budget(1)
@given(at=st.integers(0, 40), operations=mutation_operations(), keep_header=st.booleans(),
       peer_fragment=st.sampled_from([100, 1024]), max_fragment=st.sampled_from([128, 1024]))
def test_mutated_response_mid_handshake(at, operations, keep_header, peer_fragment,
                                        max_fragment):
    """A genuine handshake to round ``at`` (fragments both ways), then one response
    mutated (``keep_header``: only the TLS octets after Flags/Length); the engine goes on
    with the genuine peer until either side gives up."""
    engine, peer = _engine(max_fragment), _tls_peer(peer_fragment)
    request = engine.start_request()
    with reported_escapes() as escapes:
        for round_ in range(60):
            try:
                response = bytes([EapType.TLS]) + peer.process(request[1:], round_)
            except PeerError:
                break
            if round_ == at:
                head = 6 if response[1] & FLAG_LENGTH else 2
                if keep_header and len(response) > head:
                    response = response[:head] + apply_mutations(response[head:], operations)
                else:
                    response = apply_mutations(response, operations)
            step = engine.receive(response)
            check_step(engine, step)
            check_final(engine, step)
            if step.failure or step.reply is None:
                break
            request = step.reply
    assert not escapes


class MutatingTtlsPeer(TtlsPeer):
    """TtlsPeer whose ``at``-th phase 2 message is mutated (or replaced) before it is
    encrypted."""

    def __init__(self, pap: bool, at: int, mutate) -> None:
        super().__init__(lab().ca_pem, USER, PASSWORD, pap)
        self._at, self._mutate, self._sent = at, mutate, 0

    def _phase2(self) -> bytes | None:
        data = super()._phase2()
        if data is not None:
            if self._sent == self._at:
                data = self._mutate(data)[:MAX_MESSAGE // 2]
            self._sent += 1
        return data


@fuzz_budget(2)
@given(pap=st.booleans(), at=st.integers(0, 3), operations=mutation_operations(),
       replacement=st.one_of(st.none(), mutated(AVP_SEEDS)))
def test_fuzzed_phase2_in_a_real_tunnel(pap, at, operations, replacement):
    """EAP-TTLS with a genuine TLS handshake; the ``at``-th phase 2 message (PAP AVPs, the
    inner EAP Identity, the inner MSCHAPv2 Response ...) is mutated, or replaced by a
    mutated corpus AVP sequence, before the peer encrypts it."""
    def mutate(data: bytes) -> bytes:
        return replacement if replacement is not None else apply_mutations(data, operations)

    conv = lab().conversation("ttls", "pap" if pap else "inner-eap")
    conv.peer = KitPeer(OUTER.encode(), "", [lambda _i, _p: MutatingTtlsPeer(pap, at, mutate)])
    with reported_escapes() as escapes:
        outputs = fuzzed_login(conv, -1, lambda genuine: genuine, [])
    assert not escapes
    for out in outputs:
        check_output(out)


def _normal(avp: Avp) -> Avp:
    """What encode_avp keeps: Vendor-ID 0 is written as no Vendor-ID."""
    return Avp(avp.code, avp.data, avp.mandatory, avp.vendor_id or None)


@fuzz_budget(6)
@given(data=st.one_of(mutated(AVP_SEEDS), st.binary(max_size=100)))
def test_fuzzed_avps_parse_or_raise_avp_error(data):
    try:
        avps = parse_avps(data)
    except AvpError:
        return
    assert all(isinstance(a, Avp) and isinstance(a.data, bytes) for a in avps)
    assert [_normal(a) for a in parse_avps(encode_avps(avps))] == [_normal(a) for a in avps]
