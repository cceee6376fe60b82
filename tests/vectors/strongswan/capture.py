"""Regenerate the strongSwan IKEv2 vectors in this folder (needs root and strongSwan's charon).

    sudo .venv/bin/python tests/vectors/strongswan/capture.py [SCENARIO ...]

For each scenario a strongSwan initiator talks to a strongSwan responder (two charons in two
network namespaces, the interop harness of tests/interop/charon.py).  ikeeap takes no part: it
neither produces nor checks any octet recorded here, so the vectors can catch a bug that
ikeeap's codec or crypto shares between its responder and its test initiator.

What is recorded, per scenario, into ``<scenario>.json``:

- every UDP datagram on the link (an AF_PACKET sniffer on the initiator's veth, started by this
  script inside the initiator namespace); on port 4500 the non-ESP marker is stripped and ESP
  packets are skipped.
- from both charons' logs (``ike``/``enc``/``chd`` at level 4): per message strongSwan's own
  summary (``IKE_AUTH request 1 [ IDi AUTH ... ]``) and the plaintext of its SK payload
  (``plain``, without padding), the DH shared secret, SKEYSEED and SK_d/ai/ar/ei/er/pi/pr of
  every IKE SA (the initial one and each rekeyed one), each AUTH computation (IDx', SK_p, the
  signed octets, and for shared keys prf(key, "Key Pad for IKEv2") and AUTH), and the ESP keys
  of every Child SA (with the PFS DH secret if any).  The values are taken only where both
  charons logged the same octets.
- ``swanctl --list-sas`` after each step (SPIs, algorithms), the configuration and the
  test-only secrets (PSK, EAP password, the throw-away RSA keys and certificates).

Nothing here imports ikeeap.  tests/vectors/test_strongswan_vectors.py reads the JSON only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

PSK = "strongswan-vector-psk-0123456789"  # test-only
EAP_USER = "alice"
EAP_PASSWORD = "vector-password-1"  # test-only
SERVER_ID = "vpn.example.test"
CLIENT_ID = "alice@example.test"
LOG_LEVELS = {"default": 1, "ike": 4, "enc": 4, "chd": 4, "cfg": 2, "net": 2, "knl": 1,
              "lib": 1, "asn": 0, "tls": 1}
# No IKE fragmentation (RFC 7383) in these vectors: one datagram per message.
NO_FRAGMENTS = {"charon": {"fragment_size": 9000}}

SCENARIOS: dict[str, dict] = {
    "psk": {
        "doc": "PSK both ways; AES-CBC-128 / HMAC-SHA2-256-128 / PRF-HMAC-SHA2-256 / MODP-2048",
        "ike": "aes128-sha256-modp2048", "esp": "aes128-sha256",
        "initiator": {"local_auth": "psk", "remote_auth": "psk", "local_id": CLIENT_ID},
        "responder": {"local_auth": "psk", "remote_auth": "psk"},
    },
    "rsa": {
        "doc": "RSA certificates both ways (RFC 7427 signatures); AES-GCM-16-256 / "
               "PRF-HMAC-SHA2-384 / ECP-384",
        "ike": "aes256gcm16-prfsha384-ecp384", "esp": "aes256gcm16",
        "initiator": {"local_auth": "pubkey", "remote_auth": "pubkey", "local_id": CLIENT_ID},
        "responder": {"local_auth": "pubkey", "remote_auth": "pubkey"},
    },
    "eap_mschapv2": {
        "doc": "server RSA certificate + client EAP-MSCHAPv2 (MSK-keyed AUTH both ways); "
               "ChaCha20-Poly1305 / PRF-HMAC-SHA2-256 / Curve25519",
        "ike": "chacha20poly1305-prfsha256-x25519", "esp": "aes128gcm16",
        "initiator": {"local_auth": "eap-mschapv2", "remote_auth": "pubkey"},
        "responder": {"local_auth": "pubkey", "remote_auth": "eap-mschapv2"},
    },
    "eap_md5": {
        "doc": "server RSA certificate + client EAP-MD5 (no MSK: AUTH keyed with SK_pi/SK_pr, "
               "RFC 7296 §2.16); AES-CBC-128 / HMAC-SHA1-96 / PRF-HMAC-SHA1 / ECP-256",
        "ike": "aes128-sha1-ecp256", "esp": "aes128-sha1",
        "initiator": {"local_auth": "eap-md5", "remote_auth": "pubkey"},
        "responder": {"local_auth": "pubkey", "remote_auth": "eap-md5"},
    },
    "rekey": {
        "doc": "PSK, then CREATE_CHILD_SA: IKE SA rekey, then a Child SA rekey with PFS on the "
               "new IKE SA; AES-CBC-256 / HMAC-SHA2-384-192 / PRF-HMAC-SHA2-384 / ECP-521, "
               "ESP AES-CBC-128 / HMAC-SHA2-256-128 / MODP-2048",
        "ike": "aes256-sha384-ecp521", "esp": "aes128-sha256-modp2048",
        "initiator": {"local_auth": "psk", "remote_auth": "psk", "local_id": CLIENT_ID},
        "responder": {"local_auth": "psk", "remote_auth": "psk"},
        "rekey": True,
    },
}


# ------------------------------------------------------------------------------ sniffer


def sniff(iface: str, out_path: str) -> None:
    """Write each IPv4/UDP datagram to or from port 500/4500 on ``iface`` as a JSON line."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    sock.settimeout(0.2)
    with open(out_path, "w") as out:
        print("ready", flush=True)
        while not stop:
            try:
                frame, addr = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except InterruptedError:
                continue
            rec = _udp_of(frame)
            if rec is None:
                continue
            rec["outgoing"] = addr[2] == PACKET_OUTGOING
            rec["time"] = time.time()
            out.write(json.dumps(rec) + "\n")
            out.flush()


