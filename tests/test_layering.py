"""The layering rule, read from the source: front ends call `alchemist.service` only.

- every module under `alchemist/cli/` imports no `alchemist.*` package but `alchemist.service`
  (and its own `alchemist.cli` modules);
- no module outside `alchemist/cli/` imports typer or rich.progress: engines report progress
  through callbacks, and the CLI decides how to show it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "alchemist"
CLI = PACKAGE / "cli"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in `path`, at any depth (lazy imports too).

    `from a import b` yields `a.b` as well as `a`, so `from alchemist import aca` counts as an
    import of `alchemist.aca`.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


CLI_FILES = sorted(CLI.rglob("*.py"))
OTHER_FILES = sorted(p for p in PACKAGE.rglob("*.py") if CLI not in p.parents)


def test_the_scan_sees_the_packages():
    assert (CLI / "__init__.py") in CLI_FILES and len(CLI_FILES) >= 5
    assert PACKAGE / "service" / "__init__.py" in OTHER_FILES
    sample = imported_modules(CLI / "build.py")
    assert any(m == "alchemist.service" for _, m in sample)
    assert any(m == "alchemist.cli.common" for _, m in sample)  # relative imports resolved


def test_cli_imports_only_the_service():
    bad = []
    for path in CLI_FILES:
        for line, module in imported_modules(path):
            if module == "alchemist" or not under(module, "alchemist"):
                continue  # `from alchemist import service` names its module separately
            if under(module, "alchemist.service") or under(module, "alchemist.cli"):
                continue
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert not bad, "the CLI must go through alchemist.service:\n" + "\n".join(bad)


def test_only_the_cli_imports_typer_and_rich_progress():
    bad = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in OTHER_FILES
        for line, module in imported_modules(path)
        if under(module, "typer") or under(module, "rich.progress")
    ]
    assert not bad, "front-end code belongs in alchemist/cli:\n" + "\n".join(bad)
