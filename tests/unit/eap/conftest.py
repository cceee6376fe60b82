"""Shared fixtures for the EAP tests: a user store, providers, a conversation driver."""

from __future__ import annotations

import pytest

from ikeeap.crypto.mschap import nt_password_hash
from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.credentials import LocalUserStore, Providers
from ikeeap.eap.peer import EapPeer

from eap_test_helpers import Converse, run


@pytest.fixture
def store() -> LocalUserStore:
    return LocalUserStore.from_config(
        {
            "alice": {"password": "secret"},
            "bob": {"nt_hash": nt_password_hash("clientPass").hex()},
            "DOM\\carol": {"password": "pw"},
        }
    )


@pytest.fixture
def providers(store: LocalUserStore) -> Providers:
    return Providers.from_store(store)


@pytest.fixture
def converse() -> Converse:
    """Pump packets between an authenticator and a peer until the server finishes."""

    def _converse(auth: EapAuthenticator, peer: EapPeer) -> tuple[EapOutput, list[bytes]]:
        async def go() -> tuple[EapOutput, list[bytes]]:
            sent: list[bytes] = []
            out = await auth.start()
            for _ in range(20):
                assert out.packet is not None
                sent.append(out.packet)
                if out.finished:
                    peer.respond(out.packet)
                    return out, sent
                out = await auth.receive(peer.respond(out.packet) or b"")
            raise AssertionError("conversation did not finish")

        return run(go())

    return _converse
