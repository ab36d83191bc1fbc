"""Inspect once (综合查一次): per subject category, the items of several departments for one visit."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Checklist(models.Model):
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    category = models.ForeignKey("grids.SubjectCategory", verbose_name=_("对象类别"), on_delete=models.PROTECT,
                                 related_name="checklists", help_text=_("大类或小类；大类的清单适用于其所有小类"))
    description = models.TextField(_("说明"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("检查清单")
        verbose_name_plural = _("检查清单（综合查一次）")

    def __str__(self):
        return self.name


class ChecklistArea(models.Model):
    """A key area of a checklist (e.g. 扬尘防治 in the construction-site list)."""

    checklist = models.ForeignKey(Checklist, verbose_name=_("检查清单"), on_delete=models.CASCADE, related_name="areas")
    name = models.CharField(_("名称"), max_length=100)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["checklist_id", "order", "id"]
        verbose_name = _("检查领域")
        verbose_name_plural = _("检查领域")
        constraints = [models.UniqueConstraint(fields=["checklist", "name"], name="checklist_area_unique_name")]

    def __str__(self):
        return self.name


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(Checklist, verbose_name=_("检查清单"), on_delete=models.CASCADE, related_name="items")
    area = models.ForeignKey(ChecklistArea, verbose_name=_("检查领域"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="items")
    code = models.CharField(_("条目编码"), max_length=32)
    matter_code = models.CharField(_("事项编码"), max_length=64, db_index=True)
    department = models.ForeignKey("grids.Department", verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="checklist_items")
    text = models.CharField(_("检查内容"), max_length=500)
    weight = models.PositiveSmallIntegerField(_("分值"), default=1, help_text=_("问题计入信用评价时的权重"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["checklist_id", "order", "id"]
        verbose_name = _("检查条目")
        verbose_name_plural = _("检查条目")
        constraints = [models.UniqueConstraint(fields=["checklist", "code"], name="checklist_item_unique_code")]

    def __str__(self):
        return f"{self.code} {self.text[:30]}"
