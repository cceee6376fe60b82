"""EAP-pwd framing (RFC 5931 §3): the L/M/PWD-Exch octet and the ID payload.

Our messages for groups 19-21 are at most 200 octets, so we never fragment.  A received
message with the L bit has its Total-Length checked and stripped; one with the M bit
(more fragments) is refused, since reassembly is not implemented (§4).
"""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import EAP_TYPE_PWD, Ciphersuite

EXCH_ID = 1
EXCH_COMMIT = 2
EXCH_CONFIRM = 3
_FLAG_L = 0x80
_FLAG_M = 0x40
_EXCH_MASK = 0x3F
TOKEN_LENGTH = 4


def build(exch: int, payload: bytes) -> bytes:
    """Type ‖ Type-Data of an unfragmented EAP-pwd message."""
    return bytes([EAP_TYPE_PWD, exch]) + payload


def parse(type_data: bytes) -> tuple[int, bytes] | str:
    """(PWD-Exch, payload) of an EAP-pwd message (Type-Data, without the Type), or why not."""
    if not type_data:
        return "empty EAP-pwd message"
    flags, exch, rest = type_data[0], type_data[0] & _EXCH_MASK, type_data[1:]
    if flags & _FLAG_M:
        return "fragmented EAP-pwd message (reassembly not supported)"
    if flags & _FLAG_L:
        if len(rest) < 2 or int.from_bytes(rest[:2], "big") != len(rest) - 2:
            return "EAP-pwd Total-Length does not match"
        rest = rest[2:]
    return exch, rest


@dataclass(frozen=True)
class IdPayload:
    """Ciphersuite, Token, Prep and the sender's identity (§3.2.1)."""

    suite: Ciphersuite
    token: bytes
    prep: int
    identity: bytes

    def encode(self) -> bytes:
        return self.suite.encode() + self.token + bytes([self.prep]) + self.identity

    @classmethod
    def decode(cls, payload: bytes) -> IdPayload | None:
        if len(payload) < 4 + TOKEN_LENGTH + 1:
            return None
        suite = Ciphersuite(int.from_bytes(payload[:2], "big"), payload[2], payload[3])
        token = payload[4 : 4 + TOKEN_LENGTH]
        return cls(suite, token, payload[8], payload[9:])
