"""The power-and-responsibility list (权责清单): problem types mapped to matters and default severities."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import Severity


class ProblemType(models.Model):
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    matter_code = models.CharField(_("对应事项编码"), max_length=64, db_index=True)
    default_severity = models.CharField(_("默认等级"), max_length=8, choices=Severity.choices, default=Severity.BLUE)
    group = models.CharField(_("分组"), max_length=50, blank=True, help_text=_("Open311 服务分组"))
    about_subject = models.BooleanField(_("涉及管理对象"), default=False,
                                        help_text=_("问题通常指向一个具体的经营主体（商户、工地等）"))
    description = models.CharField(_("说明"), max_length=500, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("问题类型")
        verbose_name_plural = _("问题类型（权责清单）")

    def __str__(self):
        return f"{self.code} {self.name}"
