"""manage.py import_areas / import_subjects / export_subjects."""
import json

import pytest
from django.core.management import CommandError, call_command

from grids.testing import square
from grids.models import Area, Subject

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db

HEADER = "name,category_code,contact_phone,licence_no,address,lat,lng,tags"
GOOD = ["老王面馆,FOOD-R,13812345678,LIC-1,文一路1号,30.2,120.2,夜宵", "茶香小馆,FOOD-R,,LIC-2,文二路2号,30.7,120.7,"]
BAD = "甲,NOPE,,,,30.2,120.2,"


def write(tmp_path, name, *lines):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return str(path)


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_subjects(tmp_path, district, categories):
    out, err = run("import_subjects", write(tmp_path, "s.csv", *GOOD))
    assert "written" in out and "created=2" in out and err == ""
    assert Subject.objects.count() == 2
    out, _ = run("import_subjects", write(tmp_path, "s.csv", *GOOD))
    assert "created=0 updated=0 unchanged=2" in out


def test_import_subjects_with_bad_rows_fails_and_writes_nothing(tmp_path, district, categories):
    path = write(tmp_path, "s.csv", GOOD[0], BAD, "乙,FOOD-R,,,,91,120.2,")
    with pytest.raises(CommandError) as e:
        run("import_subjects", path)
    assert "nothing written" in str(e.value)
    assert Subject.objects.count() == 0


def test_import_subjects_report_lines(tmp_path, district, categories, capsys):
    path = write(tmp_path, "s.csv", GOOD[0], BAD, "乙,FOOD-R,,,,91,120.2,")
    from io import StringIO

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_subjects", path, stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 3 [category_code]: ") and lines[1].startswith("line 4 [lat]: ")


def test_import_subjects_skip_invalid_and_dry_run(tmp_path, district, categories):
    path = write(tmp_path, "s.csv", GOOD[0], BAD)
    with pytest.raises(CommandError):
        run("import_subjects", path, "--dry-run")
    out, _ = run("import_subjects", write(tmp_path, "ok.csv", *GOOD), "--dry-run")
    assert "dry run" in out and "created=2" in out and Subject.objects.count() == 0
    out, err = run("import_subjects", path, "--skip-invalid")
    assert "written" in out and "created=1" in out and "line 3 [category_code]" in err
    assert Subject.objects.count() == 1


def test_import_subjects_bad_file(tmp_path, district):
    with pytest.raises(CommandError):
        run("import_subjects", str(tmp_path / "missing.csv"))
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(CommandError) as e:
        run("import_subjects", str(tmp_path / "x.txt"))
    assert ".csv" in str(e.value)
    (tmp_path / "h.csv").write_text("name,lat\n")
    with pytest.raises(CommandError) as e:
        run("import_subjects", str(tmp_path / "h.csv"))
    assert "category_code" in str(e.value)


def test_import_subjects_xlsx_round_trip_through_export(tmp_path, district, categories):
    run("import_subjects", write(tmp_path, "s.csv", *GOOD))
    target = tmp_path / "out.xlsx"
    _, err = run("export_subjects", "--format", "xlsx", "-o", str(target))
    assert "exported 2 subjects" in err
    out, _ = run("import_subjects", str(target))
    assert "created=0 updated=0 unchanged=2" in out


def test_export_subjects_csv_and_filters(tmp_path, district, categories):
    run("import_subjects", write(tmp_path, "s.csv", *GOOD))
    target = tmp_path / "out.csv"
    run("export_subjects", "--format", "csv", "-o", str(target), "--area", "S1G2")
    text = target.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("name,category_code") and "茶香小馆" in text and "老王面馆" not in text
    out, _ = run("export_subjects")  # csv to stdout
    assert "老王面馆" in out and "13812345678" in out  # the administrator's export is not masked
    with pytest.raises(CommandError):
        run("export_subjects", "--format", "xlsx")


def test_import_areas(tmp_path, district):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square(120.5, 30.0, 121.0, 31.0),
         "properties": {"code": "S1C2", "name": "社区1-2", "kind": "community", "parent_code": "S1"}},
        {"type": "Feature", "geometry": None,
         "properties": {"code": "BAD", "name": "x", "kind": "grid", "parent_code": "NOPE"}},
    ]}
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError):
        run("import_areas", str(path))
    assert not Area.objects.filter(code="S1C2").exists()
    out, err = run("import_areas", str(path), "--skip-invalid")
    assert "created=1" in out and "line 2 [parent_code]" in err
    assert Area.objects.filter(code="S1C2").exists()
    out, _ = run("import_areas", str(path), "--skip-invalid", "--dry-run")
    assert "unchanged=1" in out
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError):
        run("import_areas", str(path))
