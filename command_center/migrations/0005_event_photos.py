# Event photos (issue 4): report and result photos, Open311 media_url links; the "photo" timeline action.

import command_center.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('command_center', '0004_dispatch_modes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='deadline',
            name='met_by',
            field=models.CharField(choices=[('create', '受理'), ('dispatch', '派遣'), ('accept', '签收'), ('decline', '退回'), ('arrive', '到场'), ('resolve', '处置反馈'), ('close', '办结评价'), ('reject', '不予受理'), ('merge', '合并'), ('transfer', '转办'), ('escalate', '升级'), ('severity', '调整等级'), ('deliberate', '提交议事'), ('breach', '超时'), ('photo', '上传照片')], max_length=16, verbose_name='完成动作'),
        ),
        migrations.AlterField(
            model_name='timelineentry',
            name='action',
            field=models.CharField(choices=[('create', '受理'), ('dispatch', '派遣'), ('accept', '签收'), ('decline', '退回'), ('arrive', '到场'), ('resolve', '处置反馈'), ('close', '办结评价'), ('reject', '不予受理'), ('merge', '合并'), ('transfer', '转办'), ('escalate', '升级'), ('severity', '调整等级'), ('deliberate', '提交议事'), ('breach', '超时'), ('photo', '上传照片')], max_length=16, verbose_name='动作'),
        ),
        migrations.CreateModel(
            name='EventPhoto',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('report', '上报照片'), ('result', '处置照片'), ('media_url', '外部图片链接')], max_length=16, verbose_name='类型')),
                ('file', models.FileField(blank=True, max_length=255, upload_to=command_center.models.event_photo_path, verbose_name='文件')),
                ('url', models.URLField(blank=True, max_length=1000, verbose_name='外部链接')),
                ('content_type', models.CharField(blank=True, max_length=32, verbose_name='文件类型')),
                ('size', models.PositiveIntegerField(default=0, verbose_name='大小（字节）')),
                ('width', models.PositiveIntegerField(blank=True, null=True, verbose_name='宽')),
                ('height', models.PositiveIntegerField(blank=True, null=True, verbose_name='高')),
                ('sha256', models.CharField(blank=True, max_length=64, verbose_name='SHA-256')),
                ('original_name', models.CharField(blank=True, max_length=255, verbose_name='原文件名')),
                ('uploaded_by_label', models.CharField(blank=True, max_length=150, verbose_name='上传人名称')),
                ('uploaded_at', models.DateTimeField(verbose_name='上传时间')),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='photos', to='command_center.event', verbose_name='事件')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='上传人')),
            ],
            options={
                'verbose_name': '事件照片',
                'verbose_name_plural': '事件照片',
                'ordering': ['uploaded_at', 'id'],
                'indexes': [models.Index(fields=['event', 'kind'], name='command_cen_event_i_0b1cbd_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('kind', 'media_url'), models.Q(('url', ''), _negated=True), ('file', '')), models.Q(models.Q(('kind', 'media_url'), _negated=True), models.Q(('file', ''), _negated=True), ('url', '')), _connector='OR'), name='event_photo_file_xor_url')],
            },
        ),
    ]