def _udp_of(frame: bytes) -> dict | None:
    if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    frag = struct.unpack("!H", ip[6:8])[0]
    if ip[9] != 17:
        return None
    if frag & 0x3FFF:
        raise RuntimeError("IP fragment on the link: raise the MTU")
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    udp = ip[ihl:total]
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    if 500 not in (sport, dport) and 4500 not in (sport, dport):
        return None
    payload = udp[8:ulen]
    return {"src": src, "dst": dst, "sport": sport, "dport": dport, "hex": payload.hex()}


# ------------------------------------------------------------------------------ charon logs

_LINE = re.compile(r"^\d\d:\d\d:\d\d (\d+)\[(\w+)\] (?:<([^>]*)> )?(.*)$")
_DUMP_HEAD = re.compile(r"^(.*) => (\d+) bytes @ (?:0x)?[0-9a-fA-F]+$")
_DUMP_ROW = re.compile(r"^\s*(\d+): ((?:[0-9A-F]{2} ){0,15}[0-9A-F]{2})")
_MSG = re.compile(r"^(generating|parsed) (\w+) (request|response) (\d+) \[ ?(.*?) ?\]$")
_PACKET = re.compile(r"^(sending|received) packet: from \S+ to \S+ \((\d+) bytes\)$")


def parse_log(text: str) -> list[dict]:
    """charon filelog lines as records {thread, group, sa, text, data (hex dump or None)}."""
    records: list[dict] = []
    open_dump: dict[str, tuple[dict, int]] = {}  # thread -> (record, expected length)
    for raw in text.splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        thread, group, sa, body = m.groups()
        pending = open_dump.get(thread)
        if pending is not None:
            row = _DUMP_ROW.match(body)
            rec, want = pending
            if row and int(row.group(1)) == len(rec["data"]):
                rec["data"] += bytes.fromhex(row.group(2).replace(" ", ""))
                if len(rec["data"]) >= want:
                    del open_dump[thread]
                continue
            raise ValueError(f"hex dump {rec['text']!r} cut short at {len(rec['data'])}/{want}")
        rec = {"thread": thread, "group": group, "sa": sa, "text": body, "data": None}
        head = _DUMP_HEAD.match(body)
        if head:
            rec["text"], rec["data"] = head.group(1), b""
            if int(head.group(2)):
                open_dump[thread] = (rec, int(head.group(2)))
        records.append(rec)
    if open_dump:
        raise ValueError("unterminated hex dump at the end of the log")
    return records


_IKE_KEYS = {"shared Diffie Hellman secret": "shared", "SKEYSEED": "skeyseed",
             "Sk_d secret": "sk_d", "Sk_ai secret": "sk_ai", "Sk_ar secret": "sk_ar",
             "Sk_ei secret": "sk_ei", "Sk_er secret": "sk_er", "Sk_pi secret": "sk_pi",
             "Sk_pr secret": "sk_pr"}
_CHILD_KEYS = {"encryption initiator key": "encr_i", "encryption responder key": "encr_r",
               "integrity initiator key": "integ_i", "integrity responder key": "integ_r"}


