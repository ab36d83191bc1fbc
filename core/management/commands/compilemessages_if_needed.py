"""Compile .po → .mo when gettext is installed and a .mo is missing or older than its .po.

The compiled .mo files are committed too, so a machine without gettext still gets English."""
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile translations when needed (no-op without gettext or without changes)."

    def handle(self, *args, **opts):
        stale = []
        for locale_dir in settings.LOCALE_PATHS:
            for po in Path(locale_dir).rglob("*.po"):
                mo = po.with_suffix(".mo")
                if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                    stale.append(po)
        if not stale:
            return
        if shutil.which("msgfmt") is None:
            self.stderr.write("gettext (msgfmt) not installed: using the committed .mo files")
            return
        call_command("compilemessages", verbosity=0, ignore_patterns=[".venv", "var", "node_modules"])
