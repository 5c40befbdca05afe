"""The layout rules of DESIGN.md, checked from the source with `ast` (nothing is imported).

- No import cycle between the project's modules: every import counts, at module level or
  inside a function, absolute or relative.
- No import of a project module inside a function unless a comment on its line or the
  line before says why it cannot be at the top (`# import here: ...`).
- No module over 400 lines outside tests, migrations and the sandbox.
- `connection.vendor` and hand-built SQL (`cursor()`, `.execute(...)`, `RawSQL`,
  `.raw(...)`) only in `project/db/bulk.py`.
- Nothing under `integrations/sync/` imports a Moneybird-specific module or name: the
  runners work for any provider.
- No product module (accounts, records, integrations, project) imports the sandbox.

The project's modules are the packages at the top of the repository (a folder with an
`__init__.py`), less the tests (`tests/`, every `*/tests/`) and the migrations. bench/
is held to the first and third rule only (see `TOOLS`).
"""

import ast
import functools
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
NOT_PROJECT = {"tests"}  # the top-level test support package
SKIPPED_PARTS = {"tests", "migrations"}
MAX_LINES = 400
BULK_SQL_MODULE = "project.db.bulk"
# bench/ measures the SQL itself, and imports the project inside functions by design
# (after configuring Django with its own settings): exempt from those two rules.
TOOLS = {"bench"}
SQL_WORDS = ("vendor", "cursor", "execute", "RawSQL", "raw(")
PROVIDER_NEUTRAL = "integrations.sync"
PRODUCT = {"accounts", "records", "integrations", "project"}
PRAGMAS = ("noqa", "fmt:", "type:", "pragma")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool
    source: str
    tree: ast.Module

    @property
    def relpath(self) -> str:
        return self.path.relative_to(BASE_DIR).as_posix()


@dataclass(frozen=True)
class Import:
    module: Module
    node: ast.Import | ast.ImportFrom
    targets: tuple[str, ...]  # project modules it names
    in_function: str | None  # the enclosing function's name, None at module level

    @property
    def where(self) -> str:
        return f"{self.module.relpath}:{self.node.lineno}"

    @property
    def text(self) -> str:
        return ast.unparse(self.node)


@functools.cache
def packages() -> tuple[str, ...]:
    return tuple(
        sorted(
            path.parent.name
            for path in BASE_DIR.glob("*/__init__.py")
            if path.parent.name not in NOT_PROJECT and not path.parent.name.startswith(".")
        )
    )


@functools.cache
def modules() -> dict[str, Module]:
    found = {}
    for package in packages():
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            parts = path.relative_to(BASE_DIR).with_suffix("").parts
            if SKIPPED_PARTS & set(parts[1:]):
                continue
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            source = path.read_text()
            found[name] = Module(name, path, is_package, source, ast.parse(source, str(path)))
    return found


def _known(name: str) -> str | None:
    """The project module `name` refers to: itself, or the package or module it is in."""
    if name.split(".")[0] not in packages():
        return None
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: Module, node: ast.Import | ast.ImportFrom) -> tuple[str, ...]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module.name.split(".")
            if not module.is_package:
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        # `from package import submodule` names the submodule, else the package itself.
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base
            for alias in node.names
        ]
    return tuple(dict.fromkeys(t for t in map(_known, names) if t and t != module.name))


def _statements(body: list, function: str | None):
    """(statement, enclosing function name) for every statement, nested ones included;
    expressions are not entered (an import is always a statement)."""
    for stmt in body:
        yield stmt, function
        inner = stmt.name if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) else function
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(stmt, field, []), inner)
        for clause in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ())):
            yield from _statements(clause.body, inner)


@functools.cache
def imports() -> tuple[Import, ...]:
    found = []
    for module in modules().values():
        for stmt, function in _statements(module.tree.body, None):
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                targets = _targets(module, stmt)
                if targets:
                    found.append(Import(module, stmt, targets, function))
    return tuple(found)


