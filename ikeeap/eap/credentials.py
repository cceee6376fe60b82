"""Credential providers, kept apart from EAP methods.

Methods that need the cleartext (MD5) or the NT hash (MSCHAPv2) ask a
:class:`PasswordLookup`; methods that receive the password (GTC, later TTLS-PAP) ask a
:class:`PasswordVerifier`, so an LDAP bind verifier plugs in without touching them.  Both
protocols return awaitables: an ``async def`` or a Twisted Deferred both fit.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ikeeap.crypto.mschap import nt_password_hash

_DUMMY_HASH = b"\x00" * 16


class CredentialConfigError(ValueError):
    """A user entry in the configuration is malformed; the message names the user."""


@dataclass(frozen=True)
class UserCredential:
    """What a lookup knows about a user.  Secrets never appear in ``repr``."""

    password: str | None = field(default=None, repr=False)
    nt_hash: bytes | None = field(default=None, repr=False)

    def get_nt_hash(self) -> bytes | None:
        """The NT hash, computed from the password when only that is stored."""
        if self.nt_hash is not None:
            return self.nt_hash
        if self.password is not None:
            return nt_password_hash(self.password)
        return None


@runtime_checkable
class PasswordLookup(Protocol):
    """Returns stored credentials (cleartext and/or NT hash) for a user, or None."""

    def get_credential(self, user: str) -> Awaitable[UserCredential | None]: ...


@dataclass(frozen=True)
class Verdict:
    """A password check's answer: truthy only when accepted.  ``reason`` says why not, for
    the log and the audit line only (the peer learns nothing but failure)."""

    accepted: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.accepted


def refusal_reason(verdict: object, default: str) -> str:
    """Why a verifier refused (a plugin's plain False carries no reason)."""
    reason = verdict.reason if isinstance(verdict, Verdict) else ""
    return reason or default


@runtime_checkable
class PasswordVerifier(Protocol):
    """Checks a cleartext password; truthy only for a correct, non-empty password (a bool,
    or a :class:`Verdict` that says why it refused)."""

    def verify(self, user: str, password: str) -> Awaitable[bool | Verdict]: ...


@dataclass(frozen=True)
class Providers:
    """The providers handed to method factories and found in ``EapContext.providers``."""

    passwords: PasswordLookup | None = None
    verifier: PasswordVerifier | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        """A named extra provider (e.g. a SIM triplet source), or None."""
        return self.extra.get(name)

    @classmethod
    def from_store(cls, store: LocalUserStore) -> Providers:
        """Use one local store for both lookups and verification."""
        return cls(passwords=store, verifier=store)


class LocalUserStore:
    """Users from configuration: ``{"alice": {"password": "..."}, "bob": {"nt_hash": "hex"}}``."""

    def __init__(self, users: Mapping[str, UserCredential]) -> None:
        self._users = dict(users)

    @classmethod
    def from_config(cls, users: Mapping[str, Mapping[str, Any]]) -> LocalUserStore:
        """Validate the configuration mapping; errors name the offending user."""
        parsed: dict[str, UserCredential] = {}
        for name, entry in users.items():
            parsed[str(name)] = _parse_user(str(name), entry)
        return cls(parsed)

    def __contains__(self, user: object) -> bool:
        return user in self._users

    def __len__(self) -> int:
        return len(self._users)

    async def get_credential(self, user: str) -> UserCredential | None:
        return self._users.get(user)

    async def verify(self, user: str, password: str) -> Verdict:
        """Constant-time check; unknown users cost the same as wrong passwords."""
        cred = self._users.get(user)
        offered_hash = nt_password_hash(password or "")  # same work for every outcome
        if not password or cred is None:
            hmac.compare_digest(_DUMMY_HASH, offered_hash)
            return Verdict(False, "empty password" if not password else
                           f"unknown user {user!r} (local)")
        if cred.password is not None:
            ok = hmac.compare_digest(cred.password.encode("utf-8"), password.encode("utf-8"))
        else:
            ok = cred.nt_hash is not None and hmac.compare_digest(cred.nt_hash, offered_hash)
        return Verdict(True) if ok else Verdict(False, f"wrong password for {user!r} (local)")


def _parse_user(name: str, entry: Mapping[str, Any]) -> UserCredential:
    if not isinstance(entry, Mapping):
        raise CredentialConfigError(f"user {name!r}: expected a table with password or nt_hash")
    unknown = set(entry) - {"password", "nt_hash"}
    if unknown:
        raise CredentialConfigError(f"user {name!r}: unknown keys {sorted(unknown)}")
    password = entry.get("password")
    nt_hex = entry.get("nt_hash")
    if password is None and nt_hex is None:
        raise CredentialConfigError(f"user {name!r}: needs password or nt_hash")
    if password is not None and (not isinstance(password, str) or not password):
        raise CredentialConfigError(f"user {name!r}: password must be a non-empty string")
    nt_hash = None
    if nt_hex is not None:
        try:
            nt_hash = bytes.fromhex(str(nt_hex))
        except ValueError:
            raise CredentialConfigError(f"user {name!r}: nt_hash is not hex") from None
        if len(nt_hash) != 16:
            raise CredentialConfigError(f"user {name!r}: nt_hash must be 16 octets (32 hex)")
    return UserCredential(password=password, nt_hash=nt_hash)
