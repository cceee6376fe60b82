"""Fuzzing EAP-SIM (RFC 4186): the attribute codec, the protection (AT_MAC, AT_ENCR_DATA)
and the server method behind a valid AT_MAC.

- The codec on mutated messages of a genuine full authentication and fast
  re-authentication (tests/fuzz/corpus/sim-*): ``parse_message`` raises only
  SimParseError (its documented contract, caught by the method); the attribute readers,
  AT_ENCR_DATA decryption, AT_MAC checks and identity classification return None/False for
  garbage and never raise.
- The server under valid protection: ikeeap's SIM peer answers genuinely, but the attributes
  it is about to sign (and the plaintext it is about to encrypt into AT_ENCR_DATA) are
  mutated first, so the server's MAC and decryption succeed and its attribute handling
  after them (counters, COUNTER_TOO_SMALL, result indications, the identity store) sees
  the fuzzed content.  A genuine peer's mutated Start response (AT_IDENTITY, NONCE_MT,
  SELECTED_VERSION) is covered by test_fuzz_responder.
"""

from __future__ import annotations

import contextlib
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

import ikeeap.eap.peer.sim as peer_sim
from fuzz_budget import fuzz_budget
from fuzz_escapes import reported_escapes
from fuzz_methods import check_output, fuzzed_login, lab
from fuzz_mutations import apply_mutations, corpus_seeds, mutated, mutation_operations
from ikeeap.crypto.sim_keys import derive_keys
from ikeeap.eap.methods.sim import attributes as a
from ikeeap.eap.methods.sim.identities import IdentityKind, classify
from ikeeap.eap.methods.sim.protection import decrypted_attributes, mac_ok

SIM_SEEDS = corpus_seeds("sim")
KEYS = derive_keys(bytes(range(20)))  # any keys: the codec must not care
MAX_PLAINTEXT = 4 * 255 - 4 - 16  # what one AT_ENCR_DATA can hold (padding included)


@fuzz_budget(6)
@given(data=mutated(SIM_SEEDS))
def test_fuzzed_sim_messages_parse_or_raise_sim_parse_error(data):
    try:
        msg = a.parse_message(data)
    except a.SimParseError:
        return
    assert all(isinstance(attr.value, bytes) for attr in msg.attributes)
    for attr in msg.attributes:
        for value in (a.read_reserved(attr), a.read_reserved(attr, 16),
                      a.read_with_length(attr)):
            assert value is None or isinstance(value, bytes)
        assert a.read_u16(attr) is None or 0 <= a.read_u16(attr) <= 0xFFFF
        versions = a.read_versions(attr)
        assert versions is None or all(0 <= v <= 0xFFFF for v in versions)
        raw = a.read_with_length(attr)
        if raw is not None:
            classify(raw)
    nested = decrypted_attributes(KEYS.k_encr, msg)
    assert nested is None or isinstance(nested, tuple)
    for code in (1, 2):
        assert isinstance(mac_ok(KEYS.k_aut, code, 7, data, b"\x00" * 12), bool)
    try:
        offset = a.mac_value_offset(data)
    except a.SimParseError:
        return
    assert 0 < offset <= len(data) - 16


@fuzz_budget(2)
@given(raw=st.one_of(mutated([b"1" + b"0" * 15 + b"@wlan.mnc001.mcc001.3gppnetwork.org",
                              b"2pseudonym@realm", b"5reauth-id@realm"]),
                     st.binary(max_size=80)))
def test_fuzzed_sim_identities_classify_without_raising(raw):
    who = classify(raw)
    assert who.raw == raw and isinstance(who.kind, IdentityKind)
    if who.kind is IdentityKind.PERMANENT:
        assert who.username.isdigit() and raw.startswith(b"1")


@contextlib.contextmanager
def _peer_mutations(sign_ops, encr_ops):
    """While active, ikeeap's SIM peer mutates its next signed message's attributes (AT_MAC
    kept) and the plaintext of its next AT_ENCR_DATA, then protects them as usual."""
    real_sign, real_encrypt = peer_sim.sign, peer_sim.encrypted_attributes
    pending = {"sign": sign_ops, "encr": encr_ops}

    def sign(k_aut, code, identifier, message, extra=b"", eap_type=a.EAP_TYPE_SIM):
        ops, pending["sign"] = pending["sign"], None
        if ops:
            mac_at = a.mac_value_offset(message, eap_type) - 4  # the AT_MAC attribute
            others = message[4:mac_at] + message[mac_at + 20:]
            message = message[:4] + apply_mutations(others, ops) + a.mac_placeholder()
            try:
                return real_sign(k_aut, code, identifier, message, extra, eap_type)
            except a.SimParseError:  # the mutant does not parse: sent as it is
                return message
        return real_sign(k_aut, code, identifier, message, extra, eap_type)

    def encrypted_attributes(k_encr, nested, random=peer_sim.os.urandom):
        ops, pending["encr"] = pending["encr"], None
        if ops:
            plain = apply_mutations(b"".join(nested), ops)[:MAX_PLAINTEXT]
            nested = [plain + bytes(-len(plain) % 4)]  # padding needs 4-octet units
        return real_encrypt(k_encr, nested, random)

    with mock.patch.object(peer_sim, "sign", sign), \
            mock.patch.object(peer_sim, "encrypted_attributes", encrypted_attributes):
        yield


@fuzz_budget(2)
@given(variant=st.sampled_from(["full", "reauth"]),
       sign_ops=st.one_of(st.none(), mutation_operations()),
       encr_ops=st.one_of(st.none(), mutation_operations()))
def test_fuzzed_sim_attributes_under_a_valid_mac(variant, sign_ops, encr_ops):
    """The Challenge / Re-authentication response with fuzzed attributes, correctly MACed
    and encrypted: the server answers (success, a failure Notification or EAP-Failure)."""
    conv = lab().conversation("sim", variant)
    with reported_escapes() as escapes, _peer_mutations(sign_ops, encr_ops):
        outputs = fuzzed_login(conv, -1, lambda genuine: genuine, [])
    assert not escapes
    for out in outputs:
        check_output(out)