def import_graph() -> dict[str, set[str]]:
    graph = {name: set() for name in modules()}
    for imp in imports():
        graph[imp.module.name].update(imp.targets)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The shortest cycle through each module that is in one (its strongly connected
    component found with Tarjan's algorithm), each once, as a path that ends where it
    starts."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)

    found = []
    for component in components:
        members = set(component)
        for start in component:
            cycle = _shortest_cycle(graph, members, start)
            first = cycle.index(min(cycle[:-1]))  # the same cycle, whatever its start
            cycle = [*cycle[first:-1], *cycle[:first], cycle[first]]
            if cycle not in found:
                found.append(cycle)
    return found


def _shortest_cycle(graph: dict[str, set[str]], members: set[str], start: str) -> list[str]:
    paths = {start: [start]}
    queue = [start]
    while queue:  # breadth first: the shortest way back to `start`
        node = queue.pop(0)
        for succ in sorted(graph[node] & members):
            if succ == start:
                return [*paths[node], start]
            if succ not in paths:
                paths[succ] = [*paths[node], succ]
                queue.append(succ)
    raise AssertionError(f"{start} is in a cycle but no way back was found")


def _comments(module: Module) -> dict[int, str]:
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(module.source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            if text and not text.startswith(PRAGMAS):
                comments[token.start[0]] = text
    return comments


def test_the_checks_see_the_project():
    """The rules below are only as good as what they read."""
    assert {"accounts", "records", "integrations", "project"} <= set(packages())
    assert "records.models" in modules()
    assert "accounts.tests.factories" not in modules()
    graph = import_graph()
    assert "accounts.models" in graph["accounts.admin"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycle_between_project_modules():
    found = cycles(import_graph())

    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_a_function_level_import_of_a_project_module_says_why():
    unexplained = []
    comments = {}
    for imp in imports():
        if imp.in_function is None or imp.module.name.split(".")[0] in TOOLS:
            continue
        module = imp.module
        if module.name not in comments:
            comments[module.name] = _comments(module)
        lines = range(imp.node.lineno - 1, (imp.node.end_lineno or imp.node.lineno) + 1)
        if not any(line in comments[module.name] for line in lines):
            unexplained.append(f"{imp.where}: `{imp.text}` in {imp.in_function}()")

    assert not unexplained, (
        "imports inside a function without a comment saying why they cannot be at the top "
        "(`# import here: ...` on the line or the line before):\n" + "\n".join(unexplained)
    )


def test_no_module_over_400_lines_outside_tests_migrations_and_the_sandbox():
    too_long = [
        f"{module.relpath}: {lines} lines"
        for module in modules().values()
        if "sandbox" not in module.name.split(".")
        and (lines := len(module.source.splitlines())) > MAX_LINES
    ]

    assert not too_long, f"modules over {MAX_LINES} lines:\n" + "\n".join(sorted(too_long))


def _hand_built_sql(node: ast.AST) -> str | None:
    """What makes `node` vendor-specific or hand-built SQL, if it is."""
    if isinstance(node, ast.Attribute) and node.attr == "vendor":
        return f"`{ast.unparse(node)}`"
    if isinstance(node, ast.Name | ast.Attribute) and "RawSQL" in (
        getattr(node, "id", None),
        getattr(node, "attr", None),
    ):
        return "`RawSQL`"
    if isinstance(node, ast.ImportFrom) and any(a.name == "RawSQL" for a in node.names):
        return "`RawSQL` imported"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name = node.func.attr
        if name == "cursor" or (name in ("execute", "executemany", "raw") and node.args):
            return f"`.{name}(...)`"
    return None


def test_vendor_branches_and_hand_built_sql_only_in_the_bulk_module():
    found = [
        f"{module.relpath}:{node.lineno}: {what}"
        for module in modules().values()
        if module.name != BULK_SQL_MODULE
        and module.name.split(".")[0] not in TOOLS
        and any(word in module.source for word in SQL_WORDS)
        for node in ast.walk(module.tree)
        if (what := _hand_built_sql(node))
    ]

    assert not found, f"vendor branches or hand-built SQL outside {BULK_SQL_MODULE}:\n" + "\n".join(
        found
    )


def test_the_sync_runners_import_nothing_moneybird_specific():
    found = []
    for module in modules().values():
        if module.name != PROVIDER_NEUTRAL and not module.name.startswith(PROVIDER_NEUTRAL + "."):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                named = [alias.name for alias in node.names]
                if isinstance(node, ast.ImportFrom):
                    named += [node.module or "", *_targets(module, node)]
                if any("moneybird" in name.lower() for name in named):
                    found.append(f"{module.relpath}:{node.lineno}: `{ast.unparse(node)}`")
            elif isinstance(node, ast.Attribute) and node.attr.lower() == "moneybird":
                found.append(f"{module.relpath}:{node.lineno}: `{ast.unparse(node)}`")

    assert not found, "Moneybird-specific imports in integrations/sync/:\n" + "\n".join(found)


def test_no_product_module_imports_the_sandbox():
    """The sandbox is a tool beside the product (the demo and the tests use it)."""
    found = [
        f"{imp.where}: `{imp.text}`"
        for imp in imports()
        if imp.module.name.split(".")[0] in PRODUCT
        and any(target.split(".")[0] == "sandbox" for target in imp.targets)
    ]

    assert not found, "product modules importing the sandbox:\n" + "\n".join(found)
