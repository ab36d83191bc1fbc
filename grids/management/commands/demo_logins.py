"""Print the demo logins and where to go: run by `make run` after `load_demo --if-empty`.

Reads the accounts from the database (the fixed demo usernames that exist), so what it prints is what
works. The shared password is for the demo only.
"""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.urls import NoReverseMatch, Resolver404, resolve

from core.roles import ROLE_LABELS
from grids.demo import DEMO_PASSWORD, DEMO_USERNAMES

PAGES = (
    ("/", "工作台", "home"),
    ("/command/", "指挥调度台", "dispatch console"),
    ("/command/screen/", "指挥中心大屏", "big screen"),
    ("/m/", "队员手机页（officer_demo）", "officer phone page"),
    ("/map/", "电子地图", "map"),
    ("/credit/ranking/", "信用榜单", "credit ranking"),
    ("/admin/", "配置管理", "admin"),
    ("/api/docs/", "接口文档", "API docs"),
)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = "Print the demo logins (username, role, areas, password) and the main URLs."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where the server listens")

    def handle(self, *args, **opts):
        base = opts["base_url"].rstrip("/")
        User = get_user_model()
        users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES, is_active=True)
                 .prefetch_related("groups", "area_memberships__area")}
        out = self.stdout
        if not users:
            out.write("没有演示账号：先运行 `python manage.py load_demo`。(No demo accounts: run load_demo first.)")
        else:
            # All demo accounts were given one hash: check it once, compare the others with it.
            known_hash = None
            rows = [("用户名 user", "角色 role", "辖区 areas", "密码 password")]
            for name in DEMO_USERNAMES:
                user = users.get(name)
                if user is None:
                    continue
                if known_hash is None and user.check_password(DEMO_PASSWORD):
                    known_hash = user.password
                password = DEMO_PASSWORD if user.password == known_hash else "（已修改 changed）"
                roles = "、".join(f"{ROLE_LABELS.get(g.name, g.name)} {g.name}" for g in user.groups.all())
                areas = "、".join(m.area.name for m in user.area_memberships.all())
                rows.append((name, roles, areas, password))
            widths = [max(_width(r[i]) for r in rows) for i in range(4)]
            out.write("")
            out.write("演示账号 Demo logins（仅供演示 demo only）")
            for i, row in enumerate(rows):
                out.write("  " + "  ".join(_pad(str(cell), w) for cell, w in zip(row, widths)).rstrip())
                if i == 0:
                    out.write("  " + "  ".join("-" * w for w in widths))
            n_officers = User.objects.filter(officer__isnull=False).exclude(username__in=DEMO_USERNAMES).count()
            if n_officers:
                sample = (User.objects.filter(officer__isnull=False).exclude(username__in=DEMO_USERNAMES)
                          .order_by("username").values_list("username", flat=True).first())
                out.write(f"  另有 {n_officers} 个队员账号（如 {sample}），演示密码相同。"
                          f"({n_officers} more officer accounts, e.g. {sample}, same demo password.)")
        out.write("")
        out.write("访问地址 URLs")
        for path, zh, en in PAGES:
            try:
                resolve(path)
            except (Resolver404, NoReverseMatch):
                continue  # a page a later issue adds
            out.write(f"  {_pad(zh + ' ' + en, 28)} {base}{path}")
        out.write("")
