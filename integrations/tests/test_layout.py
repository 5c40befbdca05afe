"""The shape of integrations, read from the source with `ast`: no import cycle between
its modules, no function-level import of a project module without a comment saying why,
no module over 400 lines, a runner that knows no provider by name, and no product module
that imports the sandbox."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("accounts", "records", "integrations", "project")
PROJECT = (*PRODUCT, "sandbox")


def _modules(*packages: str) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or "tests" in parts:
                continue
            name = ".".join(parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(name: str, path: Path, known) -> list[tuple[str, ast.stmt, bool]]:
    """(imported module, statement, inside a function) for each project import."""
    tree = ast.parse(path.read_text())
    in_function = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t if t in known else base for t in targets]
        else:
            continue
        for target in targets:
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target in known and target != name:
                found.append((target, node, id(node) in in_function))
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_integrations_modules():
    modules = _modules("integrations")
    graph = {
        name: {t for t, _, inside in _imports(name, path, modules) if not inside}
        for name, path in modules.items()
    }
    assert _cycles(graph) == []


def _explained(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or above the block of imports it belongs to."""
    if "#" in lines[lineno - 1]:
        return True
    for line in reversed(lines[: lineno - 1]):
        text = line.strip()
        if text.startswith("#"):
            return True
        if text and not text.startswith(("import ", "from ")):
            return False
    return False


def test_function_level_imports_of_project_modules_say_why():
    modules = _modules(*PROJECT)
    unexplained = []
    for name, path in _modules("integrations", "sandbox").items():
        lines = path.read_text().splitlines()
        for target, node, inside in _imports(name, path, modules):
            if inside and not _explained(lines, node.lineno):
                unexplained.append(f"{name}:{node.lineno} imports {target}")
    assert unexplained == []


def test_no_module_over_400_lines_outside_tests_migrations_and_the_sandbox():
    long = {
        name: count
        for name, path in _modules("integrations").items()
        if (count := len(path.read_text().splitlines())) > 400
    }
    assert long == {}


def test_the_runners_know_no_provider_by_name():
    modules = _modules(*PROJECT)
    named = []
    for name, path in _modules("integrations").items():
        if not name.startswith("integrations.sync"):
            continue
        text = path.read_text().lower()
        named += [name for word in ("moneybird", "address1", "zipcode") if word in text]
        named += [
            f"{name} imports {t}"
            for t, _, _ in _imports(name, path, modules)
            if t.startswith("integrations.providers.moneybird")
        ]
    assert named == []


def test_no_product_module_imports_the_sandbox():
    modules = _modules(*PROJECT)
    importers = [
        f"{name} imports {target}"
        for name, path in _modules(*PRODUCT).items()
        for target, _, _ in _imports(name, path, modules)
        if target == "sandbox" or target.startswith("sandbox.")
    ]
    assert importers == []
