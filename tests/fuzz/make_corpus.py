"""Regenerates the fuzz corpus from one in-memory login (run from the repository root):

    python tests/fuzz/make_corpus.py

Writes tests/fuzz/corpus/{outer,inner,eap}-NN.bin: whole IKE datagrams as the initiator sent
them, the decrypted inner payload chains of its protected requests (first octet: the first
payload type), and the EAP packets inside them. The fuzz tests mutate these.
"""

from __future__ import annotations

from pathlib import Path

from ikeeap.crypto.sk import SkCipher
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import Loopback
from ikeeap.initiator.testing import make_pki, make_settings
from ikeeap.wire.codec import parse_header_only, parse_payloads, sk_offset
from ikeeap.wire.constants import ExchangeType
from ikeeap.wire.payloads import EapPayload

CORPUS = Path(__file__).resolve().parent / "corpus"


def main() -> None:
    pki = make_pki("ecdsa")
    loop = Loopback(make_settings(users={"alice": "secret"}, pki=pki), record=True)
    result = loop.login(InitiatorConfig(identity="alice", password="secret",
                                        ca_certificate=pki.ca.der))
    assert result.established
    sa = loop.responder.sas()[0]
    opener = SkCipher(sa.suite, sa.keys.sk_ei, sa.keys.sk_ai)
    seeds: dict[str, list[bytes]] = {"outer": [], "inner": [], "eap": []}
    for datagram, inbound in loop.transcript or []:
        if not inbound:
            continue
        seeds["outer"].append(datagram.data)
        if parse_header_only(datagram.data).exchange == ExchangeType.IKE_SA_INIT:
            continue
        offset = sk_offset(datagram.data)
        first, inner = datagram.data[offset], opener.open(datagram.data, offset)
        seeds["inner"].append(bytes([first]) + inner)
        seeds["eap"] += [p.data for p in parse_payloads(first, inner)
                         if isinstance(p, EapPayload)]
    CORPUS.mkdir(exist_ok=True)
    for kind, items in seeds.items():
        for i, data in enumerate(items):
            (CORPUS / f"{kind}-{i:02d}.bin").write_bytes(data)


if __name__ == "__main__":
    main()
