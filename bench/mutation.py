"""Mutation testing of the security checks: does some test fail when a check is weakened?

    python bench/mutation.py                   # every target, HEAD, all CPUs
    python bench/mutation.py --only cookies,radius --jobs 2
    python bench/mutation.py --worktree        # the working tree as it is (uncommitted edits)
    python bench/mutation.py --list            # the mutants, without running anything
    python bench/mutation.py --worktree --only cookies --select drop -v \
        --tests tests/unit/ike/test_dos_cookies.py   # which of these mutants a test kills

Not part of CI (a full run takes tens of minutes).  A small AST mutator, no dependency: for
each target module (``TARGETS``: a file, optionally only some of its functions, and the
test files that cover it) every mutant is one of

- ``cmp``    a comparison flipped: == / !=, < / <= / >=, in / not in, is / is not
- ``bool``   ``and`` <-> ``or``
- ``drop``   one operand of an ``and`` / ``or`` dropped (a check that is no longer made)
- ``not``    a ``not`` removed
- ``const``  an integer constant +1 / -1, True <-> False (so ``return True`` <-> ``False``)
- ``guard``  an ``if ...: raise/return`` guard removed
- ``slice``  a non-constant slice bound +1 / -1 (constant ones are ``const`` mutants)
- ``named``  a hand-written weakening no operator makes (``Target.named``), e.g. a PSK AUTH
             compared as a prefix, or AUTH payloads with 2 reserved octets on both sides

Strings, f-strings, annotations and logging calls are never mutated.  The tree is copied to a
temporary directory (``git archive`` of ``--rev``, or ``--worktree``); nothing under the
repository is modified.  Each mutant runs ``pytest -x`` over its target's tests in a
process forked from a server that imported pytest, hypothesis and cryptography once; the
mutated module is served from memory by an import hook, so parallel jobs share one copy.  A mutant is killed when the tests fail (or time out), and survives when
they pass.  Survivors are printed as ``file:line qualname [operator] before -> after``;
those docs/mutation.md accepts (as equivalent, or as weakening no check, each with its
reason) are counted apart.  Exit status 1 while any other survivor is left.  See
docs/mutation.md.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.abc
import importlib.util
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
DOC = Path("docs/mutation.md")


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] | None = None  # qualnames; None: the whole module
    # Hand-written mutants no operator makes (the weakenings issue 26 names): a description
    # and the (old, new) source replacements that make it; each old text occurs once.
    named: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


IKE_LOGINS = ("tests/unit/ike/test_responder_logins.py", "tests/unit/ike/test_responder_auth.py")
TARGETS: tuple[Target, ...] = (
    Target("auth", "ikeeap/crypto/auth.py", (
        "tests/unit/crypto/test_crypto_auth.py", *IKE_LOGINS,
        "tests/unit/ike/test_eap_only_logins.py")),
    Target("ike_auth", "ikeeap/ike/ike_auth.py", (
        "tests/unit/ike/test_responder_auth.py", "tests/unit/ike/test_responder_window.py",
        "tests/unit/ike/test_responder_logins.py",
        "tests/unit/ike/test_responder_exchanges.py", "tests/unit/ike/test_identity_binding.py",
        "tests/unit/ike/test_eap_only_logins.py", "tests/unit/ike/test_eap_tls_logins.py"),
        named=(
            ("a PSK AUTH that is a prefix of the expected value verifies", ((
                'or not hmac.compare_digest(expected, auth.data):\n'
                '        return _fail(sa, "PSK AUTH does not verify")',
                'or not expected.startswith(auth.data):\n'
                '        return _fail(sa, "PSK AUTH does not verify")'),)),
            ("a final AUTH that is a prefix of the expected value verifies", ((
                'or not hmac.compare_digest(expected, auth.data):\n'
                '        return _fail(sa, "final AUTH',
                'or not expected.startswith(auth.data):\n'
                '        return _fail(sa, "final AUTH'),)),
        )),
    Target("cookies", "ikeeap/ike/cookies.py", ("tests/unit/ike/test_dos_cookies.py",)),
    Target("fragments", "ikeeap/ike/fragments.py", (
        "tests/unit/ike/test_fragment_reassembly.py", "tests/unit/ike/test_fragment_responses.py",
        "tests/unit/ike/test_fragments.py", "tests/unit/ike/test_fragment_limits.py")),
    Target("responder", "ikeeap/ike/responder.py", (
        "tests/unit/ike/test_responder_window.py", "tests/unit/ike/test_responder_exchanges.py",
        "tests/unit/ike/test_fragment_reassembly.py", "tests/unit/ike/test_fragments.py",
        "tests/unit/ike/test_dos_cookies.py", *IKE_LOGINS,
        "tests/unit/ike/test_liveness.py", "tests/unit/ike/test_create_child_sa.py"),
        functions=("Responder.receive_datagram", "Responder.eap_done", "Responder._sa_init",
                   "Responder._request", "Responder._retransmit", "Responder._dispatch",
                   "Responder._response", "Responder.terminate")),
    Target("auth_codec", "ikeeap/wire/codec.py", (
        "tests/unit/ike/test_responder_auth.py", "tests/unit/wire/test_codec.py"),
        functions=("pull_auth", "push_auth"),
        named=(("AUTH payloads written and read with 2 reserved octets", (
            ("if end - off < 4:\n        raise ParseError(\"truncated AUTH",
             "if end - off < 3:\n        raise ParseError(\"truncated AUTH"),
            ("AuthPayload(buf[off], buf[off + 4 : end])",
             "AuthPayload(buf[off], buf[off + 3 : end])"),
            ("return _ONE_BYTE_3_RESERVED.pack(p.method) + p.data",
             "return struct.pack('>B2x', p.method) + p.data"))),)),
    Target("radius", "ikeeap/backends/radius/codec.py", (
        "tests/unit/radius/test_radius_codec.py", "tests/unit/radius/test_radius_client_core.py",
        "tests/unit/radius/test_radius_passthrough_front.py",
        "tests/unit/radius/test_radius_accounting_listener.py"),
        named=(("more than one Message-Authenticator accepted (the first one checked)", ((
            "if len(found) != 1 or found[0][1] != _MA_LENGTH:",
            "if not found or found[0][1] != _MA_LENGTH:"),)),)),
    *(Target(f"pwd_{part}", f"ikeeap/eap/methods/pwd/{part}.py", (
        "tests/unit/eap/test_eap_pwd_method.py", "tests/vectors/test_eap_pwd_kdf_vectors.py",
        "tests/unit/ike/test_eap_only_logins.py"))
      for part in ("server", "protocol", "packets", "passwords")),
    Target("mschapv2", "ikeeap/eap/methods/mschapv2.py", (
        "tests/unit/eap/test_eap_mschapv2_method.py",
        "tests/vectors/test_mschapv2_rfc2759_rfc3079.py",
        "tests/unit/ike/test_responder_logins.py")),
    Target("tls_identity", "ikeeap/eap/methods/tls_identity.py", (
        "tests/unit/eap/test_eap_tls_identity.py", "tests/unit/eap/test_eap_tls_method.py",
        "tests/unit/ike/test_eap_tls_logins.py")),
)

# ---------------------------------------------------------------------------- the mutator

_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "isEnabledFor"}
_CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
    ast.Lt: (ast.LtE, ast.GtE), ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE), ast.GtE: (ast.Gt, ast.Lt),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}


@dataclass
class Mutant:
    index: int
    path: str
    line: int
    qualname: str
    op: str
    before: str
    after: str
    status: str = ""  # killed / timeout / survived / equivalent / accepted / error
    seconds: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.path} · {self.qualname} · {self.before} → {self.after}"

    def describe(self) -> str:
        return (f"{self.path}:{self.line} {self.qualname} [{self.op}] "
                f"{self.before} -> {self.after}")


def _short(node: ast.AST) -> str:
    return " ".join(ast.unparse(node).split())


def _is_log_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in _LOG_METHODS)


def _ends_in_exit(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Raise, ast.Return))


class _Collector:
    """Walks a module and lists (line, qualname, op, before, after, apply) candidates; apply
    edits the tree in place.  The order is deterministic, so index k names the same mutant
    in every process that parses the same source."""

    def __init__(self, functions: tuple[str, ...] | None):
        self.functions = functions
        self.found: list[tuple[int, str, str, str, str, Callable[[], None]]] = []

    def wanted(self, qualname: str) -> bool:
        if self.functions is None:
            return True
        return any(qualname == f or qualname.startswith(f + ".") for f in self.functions)

    def add(self, node: ast.AST, qualname: str, op: str, before: str, after: str,
            apply: Callable[[], None]) -> None:
        if self.wanted(qualname):
            self.found.append((getattr(node, "lineno", 0), qualname, op, before, after, apply))

    # -- traversal: a generic walk that remembers the enclosing def and skips what we never
    # mutate (docstrings are string constants, which are never mutated anyway)
    def visit(self, node: ast.AST, qualname: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = node.name if qualname == "<module>" else f"{qualname}.{node.name}"
            self.replacements(node, inner, fields=("body",))
            for stmt in node.body:
                self.visit(stmt, inner)
            return
        if isinstance(node, ast.JoinedStr) or _is_log_call(node):
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.visit(node.value, qualname)
            return
        self.in_place(node, qualname)
        self.replacements(node, qualname)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "decorator_list", "type_comment"):
                continue
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item, qualname)
            elif isinstance(value, ast.AST):
                self.visit(value, qualname)

    def in_place(self, node: ast.AST, q: str) -> None:
        """Mutants that edit the node itself."""
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for new in _CMP_SWAPS.get(type(op), ()):
                    self._compare(node, q, i, new)
        elif isinstance(node, ast.BoolOp):
            self._swap_boolop(node, q)
        elif isinstance(node, ast.Constant):
            self._constant(node, q)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            for bound in ("lower", "upper"):
                expr = getattr(node.slice, bound)
                if expr is not None and not isinstance(expr, ast.Constant):
                    for delta in (1, -1):
                        self._slice(node, q, bound, delta)

    def replacements(self, parent: ast.AST, q: str, fields: tuple[str, ...] | None = None
                     ) -> None:
        """Mutants that replace a child of ``parent``: ``not x`` -> ``x``, ``a and b`` ->
        ``a``, an ``if ...: return`` guard -> its else branch (or nothing)."""
        for name, value in ast.iter_fields(parent):
            if fields is not None and name not in fields:
                continue
            if name in ("annotation", "returns", "decorator_list"):
                continue
            slots = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for i, child in slots:
                if isinstance(child, ast.UnaryOp) and isinstance(child.op, ast.Not):
                    self._replace(parent, name, i, child, q, "not", _short(child),
                                  [child.operand])
                elif isinstance(child, ast.BoolOp) and not _is_log_call(parent):
                    for k in range(len(child.values)):
                        rest = child.values[:k] + child.values[k + 1:]
                        new = rest[0] if len(rest) == 1 else ast.BoolOp(op=child.op,
                                                                         values=rest)
                        self._replace(parent, name, i, child, q, "drop", _short(child), [new])
                elif (isinstance(child, ast.If) and i is not None
                      and _ends_in_exit(child.body)):
                    before = f"if {_short(child.test)}: {_short(child.body[-1])}"
                    self._replace(parent, name, i, child, q, "guard", before,
                                  child.orelse or [ast.Pass()])

    def _replace(self, parent: ast.AST, field_name: str, i: int | None, child: ast.AST,
                 q: str, op: str, before: str, new: list[ast.AST]) -> None:
        after = "; ".join(_short(n) for n in new)

        def apply() -> None:
            if i is None:
                setattr(parent, field_name, new[0])
            else:
                getattr(parent, field_name)[i:i + 1] = new
        self.add(child, q, op, before, after, apply)

    def _compare(self, node: ast.Compare, q: str, i: int, new: type) -> None:
        mutated = copy.deepcopy(node)
        mutated.ops[i] = new()

        def apply() -> None:
            node.ops[i] = new()
        self.add(node, q, "cmp", _short(node), _short(mutated), apply)

    def _swap_boolop(self, node: ast.BoolOp, q: str) -> None:
        other = ast.Or if isinstance(node.op, ast.And) else ast.And

        def swap() -> None:
            node.op = other()
        self.add(node, q, "bool", _short(node),
                 _short(ast.BoolOp(op=other(), values=node.values)), swap)

    def _constant(self, node: ast.Constant, q: str) -> None:
        value = node.value
        if isinstance(value, bool):
            def flip() -> None:
                node.value = not value
            self.add(node, q, "const", repr(value), repr(not value), flip)
        elif isinstance(value, int):
            for delta in (1, -1):
                def shift(delta: int = delta) -> None:
                    node.value = value + delta
                self.add(node, q, "const", repr(value), repr(value + delta), shift)

    def _slice(self, node: ast.Subscript, q: str, bound: str, delta: int) -> None:
        expr = getattr(node.slice, bound)
        new = ast.BinOp(left=expr, op=ast.Add() if delta > 0 else ast.Sub(),
                        right=ast.Constant(1))
        mutated = copy.deepcopy(node)
        setattr(mutated.slice, bound, copy.deepcopy(new))

        def apply() -> None:
            setattr(node.slice, bound, new)
        self.add(node, q, "slice", _short(node), _short(mutated), apply)


def collect(source: str, functions: tuple[str, ...] | None) -> tuple[ast.Module, _Collector]:
    tree = ast.parse(source)
    collector = _Collector(functions)
    collector.replacements(tree, "<module>", fields=("body",))
    for stmt in tree.body:
        collector.visit(stmt, "<module>")
    return tree, collector


def mutants(target: Target, source: str) -> list[Mutant]:
    _, found = collect(source, target.functions)
    out = [Mutant(k, target.path, line, q, op, before, after)
           for k, (line, q, op, before, after, _) in enumerate(found.found)]
    for description, edits in target.named:
        line = source[:source.index(edits[0][0])].count("\n") + 1
        out.append(Mutant(len(out), target.path, line, "(named)", "named", description,
                          " ".join("; ".join(new for _, new in edits).split())))
    return out


def mutated_tree(target: Target, source: str, index: int) -> ast.Module:
    tree, found = collect(source, target.functions)
    if index < len(found.found):
        found.found[index][5]()
        return ast.fix_missing_locations(tree)
    _, edits = target.named[index - len(found.found)]
    for old, new in edits:
        if source.count(old) != 1:
            raise ValueError(f"named mutant: {old!r} is not in the source exactly once")
        source = source.replace(old, new)
    return ast.parse(source)


# ------------------------------------------------------------- one mutant, in a subprocess

class _ServeMutant(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``module`` from an in-memory code object instead of its file."""

    def __init__(self, module: str, filename: str, code: object):
        self.module, self.filename, self.code = module, filename, code

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 - importlib protocol
        if fullname != self.module:
            return None
        return importlib.util.spec_from_file_location(fullname, self.filename, loader=self)

    def create_module(self, spec):  # noqa: ANN001
        return None

    def exec_module(self, module) -> None:  # noqa: ANN001
        exec(self.code, module.__dict__)  # noqa: S102 - the mutant under test


