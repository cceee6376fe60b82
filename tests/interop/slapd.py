"""A throw-away OpenLDAP slapd for interop tests (no pytest inside).

Legacy ``slapd.conf`` (core, cosine, inetorgperson, nis schemas; back_mdb in a temporary
directory), data loaded offline with ``slapadd``, started in the foreground
(``slapd -d 0``) inside a network namespace (or the root one), with StartTLS/LDAPS from a
test CA.  Usage::

    d = Slapd(workdir, tls=pki.issue("ldap", sans=["127.0.0.1"]), ca=pki.ca_cert_path)
    d.start(spawn, ns)           # spawn(ns, argv, name=...) like the conftest fixture
    d.url                        # ldap://127.0.0.1:<port>
    d.pause(); d.resume()        # SIGSTOP/SIGCONT: a directory that stops answering
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .charon import run_in_netns

SUFFIX = "dc=example,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
GROUP_DN = f"cn=vpn-users,ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=ikeeap,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret-42"
# uid -> (password, member of vpn-users)
DEFAULT_USERS = {
    "alice": ("alice-ldap-pw", True),
    "bob": ("bob-ldap-pw", False),
    "dave": ("dave-ldap-pw", True),
}
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


def slapd_unavailable_reason() -> str | None:
    for tool in ("slapd", "slapadd", "ldapwhoami"):
        if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}")):
            return f"{tool} not installed (apt install slapd ldap-utils)"
    return None


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


@dataclass
class Slapd:
    workdir: Path
    port: int = 38989
    tls_cert: Any = None  # testpki.CertFiles for the server (StartTLS / LDAPS)
    ca_path: Path | None = None
    users: dict[str, tuple[str, bool]] = field(default_factory=lambda: dict(DEFAULT_USERS))
    ldaps_port: int | None = None
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def write(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "db").mkdir(exist_ok=True)
        conf = self.workdir / "slapd.conf"
        conf.write_text(self._conf_text())
        ldif = self.workdir / "data.ldif"
        ldif.write_text(self._ldif_text())
        subprocess.run([_tool("slapadd"), "-f", str(conf), "-l", str(ldif)], check=True,
                       capture_output=True, timeout=30)
        return conf

    def start(self, spawn: Callable[..., subprocess.Popen], ns: Any) -> Slapd:
        conf = self.write()
        urls = f"ldap://127.0.0.1:{self.port}/"
        if self.ldaps_port:
            urls += f" ldaps://127.0.0.1:{self.ldaps_port}/"
        self.proc = spawn(ns, [_tool("slapd"), "-f", str(conf), "-h", urls, "-d", "0"],
                          name="slapd")
        self._wait_ready(ns)
        return self

    def _wait_ready(self, ns: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        argv = ["ldapwhoami", "-x", "-H", self.url, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD]
        while True:
            probe = run_in_netns(ns, argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out, _ = probe.communicate(timeout=10)
            if probe.returncode == 0:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited: {Path(self.proc.log_path).read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"slapd not ready: {out.decode(errors='replace')}")
            time.sleep(0.1)

    def pause(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)  # accepts TCP (backlog), never answers

    def resume(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGCONT)

    def _conf_text(self) -> str:
        d = self.workdir
        lines = [f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS]
        lines += [f"pidfile {d}/slapd.pid", f"argsfile {d}/slapd.args",
                  "modulepath /usr/lib/ldap", "moduleload back_mdb"]
        if self.tls_cert is not None:
            lines += [f"TLSCertificateFile {self.tls_cert.cert}",
                      f"TLSCertificateKeyFile {self.tls_cert.key}",
                      f"TLSCACertificateFile {self.ca_path}"]
        lines += ["database mdb", "maxsize 10485760", f'suffix "{SUFFIX}"',
                  f'rootdn "cn=admin,{SUFFIX}"', "rootpw admin-secret", f"directory {d}/db",
                  "access to attrs=userPassword by self =xw by anonymous auth by * none",
                  "access to * by * read"]
        return "\n".join(lines) + "\n"

    def _ldif_text(self) -> str:
        entries = [
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
            "o: Example",
            *(f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}"
              for ou in ("people", "groups", "services")),
            f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject"
            f"\ncn: ikeeap\nuserPassword: {SERVICE_PASSWORD}",
        ]
        for uid, (password, _) in self.users.items():
            entries.append(f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
                           f"cn: {uid}\nsn: {uid}\nuserPassword: {password}")
        members = [f"member: uid={u},{PEOPLE}" for u, (_, m) in self.users.items() if m]
        entries.append(f"dn: {GROUP_DN}\nobjectClass: groupOfNames\ncn: vpn-users\n"
                       + "\n".join(members))
        return "\n\n".join(entries) + "\n"