def extract(records: list[dict]) -> dict:
    """Messages, IKE key sets, AUTH computations and Child SA key sets, in log order."""
    messages: list[dict] = []
    current: dict[str, dict] = {}  # thread -> message being generated / parsed
    ike_keys: list[dict] = []
    auths: list[dict] = []
    child_keys: list[dict] = []
    child_dh: dict[str, str] = {}  # thread -> last "DH secret"
    for rec in records:
        t, text, data = rec["thread"], rec["text"], rec["data"]
        m = _MSG.match(text)
        p = _PACKET.match(text) if rec["sa"] is not None else None
        if m:
            verb, exchange, kind, msgid, payloads = m.groups()
            msg = current.get(t) if verb == "parsed" else None
            if msg is None or msg.get("exchange") is not None:
                msg = {"plain": None, "padding": None}
                if verb == "parsed":  # parsed without a "received packet" first: not ours
                    msg["length"] = None
            msg.update(direction="sent" if verb == "generating" else "received",
                       exchange=exchange, response=kind == "response", msgid=int(msgid),
                       payloads=payloads.strip(), sa=rec["sa"])
            if verb == "generating":
                current[t] = msg
            else:
                messages.append(msg)
                current.pop(t, None)
        elif p:
            verb, length = p.groups()
            if verb == "sending":
                msg = current.pop(t, None)
                if msg is not None and msg.get("exchange"):
                    msg["length"] = int(length)
                    messages.append(msg)
            else:
                current[t] = {"plain": None, "padding": None, "length": int(length),
                              "exchange": None}
        elif data is not None and text in ("plain", "padding") and rec["group"] == "ENC":
            msg = current.get(t)
            if msg is not None:
                msg[text] = data.hex()
        elif data is not None and text in _IKE_KEYS:
            name = _IKE_KEYS[text]
            if name == "shared" or not ike_keys or name in ike_keys[-1]:
                ike_keys.append({})
            ike_keys[-1][name] = data.hex()
        elif data is not None and text == "IDx'":
            auths.append({"id": data.hex()})
        elif data is not None and auths and text in ("SK_p", "octets = message + nonce + "
                                                     "prf(Sk_px, IDx')", "prf(secret, keypad)",
                                                     "AUTH = prf(prf(secret, keypad), octets)"):
            key = {"SK_p": "sk_p", "prf(secret, keypad)": "prf_keypad"}.get(
                text, "octets" if text.startswith("octets") else "auth")
            auths[-1][key] = data.hex()
        elif data is not None and text == "DH secret":
            child_dh[t] = data.hex()
        elif data is not None and text in _CHILD_KEYS:
            name = _CHILD_KEYS[text]
            if name == "encr_i":
                child_keys.append({"dh": child_dh.pop(t, None)})
            child_keys[-1][name] = data.hex()
    return {"messages": messages, "ike_keys": ike_keys, "auths": auths,
            "child_keys": child_keys}


# ------------------------------------------------------------------------------ a capture run


def _sa_snapshot(charon) -> list[dict]:
    keep = ("uniqueid", "state", "local-host", "local-port", "remote-host", "remote-port",
            "local-id", "remote-id", "initiator-spi", "responder-spi", "encr-alg",
            "encr-keysize", "integ-alg", "prf-alg", "dh-group")
    out = []
    for sa in charon.list_sas():
        d = {k: sa[k] for k in keep if k in sa}
        d["child-sas"] = [{k: c[k] for k in ("name", "state", "protocol", "encap", "spi-in",
                                             "spi-out", "encr-alg", "encr-keysize", "integ-alg",
                                             "dh-group") if k in c} for c in sa["child-sas"]]
        out.append(d)
    return out


def _pem(path: Path) -> str:
    return path.read_text()


