"""Where EAP-pwd gets the password octets: the extension point for hashed/salted storage.

EAP-pwd needs the same octets on both sides *after* the password pre-processing (Prep)
that the server announces in its ID request (RFC 5931 §2.7.2, §3.2.1).  A
:class:`PwdSecretSource` returns the Prep value and those octets for a user:

- :class:`LocalPwdSecrets` (the default) reads the credential providers: a cleartext
  password gives Prep ``None`` (0) and its UTF-8 octets; a user stored only as an NT hash
  gives Prep ``RFC2759`` (1) and PasswordHashHash = MD4(NT hash), so MSCHAPv2-style hashed
  storage works without cleartext.
- A site with other storage registers its own source as the extra provider ``pwd_secrets``
  (``Providers(extra={"pwd_secrets": source})``).  Salted variants (RFC 8146: SSHA-1/256/512
  with the salt sent in the ID request) would be such a source plus a Prep value and a salt
  field; they are not implemented, nor is SASLprep (Prep 2).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ikeeap.crypto.mschap import hash_nt_password_hash
from ikeeap.eap.credentials import Providers

from .protocol import PREP_NONE, PREP_RFC2759

EXTRA_PROVIDER_NAME = "pwd_secrets"


@dataclass(frozen=True)
class PwdSecret:
    prep: int
    password: bytes = field(repr=False)


@runtime_checkable
class PwdSecretSource(Protocol):
    def pwd_secret(self, user: str) -> Awaitable[PwdSecret | None]: ...


class LocalPwdSecrets:
    """Cleartext -> Prep None; NT hash only -> Prep RFC2759 (PasswordHashHash)."""

    def __init__(self, providers: Providers) -> None:
        self._providers = providers

    async def pwd_secret(self, user: str) -> PwdSecret | None:
        lookup = self._providers.passwords
        if lookup is None:
            return None
        cred = await lookup.get_credential(user)
        if cred is None:
            return None
        if cred.password is not None:
            return PwdSecret(PREP_NONE, cred.password.encode("utf-8"))
        if cred.nt_hash is not None:
            return PwdSecret(PREP_RFC2759, hash_nt_password_hash(cred.nt_hash))
        return None


def secret_source(providers: Providers) -> PwdSecretSource:
    """The site's ``pwd_secrets`` provider if registered, else the local store adapter."""
    custom = providers.get(EXTRA_PROVIDER_NAME)
    return custom if custom is not None else LocalPwdSecrets(providers)
