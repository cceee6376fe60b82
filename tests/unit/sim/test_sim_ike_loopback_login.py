"""End to end over IKEv2 (sans-I/O initiator <-> responder in memory): EAP-SIM logins whose
AUTH payloads are keyed from the EAP-SIM MSK; wrong SRES refused; a second login uses fast
re-authentication; the identity store survives a "restart" (a new responder, same file)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ikeeap.backends.sim import MilenageSubscriber, MilenageTripletSource, SqliteIdentityStore
from ikeeap.eap.credentials import Providers
from ikeeap.eap.methods.sim import IDENTITIES, POLICY, TRIPLETS, SimPolicy
from ikeeap.eap.peer.sim import EapSimPeer, SimPeerState
from ikeeap.eap.registry import MethodRegistry
from ikeeap.initiator import testing
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import LoginResult, Loopback
from ikeeap.initiator.results import InitiatorState

IMSI = "001010000000001"
PERMANENT = f"1{IMSI}@wlan.mnc001.mcc001.3gppnetwork.org"
SOURCE = MilenageTripletSource({IMSI: MilenageSubscriber(
    bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
    bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf"))})


def _settings(store: SqliteIdentityStore) -> Any:
    providers = Providers(extra={TRIPLETS: SOURCE, IDENTITIES: store, POLICY: SimPolicy()})
    settings = testing.make_settings(eap_methods=("sim",))
    factory = testing.eap_factory(MethodRegistry.discover(entry_points=False), providers)
    return dataclasses.replace(settings, eap_factory=factory)


def _login(store: SqliteIdentityStore, state: SimPeerState,
           card: Callable[[bytes], tuple[bytes, bytes]] | None = None) -> LoginResult:
    gsm_auth = card or SOURCE.gsm_auth(IMSI)
    config = InitiatorConfig(
        identity=PERMANENT, eap_methods=(),
        eap_peer=lambda identity, password: EapSimPeer(PERMANENT, gsm_auth, state))
    loop = Loopback(_settings(store))
    try:
        return loop.login(config)
    finally:
        loop.close()


def test_ike_login_with_eap_sim_auth_keyed_from_msk() -> None:
    state = SimPeerState()
    result = _login(SqliteIdentityStore(":memory:"), state)
    assert result.established, result.failure_reason
    assert result.keymat_match
    # both AUTH payloads verified: each side keyed them from this 64-octet EAP-SIM MSK
    assert result.result.msk is not None and len(result.result.msk) == 64
    assert result.result.eap_method == 18
    assert state.reauth_id is not None  # AT_ENCR_DATA reached the peer inside IKE


def test_ike_login_wrong_sres_refused() -> None:
    card = SOURCE.gsm_auth(IMSI)
    result = _login(SqliteIdentityStore(":memory:"), SimPeerState(),
                    card=lambda rand: (b"\x00" * 4, card(rand)[1]))
    assert not result.established
    assert result.state is InitiatorState.FAILED
    assert result.responder_sa is None


def test_ike_fast_reauth_after_responder_restart(tmp_path: Path) -> None:
    db = tmp_path / "sim.sqlite"
    state = SimPeerState()
    first = _login(SqliteIdentityStore(db), state)
    assert first.established and state.reauth_id
    reauth_id = state.reauth_id
    second = _login(SqliteIdentityStore(db), state)  # a new store object: a restarted server
    assert second.established and second.keymat_match, second.failure_reason
    assert state.counter == 1 and state.reauth_id != reauth_id
    assert second.result.msk != first.result.msk
    assert oct(db.stat().st_mode & 0o777) == "0o600"
