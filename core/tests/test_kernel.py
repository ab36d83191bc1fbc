"""The kernel knows no app: core/ (its tests aside) imports none of the apps above it (ARCHITECTURE.md)."""
from pathlib import Path

from django.conf import settings

from core.testing import imported_modules

CORE = Path(__file__).resolve().parent.parent
APPS = {"grids", "credit", "enforcement", "inspections", "cases", "command_center", "analytics"}


def test_core_imports_no_app():
    offenders = sorted(
        f"{path.relative_to(CORE.parent)}: {module}"
        for path in CORE.rglob("*.py") if "tests" not in path.relative_to(CORE).parts
        for module in imported_modules(path) if module.split(".")[0] in APPS)
    assert offenders == []


def test_the_apps_it_must_not_import_are_the_installed_ones():
    # A new app added to INSTALLED_APPS must be added above too, or the check above would not see it.
    installed = {app.split(".")[0] for app in settings.INSTALLED_APPS}
    project_apps = {p.name for p in CORE.parent.iterdir() if (p / "apps.py").exists()} - {"core", "bench"}
    assert project_apps <= APPS and project_apps <= installed
