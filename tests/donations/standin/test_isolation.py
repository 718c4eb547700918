"""The stand-in is demo-mode tooling: standard library only, and no production code imports it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRODUCT_PACKAGES = ("newsroom", "donations", "newsletter")
STANDIN = ROOT / "donations" / "standin"

# Imports every module of the stand-in with site-packages off (`python -S`), then names every
# loaded module that is neither the standard library nor the stand-in's own packages.
_IMPORT_ALL = """
import importlib, pkgutil, sys
import donations.standin
for info in pkgutil.walk_packages(donations.standin.__path__, "donations.standin."):
    importlib.import_module(info.name)
ours = ("donations", "donations.standin")
foreign = sorted(
    name for name in sys.modules
    if name.split(".")[0] not in sys.stdlib_module_names
    and name not in (*ours, "__main__") and not name.startswith("donations.standin.")
)
print(",".join(foreign))
"""


def test_every_stand_in_module_imports_with_the_standard_library_alone() -> None:
    result = subprocess.run(
        [sys.executable, "-S", "-c", _IMPORT_ALL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def _imported_names(source: str, package: str) -> set[str]:
    """Absolute names of what a module imports; relative imports resolved against its package."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            names.update(f"{base}.{alias.name}" for alias in node.names)
            names.add(base)
    return names


def test_no_production_module_imports_the_stand_in_or_the_tests() -> None:
    offenders = {}
    for package in PRODUCT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if STANDIN in path.parents:
                continue
            package_name = ".".join(path.relative_to(ROOT).parts[:-1])
            bad = {
                name
                for name in _imported_names(path.read_text(), package_name)
                if name.startswith(("donations.standin", "tests.")) or name == "tests"
            }
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)

    assert offenders == {}


def test_the_import_scan_resolves_relative_imports() -> None:
    source = "import tests\nfrom .standin import api\nfrom ..standin.store import Store\n"

    names = _imported_names(source, "donations.admin")

    assert {"tests", "donations.admin.standin.api", "donations.standin.store.Store"} <= names
