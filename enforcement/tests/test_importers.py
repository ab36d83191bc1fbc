"""CSV/XLSX import and export: every bad row reported, nothing written unless all rows are valid,
re-importing the same file changes nothing."""
import io

import pytest
from django.core.management import CommandError, call_command

from core.exceptions import Forbidden
from core.models import AuditLog
from core.tabular import write_table
from grids.testing import *  # noqa: F403
from enforcement import importers, selectors
from enforcement.models import CatalogVersion, ChecklistItem, Delegation, Matter, ProblemType, Scenario

pytestmark = pytest.mark.django_db


def csv(headers, *rows):
    return write_table("csv", headers, rows)


MATTER_HEADERS = ["code", "name", "law", "article", "department_code", "kind", "domain", "non_site", "major_decision", "status"]


def test_bad_matter_rows_are_all_reported_and_nothing_is_written(catalog, users):
    data = csv(MATTER_HEADERS,
               ["NEW-1", "新事项", "《法》", "第一条", "ZHZF", "行政处罚", "市容环卫", "是", "否", ""],
               ["NEW-2", "", "《法》", "", "NOPE", "punish", "市容环卫", "maybe", "", ""],
               ["NEW-1", "重复", "《法》", "", "ZHZF", "inspection", "市容环卫", "", "", "gone"])
    report = importers.run_import(users["bureau"], "matters", data, "m.csv")
    errors = [(e.line, e.column) for e in report.errors]
    assert errors == [(3, "department_code"), (3, "kind"), (3, "name"), (3, "non_site"), (4, "code"), (4, "status")]
    assert all(e.reason for e in report.errors)
    assert not report.written and not CatalogVersion.objects.filter(status="draft").exists()


def test_matter_import_goes_into_the_draft_and_is_idempotent(catalog, users):
    data = csv(["事项编码", "事项名称", "法律依据", "条款", "部门编码", "事项类型", "执法领域", "非现场执法", "重大执法决定"],
               ["NEW-1", "对新行为的行政处罚", "《新条例》", "第二条", "ZHZF", "行政处罚", "市容环卫", "是", "否"],
               ["SR-001", "对占道经营的行政处罚", "《测试条例》", "第一条", "ZHZF", "administrative_penalty", "市容环卫", "是", "否"])
    dry = importers.run_import(users["bureau"], "matters", data, "m.csv", dry_run=True)
    assert (dry.created, dry.updated, dry.written) == (1, 1, False)
    assert not CatalogVersion.objects.filter(status="draft").exists()
    report = importers.run_import(users["bureau"], "matters", data, "m.csv")
    assert report.ok and report.written and (report.created, report.updated) == (1, 1)
    draft = CatalogVersion.objects.get(status="draft")
    assert Matter.objects.get(version=draft, code="NEW-1").non_site is True
    assert Matter.objects.get(version=catalog, code="SR-001").name != "对占道经营的行政处罚"  # published untouched
    n_logs = AuditLog.objects.count()
    again = importers.run_import(users["bureau"], "matters", data, "m.csv")
    assert (again.created, again.updated, again.unchanged, again.written) == (0, 0, 2, False)
    assert AuditLog.objects.count() == n_logs


def test_export_then_import_changes_nothing(catalog, users):
    for kind in ("matters", "delegations", "problem_types"):
        for fmt in ("csv", "xlsx"):
            data = importers.export(kind, fmt)
            report = importers.run_import(users["bureau"], kind, data, f"x.{fmt}")
            assert report.ok and not report.written and report.created == report.updated == 0, (kind, fmt, report)
            assert report.unchanged > 0
    assert not CatalogVersion.objects.filter(status="draft").exists()


DELEGATION_HEADERS = ["matter_code", "street_code", "effective_from", "effective_to"]