def run_one(target_name: str, index: int, pytest_args: list[str]) -> int:
    """Run the target's tests with mutant ``index`` (-1: none) of its module; the process
    must not have imported ikeeap yet (cwd: the copy of the tree)."""
    target = next(t for t in TARGETS if t.name == target_name)
    filename = str(Path.cwd() / target.path)
    source = Path(filename).read_text()
    tree = mutated_tree(target, source, index) if index >= 0 else ast.parse(source)
    code = compile(tree, filename, "exec")
    module = target.path[:-3].replace("/", ".")
    sys.meta_path.insert(0, _ServeMutant(module, filename, code))
    sys.path.insert(0, str(Path.cwd()))
    import pytest

    status = pytest.main(pytest_args)
    loaded = sys.modules.get(module)
    if loaded is None or getattr(loaded, "__file__", None) != filename:
        print(f"mutation: {module} was not imported from {filename}", file=sys.stderr)
        return 99
    return int(status)


def serve() -> int:
    """A fork server (cwd: the copy): pytest, hypothesis and cryptography are imported once,
    then each request (a JSON line: target, index, args, timeout) runs in a forked child, so
    a mutant costs its tests, not an interpreter start.  Answers a JSON line per request."""
    import signal

    import hypothesis  # noqa: F401 - the slow imports, done once
    import pytest  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: F401

    assert not any(m == "ikeeap" or m.startswith("ikeeap.") for m in sys.modules)
    for line in sys.stdin:
        req = json.loads(line)
        log = tempfile.TemporaryFile()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: output to the log, never back into the driver's pipe
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                code = run_one(req["target"], req["index"], req["args"])
            except BaseException:  # noqa: BLE001 - reported as an error, whatever it is
                import traceback
                traceback.print_exc()
                code = 98
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        status = None
        while status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
            elif time.monotonic() - started > req["timeout"]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = "timeout"
            else:
                time.sleep(0.005)
        log.seek(0)
        tail = log.read()[-3000:].decode("utf-8", "replace")
        log.close()
        print(json.dumps({"code": status, "seconds": time.monotonic() - started,
                          "tail": tail}), flush=True)
    return 0


