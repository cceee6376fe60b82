"""Fixtures for the EAP-SIM tests: Milenage test SIMs, an in-memory store, a driver that
runs the server method against ikeeap's own SIM peer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from ikeeap.backends.sim import MilenageSubscriber, MilenageTripletSource, SqliteIdentityStore
from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext
from ikeeap.eap.methods.sim import IDENTITIES, POLICY, TRIPLETS, SimMethod, SimPolicy
from ikeeap.eap.peer.sim import EapSimPeer, SimPeerState
from ikeeap.initiator.loopback import drive

IMSI = "001010000000001"
PERMANENT = f"1{IMSI}@wlan.mnc001.mcc001.3gppnetwork.org"
KI = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")


@dataclass
class SimLab:
    """A Milenage HLR, an identity store and a policy; ``login`` runs one EAP-SIM exchange."""

    source: MilenageTripletSource
    store: SqliteIdentityStore
    policy: SimPolicy = field(default_factory=SimPolicy)
    peer_state: SimPeerState = field(default_factory=SimPeerState)

    def providers(self, **extra: Any) -> Providers:
        return Providers(extra={TRIPLETS: self.source, IDENTITIES: self.store,
                                POLICY: self.policy, **extra})

    def card(self) -> Callable[[bytes], tuple[bytes, bytes]]:
        return self.source.gsm_auth(IMSI)

    def login(self, peer: EapSimPeer | None = None, providers: Providers | None = None
              ) -> tuple[EapOutput, EapSimPeer, list[bytes]]:
        """Identity round + EAP-SIM; returns the final output, the peer and all requests."""
        peer = peer or EapSimPeer(PERMANENT, self.card(), self.peer_state)
        providers = providers or self.providers()
        auth = EapAuthenticator([(18, lambda: SimMethod({}, providers))],
                                EapContext(peer="test", providers=providers))
        out, requests = drive(auth.start()), []
        while not out.finished:
            assert out.packet is not None
            requests.append(out.packet)
            out = drive(auth.receive(peer.respond(out.packet)))
        assert out.packet is not None
        peer.respond(out.packet)
        return out, peer, requests


@pytest.fixture
def lab() -> SimLab:
    source = MilenageTripletSource({IMSI: MilenageSubscriber(KI, OPC)})
    return SimLab(source, SqliteIdentityStore(":memory:"))
