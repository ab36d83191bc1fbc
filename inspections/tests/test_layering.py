"""inspections imports the apps below it only (ARCHITECTURE.md): never cases, command_center or analytics;
it reaches the command center through inspections.signals."""
from pathlib import Path

from core.testing import imported_modules

HERE = Path(__file__).resolve().parent.parent
ABOVE = {"cases", "command_center", "analytics"}


def test_inspections_imports_no_higher_app():
    offenders = sorted(
        f"{path.relative_to(HERE.parent)}: {module}"
        for path in HERE.rglob("*.py") if "tests" not in path.relative_to(HERE).parts
        for module in imported_modules(path) if module.split(".")[0] in ABOVE)
    assert offenders == []


def test_command_center_listens_to_the_overdue_signal():
    from inspections.signals import rectification_overdue

    assert rectification_overdue.has_listeners()