def test_delegation_import(catalog, users):
    bad = csv(DELEGATION_HEADERS, ["SR-001", "S9", "2027-01-01", ""], ["NOPE", "S1", "01/02/2027", ""],
              ["GH-001", "S2", "2027-01-01", "2026-01-01"])
    report = importers.run_import(users["bureau"], "delegations", bad, "d.csv")
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "street_code"), (3, "effective_from"), (3, "matter_code"), (4, "effective_to")]
    good = csv(["事项编码", "镇街编码", "生效日期", "截止日期"], ["GH-001", "S2", "2027-01-01", ""],
               ["SR-001", "S2", "2026-06-01", "2027-06-30"])
    report = importers.run_import(users["bureau"], "delegations", good, "d.csv")
    assert report.written and (report.created, report.updated) == (1, 1)
    draft = CatalogVersion.objects.get(status="draft")
    assert Delegation.objects.get(matter__version=draft, matter__code="SR-001", street__code="S2").effective_to.isoformat() == "2027-06-30"
    again = importers.run_import(users["bureau"], "delegations", good, "d.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_checklist_import(catalog, users, categories):
    headers = ["checklist_code", "checklist_name", "category_code", "area", "item_code", "matter_code", "text", "weight", "order"]
    bad = csv(headers, ["CL1", "清单", "NOPE", "领域", "1", "SR-001", "检查", "x", "1"],
              ["CL1", "清单", "SITE", "领域", "2", "NOPE", "", "1", "2"])
    report = importers.run_import(users["bureau"], "checklists", bad, "c.csv")
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "category_code"), (2, "weight"), (3, "checklist_name"), (3, "matter_code"), (3, "text")]
    good = csv(headers, ["CL1", "工地清单", "SITE", "扬尘", "1", "SR-001", "物料覆盖", "2", "1"],
               ["CL1", "工地清单", "SITE", "消防", "2", "XF-001", "消防通道畅通", "3", "2"])
    assert importers.run_import(users["bureau"], "checklists", good, "c.csv").created == 2
    assert ChecklistItem.objects.get(code="2").department.code == "XF"
    again = importers.run_import(users["bureau"], "checklists", good, "c.csv")
    assert (again.created, again.updated, again.unchanged, again.written) == (0, 0, 2, False)
    exported = importers.export("checklists", "xlsx")
    assert importers.run_import(users["bureau"], "checklists", exported, "c.xlsx").unchanged == 2


def test_scenario_import(catalog, users, categories):
    headers = ["scenario_code", "scenario_name", "description", "categories", "areas", "kind", "department_code",
               "matter_code", "text"]
    bad = csv(headers, ["G1", "燃气", "", "FOOD;NOPE", "", "监管事项", "ZJ", "", "检查燃气"],
              ["G1", "燃气安全", "", "FOOD", "", "执法", "", "", ""])
    report = importers.run_import(users["bureau"], "scenarios", bad, "s.csv")
    assert {(e.line, e.column) for e in report.errors} == {(2, "categories"), (2, "department_code"),
                                                           (3, "kind"), (3, "scenario_name")}
    good = csv(headers, ["G1", "燃气安全", "说明", "FOOD", "S1", "监管事项", "XF", "", "检查燃气使用场所"],
               ["G1", "燃气安全", "说明", "FOOD", "S1", "执法事项", "", "SC-001", ""])
    report = importers.run_import(users["bureau"], "scenarios", good, "s.csv")
    assert report.written and report.created == 2
    scenario = Scenario.objects.get(code="G1")
    assert scenario.status == "draft" and [c.code for c in scenario.categories.all()] == ["FOOD"]
    assert sorted(i.department.code for i in scenario.items.all()) == ["SCJG", "XF"]
    again = importers.run_import(users["bureau"], "scenarios", good, "s.csv")
    assert (again.created, again.unchanged, again.written) == (0, 2, False)
    exported = importers.export("scenarios", "csv")
    assert importers.run_import(users["bureau"], "scenarios", exported, "s.csv").written is False


def test_problem_type_import(catalog, users):
    headers = ["code", "name", "matter_code", "default_severity", "group", "about_subject", "active"]
    data = csv(headers, ["LTSK", "露天烧烤", "SR-001", "黄色", "市容", "是", "是"], ["X", "坏", "NOPE", "purple", "", "", ""])
    report = importers.run_import(users["bureau"], "problem_types", data, "p.csv")
    assert {(e.line, e.column) for e in report.errors} == {(3, "default_severity"), (3, "matter_code")}
    data = csv(headers, ["LTSK", "露天烧烤", "SR-001", "黄色", "市容", "是", "是"])
    assert importers.run_import(users["bureau"], "problem_types", data, "p.csv").created == 1
    assert ProblemType.objects.get(code="LTSK").default_severity == "yellow"
    assert importers.run_import(users["bureau"], "problem_types", data, "p.csv").unchanged == 1


def test_missing_columns_and_bad_files(catalog, users):
    from core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        importers.run_import(users["bureau"], "matters", csv(["code", "name"], ["A", "B"]), "m.csv")
    with pytest.raises(ValidationFailed):
        importers.run_import(users["bureau"], "matters", b"not a zip", "m.xlsx")
    with pytest.raises(ValidationFailed):
        importers.run_import(users["bureau"], "planets", b"", "m.csv")


def test_only_bureau_staff_import(catalog, users):
    with pytest.raises(Forbidden):
        importers.run_import(users["leader_s1"], "matters", csv(MATTER_HEADERS), "m.csv", dry_run=True)


def test_management_commands(catalog, tmp_path):
    out = tmp_path / "matters.xlsx"
    call_command("export_catalog", "matters", "--format", "xlsx", "-o", str(out), stdout=io.StringIO())
    buf = io.StringIO()
    call_command("import_catalog", "matters", str(out), "--dry-run", stdout=buf)
    assert "未变 5" in buf.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv(MATTER_HEADERS, ["X", "", "", "", "", "", "", "", "", ""]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_catalog", "matters", str(bad), stdout=io.StringIO(), stderr=err)
    assert "第2行" in err.getvalue()
    assert selectors.draft_version() is None
