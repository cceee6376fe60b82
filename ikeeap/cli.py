"""ikeeap: an IKEv2 responder that logs remote-access users in with EAP.

Commands: serve, check-config, plugins, status, list-sas, terminate, reload, radius-front,
bench.  `ikeeap COMMAND --help` describes each."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .bootstrap import ServeOptions, load_checked
from .config import Config, ConfigError
from .config_warnings import config_warnings
from .control_cli import add_control_commands
from .eap.plugin_checks import HEADER, describe_all
from .eap.registry import RegistryError
from .loadgen.cli import add_arguments as add_bench_arguments
from .loadgen.cli import run as run_bench
from .probe import probe_all
from .server.app import ServeApp, serve_forever
from .server.radius_front import run_radius_front
from .server.workers import serve_workers

DEFAULT_CONFIG = "conf/ikeeap.toml"


# What a strongSwan client writes as local.auth for a server method, by EAP type; a
# pass-through (type None, e.g. "radius") lets the AAA server choose: plain "eap".
_CLIENT_AUTH = {4: "eap-md5", 6: "eap-gtc", 13: "eap-tls", 18: "eap-sim", 21: "eap-ttls",
                23: "eap-aka", 26: "eap-mschapv2", 52: "eap-pwd"}


def client_auth_hint(registry: object, method: str) -> str:
    """The client-side ``local.auth`` for the server method ``method``."""
    try:  # the class attribute: no instance (a TLS method would want its files)
        eap_type = getattr(registry.get(method), "eap_type", None)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - unknown or odd plugin: let the client choose
        eap_type = None
    return _CLIENT_AUTH.get(eap_type, "eap") if eap_type is not None else "eap"


def _print_client_help(config: Config, ca_path: Path, bound: list[tuple[str, int]],
                       registry: object = None) -> None:
    demo = config.users.get("demo", {}).get("password")
    eap = next((c for c in config.connections if c.auth == "eap"), None)
    print("ikeeap is listening on " + ", ".join(f"{h}:{p}/udp" for h, p in bound))
    print(f"  server identity : {config.server.identity}")
    print(f"  CA certificate  : {ca_path}  (clients must trust it)")
    if eap is not None:
        print(f"  EAP methods     : {', '.join(eap.eap_methods)}  (connection {eap.name!r})")
    if demo:  # only the shipped demo account's password is ever printed
        print(f"  demo user       : demo / {demo}")
    auth = client_auth_hint(registry, eap.eap_methods[0]) if eap else "eap-mschapv2"
    print(f"  strongSwan client (swanctl.conf): remote_addrs = <this host>, local.auth = {auth},"
          f" remote.id = {config.server.identity},"
          " remote.auth = pubkey, CA in /etc/swanctl/x509ca/  (see README.md)")
    sys.stdout.flush()


def cmd_serve(args: argparse.Namespace) -> int:
    checked = load_checked(args.config)
    options = ServeOptions(args.config, tuple(args.listen) if args.listen else None,
                           args.port, args.nat_port, args.log_level)
    if getattr(args, "workers", 1) > 1:
        return serve_workers(options, checked, args.workers)

    def started(app: ServeApp, bound: list[tuple[str, int]]) -> None:
        if app.credentials is not None:
            _print_client_help(app.config, app.credentials.ca_path, bound, app.registry)

    return serve_forever(options, checked, started)


def cmd_bench(args: argparse.Namespace) -> int:
    return run_bench(args)


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_checked(args.config).config  # every problem at once, as serve checks

    for warning in config_warnings(config):
        print(warning)
    print(f"{config.path}: OK ({len(config.connections)} connections, "
          f"{len(config.users)} local users)")
    if not args.probe:
        return 0
    results = probe_all(config)
    for result in results:
        print(result.line())
    if not results:
        print("probe: no RADIUS or LDAP server configured")
    return 0 if all(r.ok for r in results) else 3


FRONT_SECRET_ENV = "IKEEAP_RADIUS_FRONT_SECRET"


def front_secret(args: argparse.Namespace) -> bytes | str:
    """The radius-front secret from --secret-file, $IKEEAP_RADIUS_FRONT_SECRET or --secret
    (warned about); a str is the reason there is none."""
    if args.secret_file:
        try:
            lines = Path(args.secret_file).read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            return f"cannot read --secret-file {args.secret_file}: {exc}"
        return lines[0].encode() if lines and lines[0] else \
            f"--secret-file {args.secret_file} is empty"
    if args.secret:
        print("radius-front: warning: --secret on the command line is visible to every user "
              f"(ps, /proc); use --secret-file or ${FRONT_SECRET_ENV}", file=sys.stderr)
        return args.secret.encode()
    if os.environ.get(FRONT_SECRET_ENV):
        return os.environ[FRONT_SECRET_ENV].encode()
    return f"no RADIUS secret: give --secret-file or set ${FRONT_SECRET_ENV}"


def cmd_radius_front(args: argparse.Namespace) -> int:
    secret = front_secret(args)
    if isinstance(secret, str):
        print(f"radius-front: {secret}", file=sys.stderr)
        return 2
    checked = load_checked(args.config)
    _setup_logging(args.log_level or checked.config.server.log_level)
    return run_radius_front(checked, args.listen, args.port, secret, args.connection)


def cmd_plugins(args: argparse.Namespace) -> int:
    registry = load_checked(args.config).registry
    print(HEADER)
    for info in describe_all(registry):
        print(info.row())
    return 0


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ikeeap", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the IKEv2 responder")
    serve.add_argument("--listen", action="append", help="address to bind (repeatable)")
    serve.add_argument("--port", type=int, help="IKE port (default from config, 500)")
    serve.add_argument("--nat-port", type=int, help="NAT-T port (default from config, 4500)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--workers", type=int, default=1,
                       help="processes sharing the ports (SO_REUSEPORT, docs/performance.md)")
    serve.set_defaults(func=cmd_serve)
    bench = sub.add_parser("bench", help="load generator: many concurrent EAP logins")
    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    check = sub.add_parser("check-config", help="validate a configuration file",
                           description="Report every problem of a configuration as "
                           "file:key: what is wrong. Contacts no server unless --probe.")
    check.add_argument("--probe", action="store_true",
                       help="also ask each RADIUS server (Status-Server) and LDAP server "
                       "(TLS and service bind) whether it answers")
    check.set_defaults(func=cmd_check_config)
    plugins = sub.add_parser("plugins", help="list the EAP methods found")
    plugins.set_defaults(func=cmd_plugins)
    front = sub.add_parser("radius-front", help="serve the EAP methods over RADIUS (tests)")
    front.add_argument("--listen", default="127.0.0.1",
                       help="address to bind (default: 127.0.0.1)")
    front.add_argument("--port", type=int, default=1812, help="UDP port (default: 1812)")
    secret = front.add_mutually_exclusive_group()
    secret.add_argument("--secret-file", help="file whose first line is the RADIUS shared "
                        f"secret (or set ${FRONT_SECRET_ENV})")
    secret.add_argument("--secret", help="the secret itself: visible to every user in ps, "
                        "prefer --secret-file")
    front.add_argument("--connection", help="EAP connection whose methods to host")
    front.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    front.set_defaults(func=cmd_radius_front)
    for p in (serve, check, plugins, front):
        p.add_argument("--config", "-c", default=DEFAULT_CONFIG,
                       help=f"TOML configuration (default: {DEFAULT_CONFIG}, relative to "
                       "the current directory)")
    add_control_commands(sub, DEFAULT_CONFIG)  # status, list-sas, terminate, reload
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `ikeeap list-sas | head`: the reader has what it wanted
        _silence_stdout()
        return 0
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except RegistryError as exc:
        print(f"plugins: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ikeeap: {exc}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Python would print 'Broken pipe' flushing stdout at exit: point it at /dev/null."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
