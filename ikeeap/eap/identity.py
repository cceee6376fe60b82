"""Who is logged in: the identity an EAP method proved, and the rules that bind it.

The *outer* identity is the EAP-Response/Identity (or IDi when the Identity round is off). A
tunnelled method (TTLS, later PEAP) or an AAA server proves another one, the *authorised*
identity: the inner PAP User-Name or inner EAP identity, or the User-Name of a RADIUS
Access-Accept.  Everything after EAP (audit, accounting, list-sas, pools, metrics,
Session-Timeout, a connection's ``eap_id``) uses the authorised identity.

``outer_identity`` per connection says how the two may differ (as FreeRADIUS and strongSwan
users expect, the outer one is a routing hint that may hide the user):

- ``"anonymous-or-match"`` (default): the outer identity is anonymous (empty, ``anonymous``,
  ``@realm``, ``anonymous@realm``) or equal to the authorised one;
- ``"must-match"``: equal;
- ``"any"``: anything.

A method whose own protocol resolves identities (EAP-SIM pseudonyms, which the server issued)
reports a permanent identity without being subject to the rule: ``tunnelled`` is False.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

OUTER_IDENTITY_POLICIES = ("anonymous-or-match", "must-match", "any")
GROUP_PREFIX = "group:"


def is_anonymous(outer: str) -> bool:
    """``""``, ``anonymous``, ``@realm`` or ``anonymous@realm`` (case-insensitive)."""
    user, _, _realm = outer.partition("@")
    return user == "" or user.lower() == "anonymous"


def outer_identity_problem(policy: str, outer: str, authorised: str) -> str | None:
    """None when ``outer`` may stand for ``authorised`` under ``policy``, else why not."""
    if outer == authorised or policy == "any":
        return None
    if policy == "anonymous-or-match" and is_anonymous(outer):
        return None
    return (f"outer identity {outer!r} is neither {authorised!r} nor anonymous"
            if policy == "anonymous-or-match"
            else f"outer identity {outer!r} does not match {authorised!r}")


def matches_constraint(patterns: Iterable[str], identity: str,
                       groups: Iterable[str] = ()) -> bool:
    """A connection's ``eap_id``: an exact identity or a wildcard (``*@admins.example.org``),
    both case-sensitive, ``%any``, or ``group:NAME`` (a RADIUS Class value).  No patterns: any
    identity."""
    patterns = list(patterns)
    if not patterns:
        return True
    member_of = set(groups)
    for pattern in patterns:
        if pattern.startswith(GROUP_PREFIX):
            if pattern[len(GROUP_PREFIX):] in member_of:
                return True
        elif pattern in ("%any", "*") or fnmatch.fnmatchcase(identity, pattern):
            return True
    return False


def text(identity: bytes | str | None) -> str:
    if isinstance(identity, bytes):
        return identity.decode("utf-8", "replace")
    return identity or ""
