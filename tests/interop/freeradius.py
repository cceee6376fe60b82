"""A private FreeRADIUS 3.2 for tests: a copy of /etc/freeradius/3.0 rewritten to listen on
127.0.0.1 (of a namespace, usually the responder's) with our clients, users and TLS certs.

    radius = FreeRadius(tmp_path / "raddb", users={"alice": "pw"}, secret="s",
                        server_cert=cert_files, ca_cert=ca_path)
    radius.start(spawn, ns=topology.responder_ns)   # auth on radius.auth_port, acct +1
    ...
    radius.accounting_records()  # the detail file, parsed into dicts
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from .charon import wait_udp_bound

SOURCE = Path("/etc/freeradius/3.0")


def freeradius_unavailable_reason() -> str | None:
    if shutil.which("freeradius") is None or not SOURCE.is_dir():
        return "FreeRADIUS not installed (Debian package freeradius)"
    return None


class FreeRadius:
    def __init__(self, directory: Path, *, users: dict[str, str], secret: str,
                 server_cert: Any, ca_cert: Path, auth_port: int = 18812,
                 reply_attributes: dict[str, list[str]] | None = None) -> None:
        self.dir = directory
        self.secret = secret
        self.auth_port = auth_port
        self.acct_port = auth_port + 1
        self.log_path = directory / "radiusd.log"
        self.proc: subprocess.Popen | None = None
        shutil.copytree(SOURCE, directory, symlinks=True)
        self._radiusd_conf()
        self._sites()
        (directory / "clients.conf").write_text(
            "client test {\n\tipaddr = 127.0.0.1\n\tsecret = " + secret
            + "\n\trequire_message_authenticator = yes\n}\n")
        self._users(users, reply_attributes or {})
        self._eap(server_cert, ca_cert)

    # -- config rewriting ----------------------------------------------------------------

    def _edit(self, rel: str, *subs: tuple[str, str]) -> None:
        path = self.dir / rel
        text = path.read_text()
        for pattern, repl in subs:
            text, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
            assert n, f"{rel}: {pattern!r} not found"
        path.unlink()  # may be a symlink into the copy: replace it with a plain file
        path.write_text(text)

    def _radiusd_conf(self) -> None:
        (self.dir / "run").mkdir()
        (self.dir / "radacct").mkdir()
        self._edit("radiusd.conf",
                   (r"^(\s*)(user|group) = freerad", r"\1#\2 = freerad"),
                   (r"^(\s*)reject_delay = \d+", r"\1reject_delay = 0"),
                   (r"^run_dir = .*$", f"run_dir = {self.dir / 'run'}"),
                   (r"^radacctdir = .*$", f"radacctdir = {self.dir / 'radacct'}"))

    def _sites(self) -> None:
        listens = (f"listen {{\n\ttype = auth\n\tipaddr = 127.0.0.1\n\tport = {self.auth_port}\n}}\n"
                   f"listen {{\n\ttype = acct\n\tipaddr = 127.0.0.1\n\tport = {self.acct_port}\n}}\n")
        path = self.dir / "sites-enabled" / "default"
        text = path.read_text()
        head, sep, rest = text.partition("server default {")
        body_start = rest.find("authorize {")
        # Drop every listen section of the stock site; keep its processing sections.
        text = head + sep + "\n" + listens + rest[body_start:]
        path.unlink()
        path.write_text(text)
        inner = self.dir / "sites-enabled" / "inner-tunnel"
        text = re.sub(r"listen \{\s*ipaddr = 127\.0\.0\.1\s*port = 18120\s*type = auth\s*\}",
                      "", inner.read_text())
        inner.unlink()
        inner.write_text(text)

    def _users(self, users: dict[str, str], replies: dict[str, list[str]]) -> None:
        lines = []
        for user, password in users.items():
            lines.append(f'"{user}"\tCleartext-Password := "{password}"')
            extra = replies.get(user, [])
            lines += [f"\t{a}," for a in extra[:-1]] + ([f"\t{extra[-1]}"] if extra else [])
        path = self.dir / "mods-config" / "files" / "authorize"
        original = path.read_text()
        path.unlink()
        path.write_text("\n".join(lines) + "\n\n" + original)

    def _eap(self, server_cert: Any, ca_cert: Path) -> None:
        self._edit("mods-available/eap",
                   (r"^(\s*)private_key_password = whatever", r"\1#private_key_password = x"),
                   (r"^(\s*)private_key_file = .*$", rf"\1private_key_file = {server_cert.key}"),
                   (r"^(\s*)certificate_file = .*$", rf"\1certificate_file = {server_cert.cert}"),
                   (r"^(\s*)ca_file = .*$", rf"\1ca_file = {ca_cert}"),
                   (r"^(\s*)ca_path = \$\{cadir\}", r"\1#ca_path = none"))

    # -- process ----------------------------------------------------------------------------

    def check(self) -> str:
        res = subprocess.run(["freeradius", "-XC", "-d", str(self.dir)], check=False,
                             capture_output=True,
                             text=True, timeout=30)
        if res.returncode != 0:
            raise RuntimeError("freeradius -XC failed:\n" + res.stdout[-4000:] + res.stderr)
        return res.stdout

    def start(self, spawn: Any, ns: Any = None, debug: bool = False) -> None:
        argv = ["freeradius", "-d", str(self.dir), "-f", "-l", str(self.log_path)]
        if debug:
            argv = ["freeradius", "-d", str(self.dir), "-X"]
        self.proc = spawn(ns, argv, name="freeradius")
        wait_udp_bound(ns, self.auth_port, "127.0.0.1", timeout=20, proc=self.proc)
        wait_udp_bound(ns, self.acct_port, "127.0.0.1", timeout=5, proc=self.proc)

    def log(self) -> str:
        own = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        spawned = getattr(self.proc, "log_path", None)
        return own + (Path(spawned).read_text(errors="replace") if spawned else "")

    def accounting_records(self) -> list[dict[str, str]]:
        """Every record of the detail files (attribute -> value, quotes stripped)."""
        records: list[dict[str, str]] = []
        for path in sorted((self.dir / "radacct").rglob("detail-*")):
            for block in path.read_text(errors="replace").split("\n\n"):
                fields = dict(_detail_line(line) for line in block.splitlines()[1:]
                              if "=" in line)
                if fields:
                    records.append(fields)
        return records

    def wait_accounting(self, predicate: Any, timeout: float = 10.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while True:
            records = self.accounting_records()
            if predicate(records) or time.monotonic() > deadline:
                return records
            time.sleep(0.2)


def _detail_line(line: str) -> tuple[str, str]:
    key, _, value = line.strip().partition(" = ")
    return key.strip(), value.strip().strip('"')
