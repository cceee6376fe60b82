"""The package's layering as a test: no import cycles between ikeeap modules (module-level
imports and function-local ones alike: a local import hides a cycle, it does not remove it),
and Twisted only in the adapters."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "ikeeap"



def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom,
             modules: set[str]) -> list[str]:
    """What ``from X import a, b`` depends on: the submodules X.a, X.b where they are
    modules, else X itself (a name defined in X)."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    out = [f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in modules]
    if len(out) < len(node.names):
        out.append(prefix)
    return out


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = _resolve(name, path.name == "__init__.py", node, set(files))
            else:
                continue
            if isinstance(node, ast.ImportFrom) and _under_type_checking(tree, node):
                continue
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def _under_type_checking(tree: ast.Module, target: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            if any(child is target for child in ast.walk(node)):
                return True
    return False


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_twisted_only_in_the_server_adapters():
    users = sorted(name for name, path in
                   ((_module_name(p), p) for p in PACKAGE.rglob("*.py"))
                   if any(isinstance(n, (ast.Import, ast.ImportFrom))
                          and any(t == "twisted" or t.startswith("twisted.")
                                  for t in ([a.name for a in n.names] if isinstance(n, ast.Import)
                                            else [n.module or ""]))
                          for n in ast.walk(ast.parse(path.read_text()))))
    assert [u for u in users if not u.startswith("ikeeap.server.")] == []
