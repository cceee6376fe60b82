"""The initiator's view of an IKE SA once IKE_SA_INIT completed: keys and SK protection."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..crypto.keys import IkeSaKeys, derive_ike_keys
from ..crypto.sk import SkCipher
from ..crypto.transforms import IkeSuite
from ..wire.codec import encode_payloads, parse_payloads, sk_offset
from ..wire.constants import HeaderFlag
from ..wire.payloads import IkeHeader, Payload


@dataclass
class InitiatorSa:
    suite: IkeSuite
    keys: IkeSaKeys
    spi_i: bytes
    spi_r: bytes
    ni: bytes
    nr: bytes
    init_request: bytes
    init_response: bytes
    encrypter: SkCipher = field(init=False)
    decrypter: SkCipher = field(init=False)

    def __post_init__(self) -> None:
        k = self.keys
        self.encrypter = SkCipher(self.suite, k.sk_ei, k.sk_ai)
        self.decrypter = SkCipher(self.suite, k.sk_er, k.sk_ar)

    @classmethod
    def create(
        cls,
        suite: IkeSuite,
        shared: bytes,
        ni: bytes,
        nr: bytes,
        spi_i: bytes,
        spi_r: bytes,
        init_request: bytes,
        init_response: bytes,
    ) -> InitiatorSa:
        keys = derive_ike_keys(suite, ni, nr, shared, spi_i, spi_r)
        return cls(suite, keys, spi_i, spi_r, ni, nr, init_request, init_response)

    def seal(
        self, exchange: int, message_id: int, payloads: list[Payload], response: bool = False
    ) -> bytes:
        """A message from the original initiator with ``payloads`` inside one SK payload."""
        flags = HeaderFlag.INITIATOR | (HeaderFlag.RESPONSE if response else 0)
        first, inner = encode_payloads(payloads)
        header = IkeHeader(self.spi_i, self.spi_r, 0, exchange, flags, message_id)
        return self.encrypter.seal(header, first, inner)

    def open(self, message: bytes) -> list[Payload]:
        """The decrypted inner payloads; raises ParseError or IntegrityError."""
        offset = sk_offset(message)
        first = message[offset]  # the SK header's Next Payload: the first inner payload
        return parse_payloads(first, self.decrypter.open(message, offset))