class Worker:
    """One fork server process, used by one thread at a time."""

    def __init__(self, copy_root: Path, python: str):
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--serve"], cwd=copy_root,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"})
        self.copy_root = copy_root

    def run(self, target: Target, index: int, timeout: float) -> tuple[str, float, str]:
        req = {"target": target.name, "index": index, "timeout": timeout,
               "args": pytest_args(target, self.copy_root)}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        code, seconds, tail = answer["code"], answer["seconds"], answer["tail"]
        if code == "timeout":
            return "timeout", seconds, tail
        if code == 0:
            return "survived", seconds, tail
        if code in (1, 2, 3):  # failed, interrupted (e.g. an import error), internal error
            return "killed", seconds, tail
        return "error", seconds, tail  # 4/5 (usage, no tests), 98/99 (this script)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


# ----------------------------------------------------------------------------- the driver

def make_copy(rev: str | None, dest: Path) -> None:
    if rev is None:  # the working tree, as it is
        shutil.copytree(ROOT, dest, symlinks=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", ".hypothesis", ".pytest_cache", "state", "build",
            "dist", "*.egg-info"))
        return
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def pytest_args(target: Target, copy_root: Path) -> list[str]:
    tests = [t for t in target.tests if (copy_root / t.split("::")[0]).exists()]
    # no pytest-twisted: these tests do not use it, and it cannot start a reactor twice
    return ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:twisted", "--no-header",
            "-o", "addopts=", *tests]


