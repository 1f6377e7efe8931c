"""The kiosk's dev tools stay apart: nothing a cabin runs imports :mod:`kiosk.devtools`.

Imports are read with :mod:`ast`, so an import inside a function counts as much as one at the
top. Only ``kiosk/cli.py`` may reach the tools, and only inside the command that needs them
(``cabina screenshots``), so that ``cabina kiosk`` never loads them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kiosk

KIOSK = Path(kiosk.__file__).parent
DEVTOOLS = "kiosk.devtools"


def module_name(path: Path) -> str:
    """The dotted name of the module at ``path`` under the kiosk package."""
    parts = list(path.relative_to(KIOSK.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``tree`` (the source of ``module``) imports, by absolute dotted name.

    ``from a import b`` counts as importing both ``a`` and ``a.b`` (``b`` may be a module);
    ``importlib.import_module("…")`` with a literal name counts too.
    """
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def imports_devtools(names: set[str]) -> list[str]:
    """The names among ``names`` that are :mod:`kiosk.devtools` or inside it."""
    return sorted(n for n in names if n == DEVTOOLS or n.startswith(DEVTOOLS + "."))


def product_modules() -> list[Path]:
    """Every module of the kiosk a cabin runs: all but the dev tools and the command line."""
    return sorted(
        path
        for path in KIOSK.rglob("*.py")
        if "devtools" not in path.relative_to(KIOSK).parts and path != KIOSK / "cli.py"
    )


def test_no_product_module_imports_the_dev_tools() -> None:
    offenders = {}
    for path in product_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        name = module_name(path)
        found = imports_devtools(
            imported_modules(tree, name, is_package=path.name == "__init__.py")
        )
        if found:
            offenders[name] = found
    assert offenders == {}


def test_the_command_line_loads_the_dev_tools_only_when_a_command_needs_them() -> None:
    tree = ast.parse((KIOSK / "cli.py").read_text(encoding="utf-8"))
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    top_level = ast.Module(body=imports, type_ignores=[])
    assert imports_devtools(imported_modules(top_level, "kiosk.cli")) == []
    # ``cabina screenshots`` does use them: the check above looks at a real import.
    assert imports_devtools(imported_modules(tree, "kiosk.cli")) != []


def test_the_check_sees_every_way_of_importing() -> None:
    source = """
import kiosk.devtools.driver
from kiosk import devtools
from kiosk.devtools.kit import kiosk_app
from ..devtools import tour
from . import testing
importlib.import_module("kiosk.devtools.screenshots")
def later():
    from kiosk.devtools import layout_check
"""
    tree = ast.parse(source)
    assert imports_devtools(imported_modules(tree, "kiosk.effects.runner")) == [
        "kiosk.devtools",
        "kiosk.devtools.driver",
        "kiosk.devtools.kit",
        "kiosk.devtools.kit.kiosk_app",
        "kiosk.devtools.layout_check",
        "kiosk.devtools.screenshots",
        "kiosk.devtools.tour",
    ]
    inside = imported_modules(ast.parse("from . import testing"), "kiosk.devtools", is_package=True)
    assert imports_devtools(inside) == ["kiosk.devtools", "kiosk.devtools.testing"]


def test_the_product_modules_are_found() -> None:
    names = {module_name(path) for path in product_modules()}
    assert {"kiosk.runtime", "kiosk.screens.app", "kiosk.effects.runner"} <= names
    assert not any(name.startswith(DEVTOOLS) for name in names)
    assert "kiosk.cli" not in names
