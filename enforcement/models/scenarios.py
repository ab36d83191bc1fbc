"""Regulate one thing (监管一件事): supervision and enforcement items of several departments bundled around one thing."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import ScenarioItemKind, ScenarioStatus


class Scenario(models.Model):
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ScenarioStatus.choices, default=ScenarioStatus.DRAFT,
                              db_index=True)
    categories = models.ManyToManyField("grids.SubjectCategory", verbose_name=_("适用对象类别"), blank=True,
                                        related_name="scenarios")
    areas = models.ManyToManyField("grids.Area", verbose_name=_("适用区域"), blank=True, related_name="scenarios")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("监管一件事场景")
        verbose_name_plural = _("监管一件事场景")

    def __str__(self):
        return self.name


class ScenarioItem(models.Model):
    scenario = models.ForeignKey(Scenario, verbose_name=_("场景"), on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("类型"), max_length=16, choices=ScenarioItemKind.choices)
    department = models.ForeignKey("grids.Department", verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="scenario_items")
    matter_code = models.CharField(_("事项编码"), max_length=64, blank=True, db_index=True)
    checklist_item = models.ForeignKey("enforcement.ChecklistItem", verbose_name=_("检查条目"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="scenario_items")
    text = models.CharField(_("内容"), max_length=500)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["scenario_id", "order", "id"]
        verbose_name = _("场景事项")
        verbose_name_plural = _("场景事项")

    def __str__(self):
        return self.text[:40]
