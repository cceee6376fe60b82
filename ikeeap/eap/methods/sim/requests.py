"""Builders of the server's EAP-SIM Requests (RFC 4186 §9.1, §9.3, §9.5, §9.8).

Each returns Type ‖ Type-Data; protected ones are signed for the EAP identifier given,
so the method must send them with exactly that identifier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ikeeap.eap.methods.sim.attributes import (
    Attr,
    Notification,
    Subtype,
    attr_flag,
    attr_reserved,
    attr_u16,
    attr_versions,
    attr_with_length,
    encode_message,
    mac_placeholder,
)
from ikeeap.eap.methods.sim.protection import EAP_REQUEST, encrypted_attributes, sign

Random = Callable[[int], bytes]


def start_request(versions: Sequence[int], id_request: int | None) -> bytes:
    """EAP-Request/SIM/Start: AT_VERSION_LIST and at most one identity request."""
    attrs = [attr_versions(versions)]
    if id_request is not None:
        attrs.append(attr_flag(id_request))
    return encode_message(Subtype.START, attrs)


def identity_attributes(next_pseudonym: str | None, next_reauth_id: str | None) -> list[bytes]:
    """The encrypted AT_NEXT_PSEUDONYM / AT_NEXT_REAUTH_ID attributes wanted."""
    nested = []
    if next_pseudonym:
        nested.append(attr_with_length(Attr.NEXT_PSEUDONYM, next_pseudonym.encode()))
    if next_reauth_id:
        nested.append(attr_with_length(Attr.NEXT_REAUTH_ID, next_reauth_id.encode()))
    return nested


def challenge_request(identifier: int, k_encr: bytes, k_aut: bytes, rands: Sequence[bytes],
                      nonce_mt: bytes, nested: Sequence[bytes], result_ind: bool,
                      random: Random) -> bytes:
    """EAP-Request/SIM/Challenge, AT_MAC over the packet ‖ NONCE_MT."""
    attrs = [attr_reserved(Attr.RAND, b"".join(rands))]
    if result_ind:
        attrs.append(attr_flag(Attr.RESULT_IND))
    if nested:
        attrs += encrypted_attributes(k_encr, nested, random)
    attrs.append(mac_placeholder())
    return sign(k_aut, EAP_REQUEST, identifier, encode_message(Subtype.CHALLENGE, attrs), nonce_mt)


def reauth_request(identifier: int, k_encr: bytes, k_aut: bytes, counter: int, nonce_s: bytes,
                   next_reauth_id: str | None, result_ind: bool, random: Random) -> bytes:
    """EAP-Request/SIM/Re-authentication, AT_MAC over the packet alone."""
    nested = [attr_u16(Attr.COUNTER, counter), attr_reserved(Attr.NONCE_S, nonce_s)]
    nested += identity_attributes(None, next_reauth_id)
    attrs = encrypted_attributes(k_encr, nested, random)
    if result_ind:
        attrs.append(attr_flag(Attr.RESULT_IND))
    attrs.append(mac_placeholder())
    return sign(k_aut, EAP_REQUEST, identifier, encode_message(Subtype.REAUTHENTICATION, attrs))


def failure_notification(code: int = Notification.GENERAL_FAILURE) -> bytes:
    """An unprotected failure notification (P bit set: before authentication succeeded)."""
    return encode_message(Subtype.NOTIFICATION, [attr_u16(Attr.NOTIFICATION, code)])


def success_notification(identifier: int, k_encr: bytes, k_aut: bytes, counter: int | None,
                         random: Random) -> bytes:
    """Protected "Success" (32768); after a re-authentication it carries the counter."""
    attrs = [attr_u16(Attr.NOTIFICATION, Notification.SUCCESS)]
    if counter is not None:
        attrs += encrypted_attributes(k_encr, [attr_u16(Attr.COUNTER, counter)], random)
    attrs.append(mac_placeholder())
    return sign(k_aut, EAP_REQUEST, identifier, encode_message(Subtype.NOTIFICATION, attrs))
