"""Helpers shared by the built-in server methods."""

from __future__ import annotations

from ikeeap.eap.credentials import Providers, UserCredential
from ikeeap.eap.method import EapContext


async def lookup_credential(ctx: EapContext, providers: Providers) -> UserCredential | None:
    """Stored credentials for the EAP identity, or None (unknown user, no lookup)."""
    user = ctx.user
    if user is None or providers.passwords is None:
        return None
    return await providers.passwords.get_credential(user)


def split_type(response: bytes, expected: int) -> bytes | None:
    """Type-Data of ``response`` if its Type is ``expected``, else None."""
    if not response or response[0] != expected:
        return None
    return response[1:]