SECTIONS = {"accepted equivalent mutants": "equivalent",
            "accepted survivors that weaken no check": "accepted"}


def accepted_survivors(doc: Path) -> dict[str, str]:
    """Key -> "equivalent" or "accepted" for the mutants docs/mutation.md accepts: the first
    code span of each table row under the headings in ``SECTIONS``."""
    if not doc.exists():
        return {}
    keys: dict[str, str] = {}
    kind = None
    for line in doc.read_text().splitlines():
        if line.startswith("#"):
            kind = SECTIONS.get(line.lstrip("#").strip().lower())
        elif kind and (m := re.match(r"\|\s*`([^`]+)`", line)):
            keys[m.group(1)] = kind
    return keys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        return serve()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated target names (default: all): "
                        + ", ".join(t.name for t in TARGETS))
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--rev", default="HEAD", help="git revision to test (default HEAD)")
    source.add_argument("--worktree", action="store_true",
                        help="test the working tree as it is, uncommitted edits included")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--json", type=Path, help="write every mutant and its status here")
    parser.add_argument("--keep", action="store_true", help="keep the copy of the tree")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per mutant")
    parser.add_argument("--select", action="append", default=[], metavar="TEXT",
                        help="only the mutants whose description contains TEXT (repeatable)")
    parser.add_argument("--tests", nargs="+", metavar="PATH",
                        help="run these tests instead of the targets' own (pytest ids)")
    args = parser.parse_args(argv)

    chosen = TARGETS
    if args.tests:
        chosen = tuple(Target(t.name, t.path, tuple(args.tests), t.functions, t.named)
                       for t in TARGETS)
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {t.name for t in TARGETS}
        if unknown:
            parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
        chosen = tuple(t for t in TARGETS if t.name in names)

    work = Path(tempfile.mkdtemp(prefix="ikeeap-mutation-"))
    copy_root = work / "tree"
    make_copy(None if args.worktree else args.rev, copy_root)
    accepted = accepted_survivors(copy_root / DOC)
    results: list[Mutant] = []
    workers: queue.SimpleQueue[Worker] = queue.SimpleQueue()
    started = []
    if not args.list:
        for _ in range(max(1, args.jobs)):
            started.append(Worker(copy_root, sys.executable))
            workers.put(started[-1])

    def on_worker(target: Target, index: int, timeout: float) -> tuple[str, float, str]:
        worker = workers.get()
        try:
            return worker.run(target, index, timeout)
        finally:
            workers.put(worker)

    try:
        for target in chosen:
            found = mutants(target, (copy_root / target.path).read_text())
            if args.select:
                found = [m for m in found if any(x in m.describe() for x in args.select)]
            if args.list:
                for m in found:
                    print(m.describe())
                continue
            status, base, out = on_worker(target, -1, 900.0)
            if status != "survived":
                print(f"{target.name}: the unmutated tests do not pass ({status}); skipped\n"
                      f"{out}")
                continue
            timeout = max(30.0, 4 * base)
            print(f"{target.name}: {len(found)} mutants of {target.path}, "
                  f"tests {base:.1f} s unmutated", flush=True)

            def one(m: Mutant, target: Target = target, timeout: float = timeout) -> Mutant:
                m.status, m.seconds, detail = on_worker(target, m.index, timeout)
                if m.status == "survived" and m.key in accepted:
                    m.status = accepted[m.key]
                if args.verbose or m.status == "error":
                    print(f"  {m.status:10} {m.describe()}", flush=True)
                if m.status == "error":
                    print(detail[-1500:])
                return m

            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                done = list(pool.map(one, found))
            results += done
            _summary(target.name, done)
    finally:
        for worker in started:
            worker.close()
        if args.keep:
            print(f"copy kept at {copy_root}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.list:
        return 0
    survivors = [m for m in results if m.status == "survived"]
    print("\nsurviving mutants:" if survivors else "\nno surviving mutants")
    for m in survivors:
        print(f"  {m.describe()}")
    _summary("total", results)
    if args.json:
        args.json.write_text(json.dumps([asdict(m) | {"key": m.key} for m in results],
                                        indent=1, ensure_ascii=False))
    return 1 if survivors or any(m.status == "error" for m in results) else 0


def _summary(name: str, done: list[Mutant]) -> None:
    count = {s: sum(1 for m in done if m.status == s)
             for s in ("killed", "timeout", "survived", "equivalent", "accepted", "error")}
    print(f"{name}: {len(done)} mutants, {count['killed']} killed, {count['timeout']} timed "
          f"out, {count['survived']} survived, {count['equivalent']} equivalent, "
          f"{count['accepted']} accepted" + (f", {count['error']} errors" if count["error"]
                                             else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main())
