from django.db import migrations


def create_default_policy(apps, schema_editor):
    from credit.models import default_base_points, default_sensor_rules, default_weights

    CreditPolicy = apps.get_model("credit", "CreditPolicy")
    if not CreditPolicy.objects.filter(category__isnull=True).exists():
        CreditPolicy.objects.create(
            category=None, version=1, is_current=True, name="全区默认",
            base_points=default_base_points(), weights=default_weights(), sensor_rules=default_sensor_rules(),
            note="初始规则",
        )


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
