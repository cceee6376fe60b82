"""What the interop tests need from the system, and which Debian 12 package ships each part.

One table serves three readers: ``scripts/install-test-deps.sh`` runs this file after apt to
refuse a machine that lacks a part (``python3 tests/interop/system_deps.py``), the interop
fixtures call :func:`missing_charon_plugins` before starting charon, and a unit test checks that
every package named here is in the script's APT_PACKAGES.  Standard library only: it runs
before the project's virtual environment exists.
"""

from __future__ import annotations

import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

CHARON_PLUGIN_DIR = "/usr/lib/ipsec/plugins"
# libreswan conflicts with strongswan-charon, so install-test-deps.sh does not install it but
# unpacks its .deb here (LIBRESWAN_PREFIX there); its libraries are ordinary APT_PACKAGES.
LIBRESWAN_PREFIX = "/opt/ikeeap-libreswan"
UNPACKED_PACKAGES = frozenset({"libreswan"})
_MULTIARCH = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"


@dataclass(frozen=True)
class Part:
    kind: str      # "charon plugin", "program", "FreeRADIUS module", "slapd schema", ...
    name: str
    paths: tuple[str, ...]  # any one of them present is enough
    package: str

    def present(self, root: Path) -> bool:
        return any((root / p.lstrip("/")).exists() for p in self.paths)

    def sentence(self) -> str:
        if self.package in UNPACKED_PACKAGES:
            return (f"missing {self.kind} {self.name} (package {self.package}, unpacked into "
                    f"{LIBRESWAN_PREFIX} by scripts/install-test-deps.sh)")
        return f"missing {self.kind} {self.name} (package {self.package})"


def _plugin(name: str, package: str) -> Part:
    return Part("charon plugin", name, (f"{CHARON_PLUGIN_DIR}/libstrongswan-{name}.so",), package)


def _program(name: str, package: str, *dirs: str) -> Part:
    return Part("program", name, tuple(f"{d}/{name}" for d in dirs or ("/usr/bin", "/usr/sbin")),
                package)


def _library(soname: str, package: str) -> Part:
    return Part("library", soname, (f"/usr/lib/{_MULTIARCH}/{soname}",
                                    f"/lib/{_MULTIARCH}/{soname}"), package)


# What the unpacked pluto, whack and addconn load (tests/interop/libreswan.py).
LIBRESWAN_LIBRARIES = {
    "libnss3.so": "libnss3", "libssl3.so": "libnss3", "libsmime3.so": "libnss3",
    "libnssutil3.so": "libnss3", "libnspr4.so": "libnspr4", "libunbound.so.8": "libunbound8",
    "libldns.so.3": "libldns3", "libevent_core-2.1.so.7": "libevent-core-2.1-7",
    "libevent_pthreads-2.1.so.7": "libevent-pthreads-2.1-7", "libcap-ng.so.0": "libcap-ng0",
    "libcurl-nss.so.4": "libcurl3-nss", "libldap-2.5.so.0": "libldap-2.5-0",
    "liblber-2.5.so.0": "libldap-2.5-0", "libaudit.so.1": "libaudit1",
    "libpam.so.0": "libpam0g", "libselinux.so.1": "libselinux1",
    "libsystemd.so.0": "libsystemd0", "libcrypt.so.1": "libcrypt1",
}

# Every plugin tests/interop/charon.py loads (BASE_PLUGINS, the kernel interfaces, extras).
CHARON_PLUGINS = {
    "random": "libstrongswan", "nonce": "libstrongswan", "pem": "libstrongswan",
    "pkcs1": "libstrongswan", "pkcs8": "libstrongswan", "x509": "libstrongswan",
    "revocation": "libstrongswan", "constraints": "libstrongswan", "pubkey": "libstrongswan",
    "kdf": "libstrongswan", "kernel-netlink": "libstrongswan",
    # every IKE/ESP algorithm, and with load_legacy the MD4/DES of EAP-MSCHAPv2
    "openssl": "libstrongswan-standard-plugins",
    "socket-default": "strongswan-libcharon",
    "vici": "strongswan-swanctl",
    "eap-mschapv2": "libcharon-extauth-plugins",
    "eap-identity": "libcharon-extra-plugins", "eap-md5": "libcharon-extra-plugins",
    "eap-gtc": "libcharon-extra-plugins", "eap-tls": "libcharon-extra-plugins",
    "eap-ttls": "libcharon-extra-plugins", "kernel-libipsec": "libcharon-extra-plugins",
}

PARTS: tuple[Part, ...] = (
    Part("program", "charon", ("/usr/lib/ipsec/charon",), "strongswan-charon"),
    _program("swanctl", "strongswan-swanctl"),
    *(_plugin(name, package) for name, package in CHARON_PLUGINS.items()),
    _program("ip", "iproute2", "/usr/bin", "/usr/sbin", "/bin", "/sbin"),
    _program("ss", "iproute2", "/usr/bin", "/usr/sbin", "/bin", "/sbin"),
    _program("unshare", "util-linux"),
    _program("nsenter", "util-linux"),
    _program("freeradius", "freeradius"),
    *(Part("FreeRADIUS module", f"rlm_eap_{m}", (f"/usr/lib/freeradius/rlm_eap_{m}.so",),
           "freeradius") for m in ("md5", "mschapv2", "gtc", "tls", "ttls", "peap")),
    Part("file", "/etc/freeradius/3.0/radiusd.conf", ("/etc/freeradius/3.0/radiusd.conf",),
         "freeradius-config"),
    _program("radclient", "freeradius-utils"),
    _program("slapd", "slapd"),
    _program("slapadd", "slapd"),
    Part("slapd module", "back_mdb", ("/usr/lib/ldap/back_mdb.so",), "slapd"),
    *(Part("slapd schema", s, (f"/etc/ldap/schema/{s}.schema",), "slapd")
      for s in ("core", "cosine", "inetorgperson", "nis")),
    _program("ldapwhoami", "ldap-utils"),
    _program("eapol_test", "eapoltest"),
    *(Part("libreswan program", name, (f"{LIBRESWAN_PREFIX}/usr/libexec/ipsec/{name}",),
           "libreswan") for name in ("pluto", "whack", "addconn")),
    *(_library(soname, package) for soname, package in LIBRESWAN_LIBRARIES.items()),
    _program("certutil", "libnss3-tools"),
    _program("pk12util", "libnss3-tools"),
    _program("nft", "nftables", "/usr/sbin", "/usr/bin", "/sbin"),
    _program("sysctl", "procps", "/usr/sbin", "/sbin", "/usr/bin", "/bin"),
    _program("ping", "iputils-ping", "/usr/bin", "/bin"),
)


def missing(root: Path = Path("/"), parts: tuple[Part, ...] = PARTS) -> list[Part]:
    return [p for p in parts if not p.present(root)]


def missing_charon_plugins(plugins: list[str], root: Path = Path("/")) -> list[str]:
    """A sentence for each plugin of ``plugins`` that is not installed."""
    sentences = []
    for name in plugins:
        part = _plugin(name, CHARON_PLUGINS.get(name, "unknown: add it to system_deps.py"))
        if not part.present(root):
            sentences.append(part.sentence())
    return sentences


def packages() -> set[str]:
    """The apt packages of the table (not the unpacked ones)."""
    return {p.package for p in PARTS} - UNPACKED_PACKAGES


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path("/")
    gaps = missing(root)
    for part in gaps:
        print(part.sentence(), file=sys.stderr)
    if not gaps:
        print(f"system_deps: all {len(PARTS)} parts the tests need are installed")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
