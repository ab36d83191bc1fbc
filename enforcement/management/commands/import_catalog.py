from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from enforcement import importers


class Command(BaseCommand):
    help = "导入事项清单数据（CSV/XLSX）：matters、delegations、checklists、scenarios、problem_types。全部行正确才写入。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=importers.KINDS)
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--user", help="记为操作人的用户名（默认 system）")

    def handle(self, kind, file, dry_run=False, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"用户不存在：{user}")
        try:
            report = importers.run_import(actor, kind, path.read_bytes(), path.name, dry_run=dry_run)
        except DomainError as exc:
            raise CommandError("; ".join(" ".join(map(str, v)) for v in exc.fields.values()) or exc.message)
        for error in report.errors:
            self.stderr.write(str(error))
        summary = (f"新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，错误行 {report.skipped}"
                   f"{'（预检，未写入）' if dry_run else ''}")
        if report.errors:
            raise CommandError(f"{summary}。有错误行，未写入任何数据。")
        self.stdout.write(summary + ("。已写入。" if report.written else "。"))
