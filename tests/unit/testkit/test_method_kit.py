"""The method-author kit: a new EAP method (own type, own peer side, an MSK) through full
in-memory IKEv2 logins in a few lines, plus the kit's own checks."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from ikeeap.eap.method import BaseMethod, EapStep
from ikeeap.eap.methods.md5 import Md5Method
from ikeeap.eap.registry import RegistryError
from ikeeap.testkit import MethodKit, peer_with

ECHO = 253  # an unassigned EAP type number: fine for a test method


class EchoChallenge(BaseMethod):
    """Server: sends a nonce; the peer answers HMAC(password, nonce); both derive an MSK."""

    name = "echo-challenge"
    eap_type = ECHO
    generates_msk = True
    requires = ("password_lookup",)

    async def start(self, ctx):
        self._nonce = os.urandom(16)
        return EapStep.continue_(bytes([ECHO]) + self._nonce)

    async def process(self, ctx, response):
        cred = await self._providers(ctx).passwords.get_credential(ctx.user or "")
        if cred is None or cred.password is None or len(response) != 33:
            return EapStep.failure("unknown user or malformed response")
        key = cred.password.encode()
        if not hmac.compare_digest(hmac.digest(key, self._nonce, "sha256"), response[1:]):
            return EapStep.failure("wrong answer")
        self._msk = hashlib.sha512(key + self._nonce).digest()
        return EapStep.success()

    def msk(self):
        return getattr(self, "_msk", None)


class EchoChallengePeer:
    """The author's peer side, in the shape of ikeeap.eap.peer.methods."""

    eap_type = ECHO

    def __init__(self, identity: bytes, password: str, msk_salt: bytes = b"") -> None:
        self._key, self._salt, self.done, self._msk = password.encode(), msk_salt, False, None

    def process(self, type_data: bytes, identifier: int) -> bytes:
        self.done = True
        self._msk = hashlib.sha512(self._key + type_data + self._salt).digest()
        return hmac.digest(self._key, type_data, "sha256")

    def msk(self) -> bytes | None:
        return self._msk


def test_new_method_with_msk_logs_in_end_to_end() -> None:
    kit = MethodKit(EchoChallenge, users={"alice": "secret"})
    login = kit.login("alice", "secret", peer=peer_with(EchoChallengePeer))
    assert login.established and login.method == "echo-challenge"
    assert login.msk is not None and len(login.msk) == 64  # AUTH was keyed with it


def test_wrong_password_is_refused() -> None:
    login = MethodKit(EchoChallenge, users={"alice": "secret"}).login(
        "alice", "guess", peer=peer_with(EchoChallengePeer))
    assert login.refused and login.failure == "EAP echo-challenge failed: wrong answer"


def test_msk_mismatch_fails_the_final_auth() -> None:
    """A peer deriving another MSK: EAP succeeds but the MSK-keyed AUTH does not verify."""
    salted = peer_with(lambda i, p: EchoChallengePeer(i, p, msk_salt=b"x"))
    login = MethodKit(EchoChallenge, users={"alice": "secret"}).login("alice", "secret",
                                                                      peer=salted)
    assert not login.established
    assert login.failure == "final AUTH does not verify (MSK mismatch)"


def test_peer_without_the_method_naks_and_fails() -> None:
    login = MethodKit(EchoChallenge).login("alice", "secret", peer=peer_with())
    assert login.refused and "Nak" in (login.failure or "")


def test_built_in_peer_is_chosen_by_eap_type() -> None:
    kit = MethodKit(Md5Method, users={"bob": "pw"})
    assert kit.login("bob", "pw").established
    assert kit.login("bob", "nope").refused


def test_method_without_a_built_in_peer_needs_one() -> None:
    with pytest.raises(ValueError, match="no built-in peer for EAP type 253"):
        MethodKit(EchoChallenge).login("alice", "secret")


def test_kit_runs_the_start_up_checks() -> None:
    from ikeeap.eap.credentials import Providers

    with pytest.raises(RegistryError, match="needs provider.s. password_lookup"):
        MethodKit(EchoChallenge, providers=Providers())


def test_kit_loads_a_method_from_a_plugins_dir(tmp_path) -> None:
    (tmp_path / "plain.py").write_text(
        "from ikeeap.eap.methods.gtc import GtcMethod\n"
        "class Plain(GtcMethod):\n    name = 'plain-gtc'\n")
    kit = MethodKit("plain-gtc", plugins_dir=tmp_path, users={"alice": "pw"})
    assert kit.login("alice", "pw").method == "plain-gtc"
    assert "plain.py" in kit.registry.origin("plain-gtc")


def test_without_identity_round() -> None:
    kit = MethodKit(EchoChallenge, users={"alice@example.org": "s"}, eap_identity_round=False)
    login = kit.login("alice@example.org", "s", peer=peer_with(EchoChallengePeer))
    assert login.established and login.raw.result.eap_request_types == [ECHO]
