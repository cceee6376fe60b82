"""LocalUserStore: lookups, constant-time verification, config validation."""

import pytest
from eap_test_helpers import run

from ikeeap.crypto.mschap import nt_password_hash
from ikeeap.eap.credentials import (
    CredentialConfigError,
    LocalUserStore,
    PasswordLookup,
    PasswordVerifier,
    UserCredential,
)


def test_store_implements_both_provider_protocols(store: LocalUserStore) -> None:
    assert isinstance(store, PasswordLookup) and isinstance(store, PasswordVerifier)


def test_lookup_returns_password_or_nt_hash(store: LocalUserStore) -> None:
    alice = run(store.get_credential("alice"))
    bob = run(store.get_credential("bob"))
    assert alice.password == "secret" and alice.get_nt_hash() == nt_password_hash("secret")
    assert bob.password is None and bob.get_nt_hash() == nt_password_hash("clientPass")
    assert run(store.get_credential("mallory")) is None


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [
        ("alice", "secret", None),
        ("alice", "Secret", "wrong password for 'alice' (local)"),
        ("alice", "", "empty password"),
        ("bob", "clientPass", None),
        ("bob", "clientpass", "wrong password for 'bob' (local)"),
        ("mallory", "secret", "unknown user 'mallory' (local)"),
        ("mallory", "", "empty password"),
    ],
)
def test_verify(store: LocalUserStore, user: str, password: str, reason: str | None) -> None:
    verdict = run(store.verify(user, password))
    assert bool(verdict) is (reason is None)
    assert verdict.reason == (reason or "")


def test_credential_repr_hides_secrets() -> None:
    text = repr(UserCredential(password="hunter2", nt_hash=b"\x01" * 16))
    assert "hunter2" not in text and "0101" not in text


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({}, "needs password or nt_hash"),
        ({"password": ""}, "non-empty"),
        ({"password": 5}, "non-empty"),
        ({"nt_hash": "zz"}, "not hex"),
        ({"nt_hash": "00" * 15}, "16 octets"),
        ({"password": "x", "pasword": "y"}, "unknown keys"),
        ("secret", "expected a table"),
    ],
)
def test_bad_config_names_the_user(entry: object, fragment: str) -> None:
    with pytest.raises(CredentialConfigError) as err:
        LocalUserStore.from_config({"dave": entry})  # type: ignore[dict-item]
    assert "dave" in str(err.value) and fragment in str(err.value)
