"""The import rules of the layout, checked on the source (every import statement, those inside
functions included):

- flows (`handlers/`) never import a platform (`bot.platforms`);
- the core (`bot/` outside `bot.platforms`) imports neither flows nor platforms, except the one
  wiring module, `bot.wiring`;
- no feature package imports another, and there are no import cycles among `handlers/`.

Written over `ast` rather than as import-linter contracts: "every module of `bot` but two" is
a rule import-linter's forbidden contract can only state by listing each module, and a list
would let the next new core module through unchecked.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIRING = "bot.wiring"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """The modules a file imports, absolute (`from . import x` resolved)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph(roots: tuple[str, ...] = ("bot", "handlers")) -> dict[str, set[str]]:
    modules = {module_name(path): path for root in roots
               for path in (ROOT / root).rglob("*.py") if "__pycache__" not in path.parts}
    return {name: {m for m in imports_of(path) if m in modules and m != name}
            for name, path in modules.items()}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if within(source, "handlers") and within(target, "bot.platforms"):
                found.append(f"flow imports a platform: {source} -> {target}")
            core = within(source, "bot") and not within(source, "bot.platforms")
            if core and source != WIRING and (within(target, "handlers")
                                              or within(target, "bot.platforms")):
                found.append(f"core imports a flow or platform: {source} -> {target}")
            if within(source, "handlers") and within(target, "handlers"):
                a, b = source.split("."), target.split(".")
                if len(a) > 1 and len(b) > 1 and a[1] != b[1]:
                    found.append(f"feature imports another feature: {source} -> {target}")
    return found + cycles({s: {t for t in ts if within(t, "handlers")}
                           for s, ts in edges.items() if within(s, "handlers")})


def cycles(edges: dict[str, set[str]]) -> list[str]:
    """Each import cycle, once, found by depth-first search."""
    found: list[str] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append("import cycle: " + " -> ".join([*path[path.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_the_tree_keeps_the_import_rules():
    assert violations(graph()) == []


def test_the_rules_catch_each_kind_of_violation():
    """The check is not vacuous: a graph with one violation of each kind fails each way."""
    bad = {
        "handlers.ask.flow": {"bot.platforms.slack.blocks", "handlers.reports.ids"},
        "bot.dispatch": {"handlers.ask"},
        "bot.cli": {"bot.platforms.console"},
        "bot.wiring": {"handlers", "bot.platforms.slack.app"},  # allowed
        "handlers.reports.intake": {"handlers.reports.common"},
        "handlers.reports.common": {"handlers.reports.intake"},
    }
    found = violations(bad)
    assert "flow imports a platform: handlers.ask.flow -> bot.platforms.slack.blocks" in found
    assert "feature imports another feature: handlers.ask.flow -> handlers.reports.ids" in found
    assert "core imports a flow or platform: bot.dispatch -> handlers.ask" in found
    assert "core imports a flow or platform: bot.cli -> bot.platforms.console" in found
    assert not [v for v in found if "bot.wiring" in v]
    assert any(v.startswith("import cycle: handlers.reports.common -> handlers.reports.intake")
               for v in found)


def test_relative_imports_are_resolved(tmp_path):
    package = tmp_path / "handlers" / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from . import flow\nfrom .ids import OPEN\n")
    (package / "flow.py").write_text("from ..other import x\n")
    assert imports_of(package / "__init__.py", tmp_path) >= {"handlers.demo.flow",
                                                             "handlers.demo.ids"}
    assert "handlers.other" in imports_of(package / "flow.py", tmp_path)
