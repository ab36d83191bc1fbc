# Dispatch modes per street and severity, and the dispatchers' sign-on (issue 4, "Dispatch").

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('command_center', '0003_webhooks'),
        ('grids', '0003_area_index_triggers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DispatcherShift',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(verbose_name='签到时间')),
                ('ends_at', models.DateTimeField(verbose_name='计划下班时间')),
                ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='签退时间')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='dispatcher_shifts', to=settings.AUTH_USER_MODEL, verbose_name='值班员')),
            ],
            options={
                'verbose_name': '值班签到',
                'verbose_name_plural': '值班签到',
                'ordering': ['-started_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('ended_at__isnull', True)), fields=['ends_at'], name='dispatcher_shift_open')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('ended_at__isnull', True)), fields=('user',), name='uniq_open_dispatcher_shift'), models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('started_at'))), name='dispatcher_shift_ends_after_start')],
            },
        ),
        migrations.CreateModel(
            name='DispatchRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('severity', models.CharField(choices=[('blue', '蓝色（一般）'), ('yellow', '黄色（较大）'), ('orange', '橙色（重大）'), ('red', '红色（特别重大）')], max_length=8, verbose_name='等级')),
                ('mode', models.CharField(choices=[('manual', '街道派遣'), ('central', '区级统一派遣'), ('automatic', '自动派遣')], max_length=16, verbose_name='派遣模式')),
                ('next_on_decline', models.BooleanField(default=False, help_text='自动派遣模式下总是如此', verbose_name='退回后自动派给下一候选人')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='修改时间')),
                ('street', models.ForeignKey(blank=True, help_text='留空表示全区默认', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='dispatch_rules', to='grids.area', verbose_name='镇街')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='修改人')),
            ],
            options={
                'verbose_name': '派遣规则',
                'verbose_name_plural': '派遣规则',
                'ordering': ['street_id', 'severity'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('street__isnull', False)), fields=('street', 'severity'), name='uniq_dispatch_rule_street_severity'), models.UniqueConstraint(condition=models.Q(('street__isnull', True)), fields=('severity',), name='uniq_dispatch_rule_district_severity')],
            },
        ),
    ]
