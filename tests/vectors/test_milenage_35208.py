"""Milenage (3GPP TS 35.206) against the conformance test sets of TS 35.208 §4.3, and
GSM-Milenage SRES/Kc (the c2/c3 conversions of TS 33.102) against TS 55.205 test sets.

Values as published in those specifications (reproduced in hostapd's
tests/test-milenage.c); hard-coded here.
"""

from __future__ import annotations

import pytest

from ikeeap.crypto.milenage import (
    gsm_kc_from_ck_ik,
    gsm_milenage,
    milenage_f1,
    milenage_f2345,
    opc_from_op,
)

# K, RAND, SQN, AMF, OP, OPc, f1, f1*, f2 (RES), f3 (CK), f4 (IK), f5 (AK), f5* (AK)
TS_35_208 = {
    "4.3.1 set 1": (
        "465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35", "ff9bb4d0b607",
        "b9b9", "cdc202d5123e20f62b6d676ac72cb318", "cd63cb71954a9f4e48a5994e37a02baf",
        "4a9ffac354dfafb3", "01cfaf9ec4e871e9", "a54211d5e3ba50bf",
        "b40ba9a3c58b2a05bbf0d987b21bf8cb", "f769bcd751044604127672711c6d3441",
        "aa689c648370", "451e8beca43b"),
    "4.3.3 set 3": (
        "fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a", "9d0277595ffc",
        "725c", "dbc59adcb6f9a0ef735477b7fadf8374", "1006020f0a478bf6b699f15c062e42b3",
        "9cabc3e99baf7281", "95814ba2b3044324", "8011c48c0c214ed2",
        "5dbdbb2954e8f3cde665b046179a5098", "59a92d3b476a0443487055cf88b2307b",
        "33484dc2136b", "deacdd848cc6"),
    "4.3.4 set 4": (
        "9e5944aea94b81165c82fbf9f32db751", "ce83dbc54ac0274a157c17f80d017bd6", "0b604a81eca8",
        "9e09", "223014c5806694c007ca1eeef57f004f", "a64a507ae1a2a98bb88eb4210135dc87",
        "74a58220cba84c49", "ac2cc74a96871837", "f365cd683cd92e96",
        "e203edb3971574f5a94b0d61b816345d", "0c4524adeac041c4dd830d20854fc46b",
        "f0b9c08ad02e", "6085a86c6f63"),
    "4.3.5 set 5": (
        "4ab1deb05ca6ceb051fc98e77d026a84", "74b0cd6031a1c8339b2b6ce2b8c4a186", "e880a1b580b6",
        "9f07", "2d16c5cd1fdf6b22383584e3bef2a8d8", "dcf07cbd51855290b92a07a9891e523e",
        "49e785dd12626ef2", "9e85790336bb3fa2", "5860fc1bce351e7e",
        "7657766b373d1c2138f307e3de9242f9", "1c42e960d89b8fa99f2744e0708ccb53",
        "31e11a609118", "fe2555e54aa9"),
    "4.3.7 set 7": (
        "2d609d4db0ac5bf0d2c0de267014de0d", "194aa756013896b74b4a2a3b0af4539e", "6bf69438c2e4",
        "5f67", "460a48385427aa39264aac8efc9e73e8", "c35a0ab0bcbfc9252caff15f24efbde0",
        "bd07d3003b9e5cc3", "bcb6c2fcad152250", "8c25a16cd918a1df",
        "4cd0846020f8fa0731dd47cbdc6be411", "88ab80a415f15c73711254a1d388f696",
        "7e6455f34cf3", "dc6dd01e8f15"),
}

# Ki, RAND, OPc, SRES#1 (c2: RES halves XORed), SRES#2 (RES truncated), Kc (c3)
TS_55_205 = {
    "set 1": ("465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35",
              "cd63cb71954a9f4e48a5994e37a02baf", "46f8416a", "a54211d5", "eae4be823af9a08b"),
    "set 2": ("fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a",
              "1006020f0a478bf6b699f15c062e42b3", "8c308a5e", "8011c48c", "aa01739b8caa976d"),
    "set 3": ("9e5944aea94b81165c82fbf9f32db751", "ce83dbc54ac0274a157c17f80d017bd6",
              "a64a507ae1a2a98bb88eb4210135dc87", "cfbce3fe", "f365cd68", "9a8ec95f408cc507"),
    "set 4": ("4ab1deb05ca6ceb051fc98e77d026a84", "74b0cd6031a1c8339b2b6ce2b8c4a186",
              "dcf07cbd51855290b92a07a9891e523e", "9655e265", "5860fc1b", "cdc1dc0841b81a22"),
    "set 5": ("6c38a116ac280c454f59332ee35c8c4f", "ee6466bc96202c5a557abbeff8babf63",
              "3803ef5363b947c6aaa225e58fae3934", "13688f17", "16c8233f", "df75bc5ea899879f"),
}


def _b(*values: str) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


@pytest.mark.parametrize("name", sorted(TS_35_208))
def test_milenage_ts_35_208(name: str) -> None:
    k, rand, sqn, amf, op, opc, f1, f1s, f2, f3, f4, f5, f5s = _b(*TS_35_208[name])
    assert opc_from_op(op, k) == opc
    assert milenage_f1(opc, k, rand, sqn, amf) == (f1, f1s)
    out = milenage_f2345(opc, k, rand)
    assert (out.res, out.ck, out.ik, out.ak, out.ak_star) == (f2, f3, f4, f5, f5s)


@pytest.mark.parametrize("name", sorted(TS_55_205))
def test_gsm_milenage_ts_55_205(name: str) -> None:
    ki, rand, opc, sres1, sres2, kc = _b(*TS_55_205[name])
    assert gsm_milenage(opc, ki, rand) == (sres1, kc)
    out = milenage_f2345(opc, ki, rand)
    assert out.res[:4] == sres2  # the alternative SRES of TS 55.205
    assert gsm_kc_from_ck_ik(out.ck, out.ik) == kc


def test_milenage_rejects_wrong_sizes() -> None:
    with pytest.raises(ValueError):
        milenage_f2345(bytes(15), bytes(16), bytes(16))
    with pytest.raises(ValueError):
        milenage_f1(bytes(16), bytes(16), bytes(16), bytes(5), bytes(2))
