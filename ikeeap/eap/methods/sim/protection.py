"""AT_MAC and AT_ENCR_DATA on whole EAP packets (RFC 4186 §10.12, §10.14).

The MAC covers the entire EAP packet (Code, Identifier, Length included) with the MAC value
zeroed, followed by message-specific data (NONCE_MT, the SRES values, NONCE_S, or nothing).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence

from ikeeap.crypto.sim_keys import decrypt_attributes, encrypt_attributes, sim_mac, sim_mac_ok
from ikeeap.eap.methods.sim.attributes import (
    EAP_TYPE_SIM,
    Attr,
    SimAttribute,
    SimMessage,
    SimParseError,
    attr_padding_to_block,
    attr_reserved,
    mac_value_offset,
    parse_attributes,
    read_reserved,
)

EAP_REQUEST = 1
EAP_RESPONSE = 2
IV_SIZE = 16


def eap_packet(code: int, identifier: int, type_data: bytes) -> bytes:
    """Code ‖ Identifier ‖ Length ‖ Type ‖ Type-Data."""
    return struct.pack("!BBH", code, identifier, 4 + len(type_data)) + type_data


def sign(k_aut: bytes, code: int, identifier: int, message: bytes, extra: bytes = b"",
         eap_type: int = EAP_TYPE_SIM) -> bytes:
    """``message`` (Type ‖ Type-Data with a zero AT_MAC) with its MAC filled in."""
    offset = mac_value_offset(message, eap_type)
    mac = sim_mac(k_aut, eap_packet(code, identifier, message), extra)
    return message[:offset] + mac + message[offset + 16 :]


def mac_ok(k_aut: bytes, code: int, identifier: int, message: bytes, extra: bytes = b"",
           eap_type: int = EAP_TYPE_SIM) -> bool:
    """True if ``message`` carries a valid AT_MAC (constant-time comparison)."""
    try:
        offset = mac_value_offset(message, eap_type)
    except SimParseError:
        return False
    received = message[offset : offset + 16]
    zeroed = message[:offset] + bytes(16) + message[offset + 16 :]
    return sim_mac_ok(k_aut, eap_packet(code, identifier, zeroed), extra, received)


def encrypted_attributes(k_encr: bytes, nested: Sequence[bytes],
                         random: Callable[[int], bytes] = os.urandom) -> list[bytes]:
    """[AT_IV, AT_ENCR_DATA] holding ``nested`` (padded with AT_PADDING)."""
    plaintext = b"".join(nested)
    plaintext += attr_padding_to_block(len(plaintext))
    iv = random(IV_SIZE)
    return [attr_reserved(Attr.IV, iv),
            attr_reserved(Attr.ENCR_DATA, encrypt_attributes(k_encr, iv, plaintext))]


def decrypted_attributes(k_encr: bytes, message: SimMessage) -> tuple[SimAttribute, ...] | None:
    """The nested attributes of AT_ENCR_DATA, or None if absent or malformed."""
    iv = read_reserved(message.get(Attr.IV), IV_SIZE)
    data = read_reserved(message.get(Attr.ENCR_DATA))
    if iv is None or data is None:
        return None
    plaintext = decrypt_attributes(k_encr, iv, data)
    if plaintext is None:
        return None
    try:
        nested = parse_attributes(plaintext)
    except SimParseError:
        return None
    padding = next((a for a in nested if a.type == Attr.PADDING), None)
    if padding is not None and any(padding.value):
        return None  # §10.12: pad octets must be zero
    return nested
