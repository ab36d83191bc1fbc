"""The district's default SLA policies, from the presets in the articles (bureau staff edit them;
streets may override per severity). A copy of command_center.sla.PRESETS as it was when written."""
from django.db import migrations


def _s(stage, minutes, met_by, escalate_to):
    return {"stage": stage, "minutes": minutes, "met_by": met_by, "escalate_to": escalate_to}


P1510 = ("1510（1分钟签收、5分钟到场、10分钟处置）", [
    _s("sign_for", 1, "accept", "next_rank"), _s("arrive", 5, "arrive", "team_leader"),
    _s("handle", 10, "resolve", "district"),
])
P1315 = ("1315（1分钟响应、3分钟出发、15分钟处置）", [
    _s("respond", 1, "accept", "next_rank"), _s("set_out", 3, "accept", "team_leader"),
    _s("handle", 15, "resolve", "district"),
])
P20 = ("20分钟快速响应", [_s("arrive", 20, "arrive", "team_leader")])
DEFAULTS = {"red": P1510, "orange": P1510, "yellow": P1315, "blue": P20}


def forwards(apps, schema_editor):
    SlaPolicy = apps.get_model("command_center", "SlaPolicy")
    for severity, (name, stages) in DEFAULTS.items():
        if not SlaPolicy.objects.filter(street__isnull=True, severity=severity).exists():
            SlaPolicy.objects.create(street=None, severity=severity, name=name, stages=stages)


class Migration(migrations.Migration):
    dependencies = [("command_center", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
