"""Every third-party module the app imports at run time is a declared runtime dependency.

A module that is only in the [test] extra imports fine under `make test` and fails in production
(`pip install .`, the Dockerfile): pypdf once made the verify page answer 500 that way.
"""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent
# The packages pyproject.toml ships: a new app listed there is covered here without an edit.
APP_PACKAGES = [
    name.rstrip("*")
    for name in tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group(0))


def _pyproject() -> dict:
    return tomllib.loads((BASE_DIR / "pyproject.toml").read_text())


def _runtime_distributions() -> set[str]:
    return {_requirement_name(r) for r in _pyproject()["project"]["dependencies"]}


def _imported_modules() -> dict[str, set[str]]:
    """Top-level module -> files of the app packages that import it (any depth, any branch)."""
    found: dict[str, set[str]] = {}
    for package in APP_PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(BASE_DIR)))
    # Modules named only as strings in settings are imported at start-up all the same.
    dotted = [
        *settings.INSTALLED_APPS,
        *settings.MIDDLEWARE,
        *settings.AUTHENTICATION_BACKENDS,
        *settings.PASSWORD_HASHERS,
        *(storage["BACKEND"] for storage in settings.STORAGES.values()),
    ]
    for name in dotted:
        found.setdefault(name.split(".")[0], set()).add("config/settings.py")
    return found


def _third_party(found: dict[str, set[str]]) -> dict[str, set[str]]:
    return {
        module: files
        for module, files in found.items()
        if module not in sys.stdlib_module_names and module not in APP_PACKAGES
    }


def test_every_third_party_import_of_the_app_is_a_runtime_dependency():
    declared = _runtime_distributions()
    providers = packages_distributions()
    undeclared = {}
    for module, files in sorted(_third_party(_imported_modules()).items()):
        distributions = {_normalise(d) for d in providers.get(module, [])}
        if not distributions & declared:
            undeclared[module] = (sorted(distributions) or ["not installed"], sorted(files))
    assert not undeclared, (
        "imported by the app but not in [project] dependencies of pyproject.toml "
        f"(module: (distributions, files)): {undeclared}"
    )


def test_the_walk_sees_the_imports_it_must_check():
    # Guards the test above: a walk that found nothing would pass it trivially.
    modules = _third_party(_imported_modules())
    for module in ("django", "pypdf", "cryptography", "asn1crypto", "PIL", "phonenumbers"):
        assert module in modules
    assert "evidence/verification.py" in modules["pypdf"]
