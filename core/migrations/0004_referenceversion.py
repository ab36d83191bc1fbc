from django.db import migrations, models

TOPICS = ("sla", "webhooks", "users")  # core.refcache.TOPICS, as of this migration


def add_topics(apps, schema_editor):
    ReferenceVersion = apps.get_model("core", "ReferenceVersion")
    for topic in TOPICS:
        ReferenceVersion.objects.get_or_create(topic=topic, defaults={"n": 0})


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_outbox'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReferenceVersion',
            fields=[
                ('topic', models.CharField(max_length=32, primary_key=True, serialize=False)),
                ('n', models.BigIntegerField(default=0)),
            ],
            options={
                'verbose_name': '参考数据版本',
                'verbose_name_plural': '参考数据版本',
            },
        ),
        migrations.RunPython(add_topics, migrations.RunPython.noop),
    ]
