"""EAP-SIM peer identities (RFC 4186 §4.2.1): permanent, pseudonym, fast re-authentication.

The username (the part before ``@``) decides the kind: ``1<IMSI>`` is permanent (§4.2.1.6);
pseudonyms and re-authentication identities are ours, random, with the prefixes hostapd
uses ('3' and '5') so that they never look like permanent ones.  Lookups use only the
username, since the peer may change the realm (§5.3).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from enum import Enum

PERMANENT_PREFIX = "1"
PSEUDONYM_PREFIX = "3"
REAUTH_PREFIX = "5"
_ALPHABET = string.ascii_letters + string.digits
_RANDOM_CHARS = 20  # ~119 bits


class IdentityKind(Enum):
    PERMANENT = "permanent"
    PSEUDONYM = "pseudonym"
    REAUTH = "reauth"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PeerIdentity:
    raw: bytes  # as the peer sent it: used in key derivation
    kind: IdentityKind
    username: str  # without realm: the store key (or the IMSI for a permanent identity)
    realm: str


def split_nai(identity: str) -> tuple[str, str]:
    username, _, realm = identity.partition("@")
    return username, realm


def is_imsi(text: str) -> bool:
    return text.isascii() and text.isdigit() and 6 <= len(text) <= 15


def classify(raw: bytes) -> PeerIdentity:
    """Which kind of EAP-SIM identity ``raw`` is (UNKNOWN for garbage, never raises)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return PeerIdentity(raw, IdentityKind.UNKNOWN, "", "")
    username, realm = split_nai(text)
    if username.startswith(PERMANENT_PREFIX) and is_imsi(username[1:]):
        return PeerIdentity(raw, IdentityKind.PERMANENT, username[1:], realm)
    if username.startswith(PSEUDONYM_PREFIX) and len(username) > 1:
        return PeerIdentity(raw, IdentityKind.PSEUDONYM, username, realm)
    if username.startswith(REAUTH_PREFIX) and len(username) > 1:
        return PeerIdentity(raw, IdentityKind.REAUTH, username, realm)
    return PeerIdentity(raw, IdentityKind.UNKNOWN, username, realm)


def _random_name(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_CHARS))


def new_pseudonym() -> str:
    """A fresh pseudonym username (the peer adds its realm, as wpa_supplicant does)."""
    return _random_name(PSEUDONYM_PREFIX)


def new_reauth_id(realm: str) -> str:
    """A fresh one-time re-authentication identity, with ``realm`` so AAA routing works."""
    name = _random_name(REAUTH_PREFIX)
    return f"{name}@{realm}" if realm else name


def normalise_imsi(text: str) -> str | None:
    """An IMSI from ``001010000000001``, ``1001010000000001`` or either with a realm."""
    username, _ = split_nai(text.strip())
    if len(username) == 16 and username.startswith(PERMANENT_PREFIX):
        username = username[1:]
    return username if is_imsi(username) else None
