"""Production installs requirements.txt only: the portal's own code never needs a test tool."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("grants", "cms", "fundportal")


def _pinned(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            names.add(re.split(r"[\[=<>]", line)[0].lower())
    return names


DEV_ONLY = _pinned(ROOT / "requirements-dev.txt")
# Import names of the dev-only distributions.
DEV_MODULES = {"pytest", "pytest_django", "xdist", "factory", "time_machine", "playwright", "axe_playwright_python",
               "ruff", "hypothesis"}  # fmt: skip


def test_runtime_and_dev_requirements_are_apart():
    runtime = _pinned(ROOT / "requirements.txt")
    assert "django" in runtime and "wagtail" in runtime and "gunicorn" in runtime
    assert not runtime & DEV_ONLY
    assert {"pytest", "playwright", "axe-playwright-python", "factory-boy"} <= DEV_ONLY
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_the_portal_imports_no_test_tool():
    offenders = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                offenders += [
                    f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in DEV_MODULES
                ]
    assert not offenders, offenders
