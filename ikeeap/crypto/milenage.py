"""Milenage (3GPP TS 35.206) and the GSM conversions of TS 33.102 §6.8.1.2 (c2, c3).

Used by the lab triplet source: test SIMs described by Ki and OPc, as hostapd's
hlr_auc_gw does.  All values are bytes; K, OP, OPc, RAND are 16 octets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
# The constants c1..c5 and rotations r1..r5 of TS 35.206 §4.1 (r in octets).
_C1, _C2, _C3, _C4, _C5 = (bytes(15) + bytes([n]) for n in (0, 1, 2, 4, 8))
_R1, _R2, _R3, _R4, _R5 = 8, 0, 4, 8, 12


@dataclass(frozen=True)
class MilenageOutput:
    """f2..f5* for one RAND.  Secrets never in ``repr``."""

    res: bytes = field(repr=False)
    ck: bytes = field(repr=False)
    ik: bytes = field(repr=False)
    ak: bytes = field(repr=False)
    ak_star: bytes = field(repr=False)


def _encrypt(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def _rotate(block: bytes, octets: int) -> bytes:
    return block[octets:] + block[:octets]


def _check(**values: bytes) -> None:
    for name, value in values.items():
        if len(value) != BLOCK:
            raise ValueError(f"Milenage {name} must be 16 octets")


def opc_from_op(op: bytes, k: bytes) -> bytes:
    """OPc = OP ⊕ E_K(OP)."""
    _check(op=op, k=k)
    return _xor(op, _encrypt(k, op))


def _out(k: bytes, opc: bytes, temp: bytes, rotation: int, constant: bytes) -> bytes:
    return _xor(_encrypt(k, _xor(_rotate(_xor(temp, opc), rotation), constant)), opc)


def milenage_f1(opc: bytes, k: bytes, rand: bytes, sqn: bytes,
                amf: bytes) -> tuple[bytes, bytes]:
    """(MAC-A, MAC-S): f1 and f1* (TS 35.206 §4.1)."""
    _check(opc=opc, k=k, rand=rand)
    if len(sqn) != 6 or len(amf) != 2:
        raise ValueError("SQN is 6 octets and AMF 2")
    temp = _encrypt(k, _xor(rand, opc))
    in1 = sqn + amf + sqn + amf
    out1 = _xor(_encrypt(k, _xor(_xor(temp, _rotate(_xor(in1, opc), _R1)), _C1)), opc)
    return out1[:8], out1[8:]


def milenage_f2345(opc: bytes, k: bytes, rand: bytes) -> MilenageOutput:
    """RES (f2), CK (f3), IK (f4), AK (f5) and AK (f5*) for one RAND."""
    _check(opc=opc, k=k, rand=rand)
    temp = _encrypt(k, _xor(rand, opc))
    out2 = _out(k, opc, temp, _R2, _C2)
    return MilenageOutput(
        res=out2[8:], ck=_out(k, opc, temp, _R3, _C3), ik=_out(k, opc, temp, _R4, _C4),
        ak=out2[:6], ak_star=_out(k, opc, temp, _R5, _C5)[:6],
    )


def gsm_sres_from_res(res: bytes) -> bytes:
    """c2 (TS 33.102): SRES = XRES*1 ⊕ XRES*2 for a 64-bit RES."""
    return _xor(res[:4], res[4:8])


def gsm_kc_from_ck_ik(ck: bytes, ik: bytes) -> bytes:
    """c3 (TS 33.102): Kc = CK1 ⊕ CK2 ⊕ IK1 ⊕ IK2 (64-bit halves)."""
    return _xor(_xor(ck[:8], ck[8:]), _xor(ik[:8], ik[8:]))


def gsm_milenage(opc: bytes, k: bytes, rand: bytes) -> tuple[bytes, bytes]:
    """(SRES, Kc) of a GSM authentication run on a Milenage USIM (c2, c3)."""
    out = milenage_f2345(opc, k, rand)
    return gsm_sres_from_res(out.res), gsm_kc_from_ck_ik(out.ck, out.ik)
