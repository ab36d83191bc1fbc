"""Small pieces of core: roles and phone masking, the domain errors, tabular reading and writing."""
import io

import pytest
from openpyxl import Workbook

from core import masking, roles
from core.exceptions import NotFound, ValidationFailed
from core.tabular import ImportReport, RowError, header_of, read_table, require_columns, write_table


@pytest.mark.parametrize("phone,masked", [
    ("13812345678", "138****5678"), ("057188889999", "057*****9999"), ("0571-88889999", "057******9999"),
    ("88889999", "******99"), ("1234567", "*****67"), ("12345", "****5"), ("1234", "****"), ("", ""), (None, None),
])
def test_mask_phone(phone, masked):
    assert masking.mask_phone(phone) == masked
    if phone:
        assert len(masked) == len(phone) and masked.count("*") >= min(4, len(phone) / 2)


@pytest.mark.django_db
def test_roles_and_phone_rights(django_user_model):
    from django.contrib.auth.models import AnonymousUser, Group

    user = django_user_model.objects.create_user("u")
    user.groups.add(Group.objects.get(name=roles.OFFICER))
    assert roles.user_roles(user) == {"officer"}
    assert roles.has_role(user, roles.OFFICER, roles.DISPATCHER) and not roles.has_role(user, roles.DISPATCHER)
    assert not roles.may_see_phones(user)
    assert roles.user_roles(AnonymousUser()) == frozenset() and not roles.has_role(AnonymousUser(), roles.OFFICER)
    root = django_user_model.objects.create_superuser("root", password="long-enough-1")
    assert roles.has_role(root, roles.BUREAU_STAFF) and roles.may_see_phones(root)
    assert set(roles.ROLE_LABELS) == set(roles.ALL_ROLES)


@pytest.mark.django_db
def test_role_groups_exist_after_migrations():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)


def test_domain_error_text():
    assert str(NotFound("没有")) == "没有"
    assert str(ValidationFailed(fields={"lat": ["必填"], "lng": "坏"})) == "The input is not valid. lat: 必填; lng: 坏"
    assert ValidationFailed().status_code == 400 and NotFound().code == "not_found"


def test_report_shapes():
    report = ImportReport(errors=[RowError(3, "lat", "坏")], created=1)
    assert not report.ok
    assert report.as_dict() == {"ok": False, "dry_run": False, "written": False, "created": 1, "updated": 0,
                                "unchanged": 0, "skipped": 0, "errors": [{"line": 3, "column": "lat", "reason": "坏"}]}


def test_csv_reading_variants():
    header, rows = read_table("a,b\n1,2\n\n,\n3\n".encode(), "x.CSV")
    assert header == ["a", "b"] and rows == [(2, {"a": "1", "b": "2"}), (5, {"a": "3", "b": ""})]
    gbk = "名称,地址\n老王,文一路\n".encode("gbk")
    assert read_table(gbk, "x.csv")[1] == [(2, {"名称": "老王", "地址": "文一路"})]
    bom = "\ufeffa\nx\n".encode()
    assert read_table(bom, "x.csv")[0] == ["a"]
    assert header_of("a, b\n".encode(), "x.csv") == ["a", "b"]


def test_xlsx_reading_and_writing_round_trip():
    data = write_table("xlsx", ["name", "phone", "lat"], [["甲", "13800001111", 30.25], ["乙", None, 31]])
    header, rows = read_table(data, "t.xlsx")
    assert header == ["name", "phone", "lat"]
    assert rows == [(2, {"name": "甲", "phone": "13800001111", "lat": "30.25"}),
                    (3, {"name": "乙", "phone": "", "lat": "31"})]
    assert header_of(data, "t.xlsx") == ["name", "phone", "lat"]
    wb = Workbook()
    wb.active.append(["only header"])
    out = io.BytesIO()
    wb.save(out)
    assert read_table(out.getvalue(), "h.xlsx") == (["only header"], [])


def test_csv_writing_has_a_bom_for_excel():
    data = write_table("csv", ["名称", "电话"], [["甲", None]])
    assert data.startswith("\ufeff".encode()) and data.decode("utf-8-sig").splitlines() == ["名称,电话", "甲,"]


@pytest.mark.parametrize("data,name", [(b"", "x.csv"), (b"", "x.xlsx"), (b"x", "x.txt"), (b"\x81\x30", "x.csv")])
def test_unreadable_tables(data, name):
    with pytest.raises(ValidationFailed):
        read_table(data, name)


def test_require_columns():
    require_columns({"a", "b"}, ["a"])
    with pytest.raises(ValidationFailed) as e:
        require_columns(["a"], ["a", "b", "c"])
    assert e.value.fields == {"file": ["缺少列：b, c。"]}
