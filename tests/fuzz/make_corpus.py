"""Regenerates the fuzz corpus (run from the repository root):

    python tests/fuzz/make_corpus.py            # every kind
    python tests/fuzz/make_corpus.py cert avp   # only these kinds

Writes tests/fuzz/corpus/<kind>-NN.bin; the fuzz tests (tests/unit/fuzz) mutate these:

- outer, inner, eap: from one in-memory IKEv2 login: whole IKE datagrams as the initiator
  sent them, the decrypted inner payload chains of its protected requests (first octet: the
  first payload type), and the EAP packets inside them;
- radius: the Access-Requests and replies of RADIUS-relayed logins (MSCHAPv2 accepted, MD5
  rejected) and a Status-Server;
- sim: EAP-SIM messages (Type ‖ Subtype ‖ Reserved ‖ attributes), both directions, of a full
  authentication and a fast re-authentication;
- tls: the Type-Data (Flags ‖ [Length] ‖ TLS records) of an EAP-TLS peer's responses;
- avp: EAP-TTLS phase 2 AVP sequences (PAP, EAP-Message, vendor-specific);
- cert: DER certificates (a CA, ECDSA and RSA server certificates, a client certificate with
  an rfc822Name, one with an IP address);
- control: control-socket request lines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit" / "fuzz")]

from fuzz_methods import PASSWORD, USER, FuzzLab, login  # noqa: E402

from ikeeap.backends.radius import codec  # noqa: E402
from ikeeap.control.protocol import encode_request  # noqa: E402
from ikeeap.crypto.certs import cert_der, generate_server_cert  # noqa: E402
from ikeeap.crypto.sk import SkCipher  # noqa: E402
from ikeeap.eap.methods.ttls_avp import (  # noqa: E402
    AVP_EAP_MESSAGE,
    AVP_REPLY_MESSAGE,
    AVP_USER_NAME,
    AVP_USER_PASSWORD,
    Avp,
    encode_avps,
)
from ikeeap.eap.packet import EapCode, EapPacket, EapType, parse_eap  # noqa: E402
from ikeeap.eap.peer import EapPeer  # noqa: E402
from ikeeap.initiator.config import InitiatorConfig  # noqa: E402
from ikeeap.initiator.loopback import Loopback  # noqa: E402
from ikeeap.initiator.testing import make_pki, make_settings  # noqa: E402
from ikeeap.wire.codec import parse_header_only, parse_payloads, sk_offset  # noqa: E402
from ikeeap.wire.constants import ExchangeType  # noqa: E402
from ikeeap.wire.payloads import EapPayload  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"


def login_seeds() -> dict[str, list[bytes]]:
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
    return seeds


def radius_seeds(lab: FuzzLab) -> list[bytes]:
    packets: list[bytes] = []
    for variant, password in (("mschapv2", PASSWORD), ("md5", "wrong")):
        conv = lab.conversation("radius", variant)
        conv.peer = EapPeer(USER, password, allowed_types=(conv.peer.allowed_types[0],))
        login(conv)  # the MD5 one ends in an Access-Reject
        assert conv.radius is not None
        for request, reply in zip(conv.radius.requests, conv.radius.replies, strict=True):
            packets += [request, reply]
    packets.append(codec.encode_request(codec.status_server(b"fuzz-radius-secret", 7)))
    return packets


def sim_seeds(lab: FuzzLab) -> list[bytes]:
    messages: list[bytes] = []
    for variant in ("full", "reauth"):
        transcript: list[tuple[bytes, bytes]] = []
        login(lab.conversation("sim", variant), transcript=transcript)
        for request, response in transcript:
            for packet in (request, response):
                eap = parse_eap(packet)
                if eap.type == EapType.SIM:
                    messages.append(bytes([eap.type]) + eap.data)
    return messages


def tls_seeds(lab: FuzzLab) -> list[bytes]:
    transcript: list[tuple[bytes, bytes]] = []
    login(lab.conversation("tls", "tls1.2"), transcript=transcript)
    return [parse_eap(response).data for _, response in transcript
            if parse_eap(response).type == EapType.TLS]


def avp_seeds() -> list[bytes]:
    identity = EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, b"alice").encode()
    md5 = EapPacket(EapCode.RESPONSE, 1, EapType.MD5, bytes([16]) + bytes(range(16))).encode()
    return [
        encode_avps([Avp(AVP_USER_NAME, b"alice", True),
                     Avp(AVP_USER_PASSWORD, b"secret" + bytes(10), True)]),
        encode_avps([Avp(AVP_EAP_MESSAGE, identity, True)]),
        encode_avps([Avp(AVP_EAP_MESSAGE, md5[:5], True), Avp(AVP_EAP_MESSAGE, md5[5:], True)]),
        encode_avps([Avp(1, b"\x00\x01", False, vendor_id=311),
                     Avp(AVP_REPLY_MESSAGE, b"hello", False),
                     Avp(AVP_USER_NAME, b"alice@example.test", True)]),
    ]


def cert_seeds(lab: FuzzLab) -> list[bytes]:
    rsa = generate_server_cert(lab.ca, "vpn.example.org", "rsa")
    by_ip = generate_server_cert(lab.ca, "192.0.2.1", "ecdsa", client_auth=True)
    return [cert_der(c.cert) for c in (lab.ca, lab.server, lab.client, rsa, by_ip)]


def control_seeds() -> list[bytes]:
    return [encode_request("status"), encode_request("list-sas", user="alice"),
            encode_request("list-sas", id="aabbccdd"),
            encode_request("terminate", id="aabbccdd", user="alice", virtual_ip="10.0.0.1"),
            encode_request("reload"), b'{"cmd": "status", "args": {}}\n{"cmd": "reload"}\n',
            encode_request("list-sas", user=["alice"], id={"prefix": "aabb"})]


def main(kinds: list[str]) -> None:
    lab = FuzzLab()
    makers: dict[str, Callable[[], list[bytes]]] = {
        "radius": lambda: radius_seeds(lab), "sim": lambda: sim_seeds(lab),
        "tls": lambda: tls_seeds(lab), "avp": avp_seeds, "cert": lambda: cert_seeds(lab),
        "control": control_seeds,
    }
    known = ["outer", "inner", "eap", *makers]
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        raise SystemExit(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(known)}")
    seeds: dict[str, list[bytes]] = {}
    if set(kinds) & {"outer", "inner", "eap"}:
        seeds.update({k: v for k, v in login_seeds().items() if k in kinds})
    seeds.update({k: make() for k, make in makers.items() if k in kinds})
    CORPUS.mkdir(exist_ok=True)
    for kind, items in seeds.items():
        for old in CORPUS.glob(f"{kind}-*.bin"):
            old.unlink()
        for i, data in enumerate(items):
            (CORPUS / f"{kind}-{i:02d}.bin").write_bytes(data)
        print(f"{kind}: {len(items)} seeds")


if __name__ == "__main__":
    main(sys.argv[1:] or ["outer", "inner", "eap", "radius", "sim", "tls", "avp", "cert",
                          "control"])
