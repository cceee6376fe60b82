"""``ikeeap status | list-sas | terminate | reload``: the control socket from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .control import render
from .control.client import ControlError, call

_last_result: dict[str, Any] = {}  # terminate's exit status: 1 when nothing matched


def add_control_commands(sub: Any, default_config: str) -> None:
    status = sub.add_parser("status", help="show the running responder's state")
    status.set_defaults(func=cmd_status)
    sas = sub.add_parser("list-sas", help="list IKE SAs and their Child SAs")
    sas.set_defaults(func=cmd_list_sas)
    term = sub.add_parser("terminate", help="delete IKE SAs (DELETE sent to the peer)")
    term.add_argument("--id", help="SA id (or at least 4 leading hex digits)")
    term.add_argument("--user", help="EAP or IKE identity")
    term.add_argument("--vip", help="virtual IP")
    term.set_defaults(func=cmd_terminate)
    reload = sub.add_parser("reload", help="re-read the configuration (also on SIGHUP)")
    reload.set_defaults(func=cmd_reload)
    for p in (status, sas, term, reload):
        p.add_argument("--config", "-c", default=default_config,
                       help="TOML configuration (names the control socket)")
        p.add_argument("--socket", "-s", help="control socket path (default from config)")
        p.add_argument("--json", action="store_true", help="print JSON")
    sas.add_argument("--user", help="only this EAP or IKE identity")


def _socket(args: argparse.Namespace) -> str:
    if args.socket:
        return args.socket
    from .ops_config import control_socket_for_file

    return str(control_socket_for_file(args.config))


def _run(args: argparse.Namespace, cmd: str, renderer: Any, **kw: Any) -> int:
    try:
        path = _socket(args)
    except OSError as exc:  # the config that names the socket is missing or unreadable
        print(f"ikeeap {cmd}: cannot read the configuration {args.config}: "
              f"{exc.strerror or exc} (give --config or --socket)", file=sys.stderr)
        return 1
    except ValueError as exc:  # not TOML
        print(f"ikeeap {cmd}: cannot read the configuration {args.config}: {exc}",
              file=sys.stderr)
        return 1
    try:
        result = call(path, cmd, **kw)
    except ControlError as exc:
        print(f"ikeeap {cmd}: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:  # no server listening there
        print(f"ikeeap {cmd}: cannot reach the control socket {path}: {exc} (is ikeeap "
              "serve running?)", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if args.json else renderer(result))
    _last_result.clear()
    if isinstance(result, dict):
        _last_result.update(result)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    return _run(args, "status", render.render_status)


def cmd_list_sas(args: argparse.Namespace) -> int:
    return _run(args, "list-sas", render.render_sas, user=args.user)


def cmd_terminate(args: argparse.Namespace) -> int:
    if not (args.id or args.user or args.vip):
        print("ikeeap terminate: give --id, --user or --vip", file=sys.stderr)
        return 2
    code = _run(args, "terminate", render.render_terminated, id=args.id, user=args.user,
                virtual_ip=args.vip)
    return 1 if code == 0 and _last_result.get("terminated") == [] else code


def cmd_reload(args: argparse.Namespace) -> int:
    return _run(args, "reload", render.render_reload)