def run_scenario(name: str, workdir: Path) -> dict:
    from tests.interop.charon import (
        CharonInitiator,
        CharonResponder,
        netns_pair,
        stop_process,
    )
    from tests.interop.testpki import TestPki

    spec = SCENARIOS[name]
    workdir.mkdir(parents=True, exist_ok=True)
    pki = TestPki(workdir / "pki")
    server = pki.issue(SERVER_ID, sans=[SERVER_ID], filename="server")
    client = pki.issue(CLIENT_ID, sans=[CLIENT_ID], filename="client")
    ini_opts = dict(spec["initiator"])
    resp_opts = dict(spec["responder"])
    secrets: dict[str, str] = {}
    if "psk" in (ini_opts["local_auth"], ini_opts["remote_auth"]):
        ini_opts["psk"] = resp_opts["psk"] = secrets["psk"] = PSK
    if ini_opts["local_auth"].startswith("eap"):
        ini_opts.update(eap_id=EAP_USER, eap_secret=EAP_PASSWORD)
        resp_opts["users"] = {EAP_USER: EAP_PASSWORD}
        secrets.update(eap_identity=EAP_USER, eap_password=EAP_PASSWORD)
    else:
        ini_opts["eap_id"] = None
    if ini_opts["local_auth"] == "pubkey":
        ini_opts.update(cert=client.cert, key=client.key)
        resp_opts["cacerts"] = [pki.ca_cert_path]
    if "pubkey" in (resp_opts["local_auth"],):
        resp_opts.update(cert=server.cert, key=server.key)
        ini_opts["cacerts"] = [pki.ca_cert_path]
    resp_opts["local_id"] = SERVER_ID
    topo = netns_pair(f"vec-{name}")
    sniffer = None
    resp = ini = None
    steps: list[dict] = []
    try:
        for ns, ifname in ((topo.initiator_ns, topo.initiator_if),
                           (topo.responder_ns, topo.responder_if)):
            ns.run(["ip", "link", "set", "dev", ifname, "mtu", "9000"])
        pcap = workdir / "datagrams.jsonl"
        sniffer = subprocess.Popen(
            ["ip", "netns", "exec", topo.initiator_ns.name, sys.executable, __file__,
             "--sniff", topo.initiator_if, str(pcap)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        if sniffer.stdout.readline().strip() != "ready":
            raise RuntimeError("sniffer did not start")
        resp = CharonResponder("r", workdir / "responder", topology=topo,
                               log_levels=LOG_LEVELS, strongswan_extra=NO_FRAGMENTS,
                               ike_proposals=[spec["ike"]], esp_proposals=[spec["esp"]],
                               **resp_opts)
        resp.start()
        ini = CharonInitiator("i", workdir / "initiator", topology=topo, kernel="libipsec",
                              log_levels=LOG_LEVELS, strongswan_extra=NO_FRAGMENTS,
                              retransmit_timeout=15, ike_proposals=[spec["ike"]],
                              esp_proposals=[spec["esp"]], remote_id=SERVER_ID, **ini_opts)
        ini.start()
        res = ini.initiate(timeout=15)
        if not res.ok or not ini.wait_for_log(r"CHILD_SA \S+ established", timeout=5):
            raise RuntimeError(f"initiate failed: {res}\n{ini.log_tail()}")
        steps.append({"step": "established", "initiator_sas": _sa_snapshot(ini)})
        if spec.get("rekey"):
            mark = ini.log_mark()
            res = ini.swanctl("--rekey", "--ike", ini.ike_name)
            if not res.ok or not ini.wait_for_log(r"IKE_SA deleted", timeout=10, start=mark):
                raise RuntimeError(f"IKE rekey failed: {res}\n{ini.log_tail()}")
            time.sleep(0.3)
            steps.append({"step": "ike rekeyed", "initiator_sas": _sa_snapshot(ini)})
            mark = ini.log_mark()
            res = ini.swanctl("--rekey", "--child", ini.child_name)
            if not res.ok or not ini.wait_for_log(r"CHILD_SA closed", timeout=10, start=mark):
                raise RuntimeError(f"Child rekey failed: {res}\n{ini.log_tail()}")
            time.sleep(0.3)
            steps.append({"step": "child rekeyed", "initiator_sas": _sa_snapshot(ini)})
        mark = ini.log_mark()
        res = ini.terminate(timeout=10)
        if not res.ok or not ini.wait_for_log(r"IKE_SA deleted", timeout=10, start=mark):
            raise RuntimeError(f"terminate failed: {res}")
        time.sleep(0.3)
    finally:
        if sniffer is not None:
            stop_process(sniffer)
        for c in (ini, resp):
            if c is not None:
                c.stop()
        topo.close()
    datagrams = []
    for line in (workdir / "datagrams.jsonl").read_text().splitlines():
        d = json.loads(line)
        raw = bytes.fromhex(d["hex"])
        entry = {"dir": "i2r" if d["src"] == topo.initiator_addr else "r2i",
                 "src": f"{d['src']}:{d['sport']}", "dst": f"{d['dst']}:{d['dport']}"}
        if 4500 in (d["sport"], d["dport"]):
            if raw[:4] != b"\0\0\0\0":
                continue  # ESP in UDP
            raw = raw[4:]
            entry["non_esp_marker"] = True
        entry["hex"] = raw.hex()
        datagrams.append(entry)
    logs = {role: extract(parse_log((workdir / role / "charon.log").read_text()))
            for role in ("initiator", "responder")}
    fixture = {
        "scenario": name,
        "description": spec["doc"],
        "producer": _strongswan_version(workdir / "initiator" / "charon.log"),
        "note": "Recorded between two strongSwan charons by capture.py; every secret and key "
                "here is test-only.",
        "config": {"ike_proposal": spec["ike"], "esp_proposal": spec["esp"],
                   "initiator": {k: v for k, v in spec["initiator"].items()},
                   "responder": {k: v for k, v in spec["responder"].items()},
                   "initiator_addr": topo.initiator_addr, "responder_addr": topo.responder_addr,
                   "server_id": SERVER_ID, **secrets},
        "datagrams": datagrams,
        "steps": steps,
    }
    if ini_opts.get("cert") or resp_opts.get("cert"):
        fixture["pki"] = {"ca_cert": _pem(pki.ca_cert_path),
                          "server_cert": _pem(server.cert), "server_key": _pem(server.key),
                          "client_cert": _pem(client.cert), "client_key": _pem(client.key)}
    fixture.update(_merge_logs(datagrams, logs))
    return fixture


def _strongswan_version(log: Path) -> str:
    m = re.search(r"Starting IKE charon daemon \((strongSwan [^,)]+)", log.read_text())
    return m.group(1) if m else "strongSwan"


def _header(raw: bytes) -> tuple[bytes, bytes, int, int, int]:
    spi_i, spi_r, _np, _v, exchange, flags, msgid, _len = struct.unpack("!8s8sBBBBII", raw[:28])
    return spi_i, spi_r, exchange, flags, msgid


_EXCHANGES = {"IKE_SA_INIT": 34, "IKE_AUTH": 35, "CREATE_CHILD_SA": 36, "INFORMATIONAL": 37}


def _merge_logs(datagrams: list[dict], logs: dict[str, dict]) -> dict:
    """Tie each datagram to the sender's and the receiver's log of it; keep values that both
    charons logged alike."""
    ini, resp = logs["initiator"], logs["responder"]
    messages = []
    used: dict[tuple[str, int], bool] = {}
    for i, d in enumerate(datagrams):
        raw = bytes.fromhex(d["hex"])
        _si, _sr, exchange, flags, msgid = _header(raw)
        response = bool(flags & 0x20)
        sender, receiver = (ini, resp) if d["dir"] == "i2r" else (resp, ini)
        found = []
        for side, direction in ((sender, "sent"), (receiver, "received")):
            cands = [j for j, m in enumerate(side["messages"])
                     if m["direction"] == direction and _EXCHANGES.get(m["exchange"]) == exchange
                     and m["response"] == response and m["msgid"] == msgid
                     and m.get("length") in (len(raw), None)
                     and not used.get((id(side), direction, j))]
            if not cands:
                raise RuntimeError(f"datagram {i} ({exchange}/{msgid}) not in the {direction} log")
            used[(id(side), direction, cands[0])] = True
            found.append(side["messages"][cands[0]])
        sent, received = found
        if sent["payloads"] != received["payloads"] or sent["plain"] != received["plain"]:
            raise RuntimeError(f"datagram {i}: sender and receiver logs differ")
        messages.append({"datagram": i, "exchange": sent["exchange"], "response": response,
                         "msgid": msgid, "strongswan_payloads": sent["payloads"],
                         "plain": sent["plain"], "padding_sent": sent["padding"]})
    if ini["ike_keys"] != resp["ike_keys"]:
        raise RuntimeError("the two charons logged different IKE SA keys")
    if ini["child_keys"] != resp["child_keys"]:
        raise RuntimeError("the two charons logged different Child SA keys")
    auths = [dict(a, logged_by="initiator") for a in ini["auths"]]
    auths += [dict(a, logged_by="responder") for a in resp["auths"]]
    return {"messages": messages, "ike_keys": ini["ike_keys"], "auths": auths,
            "child_keys": ini["child_keys"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", help=f"default: all of {', '.join(SCENARIOS)}")
    ap.add_argument("--sniff", nargs=2, metavar=("IFACE", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--out", type=Path, default=HERE, help="where to write <scenario>.json")
    args = ap.parse_args(argv)
    if args.sniff:
        sniff(*args.sniff)
        return 0
    sys.path.insert(0, str(REPO))
    for name in args.scenarios or list(SCENARIOS):
        workdir = Path(tempfile.mkdtemp(prefix=f"ikeeap-vectors-{name}-"))
        fixture = run_scenario(name, workdir)
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(fixture, indent=1) + "\n")
        print(f"{path}: {len(fixture['datagrams'])} datagrams, {len(fixture['ike_keys'])} IKE "
              f"key sets, {len(fixture['auths'])} AUTH records, {len(fixture['child_keys'])} "
              f"Child key sets" + (f"; logs in {workdir}" if args.keep else ""))
        if not args.keep:
            with contextlib.suppress(OSError):
                subprocess.run(["rm", "-rf", str(workdir)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
