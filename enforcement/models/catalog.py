"""The versioned matter catalog: versions, the matters of each version, and their delegations to streets."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enforcement.choices import DelegationSource, MatterKind, MatterStatus, VersionStatus
from grids.choices import AreaKind, StreetTier


class CatalogVersion(models.Model):
    """One edition of the catalog. Edited as the single open draft, published as a whole.

    Published and archived versions keep their rows: a case decided under version 3 keeps pointing at
    the matter row of version 3. The one exception to immutability is a revocation of a delegation,
    which takes effect at once (it bumps `revision`, which the routing cache watches).
    """

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT,
                              db_index=True)
    note = models.TextField(_("说明"), blank=True)
    based_on = models.ForeignKey("self", verbose_name=_("基于版本"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    revision = models.PositiveIntegerField(_("修订次数"), default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("事项清单版本")
        verbose_name_plural = _("事项清单版本")
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status=VersionStatus.PUBLISHED),
                                    name="catalog_one_published_version"),
            models.UniqueConstraint(fields=["status"], condition=Q(status=VersionStatus.DRAFT),
                                    name="catalog_one_draft_version"),
            models.CheckConstraint(condition=Q(status=VersionStatus.DRAFT) | Q(published_at__isnull=False),
                                   name="catalog_published_has_time"),
        ]

    def __str__(self):
        return f"V{self.number}（{self.get_status_display()}）"

    @property
    def is_draft(self):
        return self.status == VersionStatus.DRAFT


class RoutingRevision(models.Model):
    """One row counting the catalog writes that change routing (publish, revocation, problem types).

    Services bump it inside their transaction; each process's routing cache compares it (cheaply, every
    few seconds) with the value it was built from, so a write that commits late is still noticed.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("分派缓存版本")
        verbose_name_plural = _("分派缓存版本")


class Matter(models.Model):
    """One legal power or duty (执法事项) as it stands in one catalog version; `code` is stable across versions."""

    version = models.ForeignKey(CatalogVersion, verbose_name=_("版本"), on_delete=models.PROTECT, related_name="matters")
    code = models.CharField(_("事项编码"), max_length=64)
    name = models.CharField(_("事项名称"), max_length=255)
    law = models.CharField(_("法律依据"), max_length=255, help_text=_("法律法规名称，如《城市市容和环境卫生管理条例》"))
    article = models.CharField(_("条款"), max_length=100, blank=True, help_text=_("如 第三十六条"))
    department = models.ForeignKey("grids.Department", verbose_name=_("主管部门"), on_delete=models.PROTECT,
                                   related_name="catalog_matters")
    kind = models.CharField(_("事项类型"), max_length=32, choices=MatterKind.choices)
    domain = models.CharField(_("执法领域"), max_length=32, db_index=True)
    non_site = models.BooleanField(_("适用非现场执法"), default=False)
    major_decision = models.BooleanField(_("重大执法决定（需法制审核）"), default=False)
    # The fine the law allows for this matter (yuan); empty: no fine is provided for. A case's decision
    # must stay within it; above `legal_review_fine_over` the decision needs legal review (法制审核).
    fine_min = models.DecimalField(_("罚款下限(元)"), max_digits=12, decimal_places=2, null=True, blank=True)
    fine_max = models.DecimalField(_("罚款上限(元)"), max_digits=12, decimal_places=2, null=True, blank=True)
    legal_review_fine_over = models.DecimalField(
        _("罚款超过此数需法制审核(元)"), max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("留空按系统设置 CASES_LEGAL_REVIEW_FINE_OVER"))
    status = models.CharField(_("状态"), max_length=16, choices=MatterStatus.choices, default=MatterStatus.ACTIVE)

    class Meta:
        ordering = ["code"]
        verbose_name = _("执法事项")
        verbose_name_plural = _("执法事项")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="matter_code_unique_in_version"),
            models.CheckConstraint(condition=Q(fine_min__isnull=True) | Q(fine_max__isnull=True)
                                   | Q(fine_max__gte=models.F("fine_min")), name="matter_fine_range_ordered"),
        ]
        indexes = [models.Index(fields=["version", "department"]), models.Index(fields=["version", "domain"])]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def legal_basis(self) -> str:
        return f"{self.law}{self.article}"


# Alias under the name used in design notes: a matter row belongs to exactly one version.
MatterEntry = Matter


class Delegation(models.Model):
    """A matter delegated to a street (赋权), from a date, maybe until a date (inclusive), maybe revoked.

    Held on day D when effective_from <= D, (effective_to is empty or D <= effective_to), and it was not
    revoked on or before D. Rows are never deleted: revocation records who, when and why.
    """

    matter = models.ForeignKey(Matter, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="delegations")
    street = models.ForeignKey("grids.Area", verbose_name=_("镇街"), on_delete=models.PROTECT, related_name="delegations",
                               limit_choices_to={"kind": AreaKind.STREET})
    tier = models.CharField(_("镇街类型"), max_length=16, choices=StreetTier.choices, blank=True)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("截止日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=DelegationSource.choices, default=DelegationSource.MANUAL)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.CharField(_("撤销原因"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["street_id", "matter__code", "effective_from"]
        verbose_name = _("赋权")
        verbose_name_plural = _("赋权")
        constraints = [
            models.UniqueConstraint(fields=["matter", "street", "effective_from"], name="delegation_unique_start"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                                   name="delegation_dates_ordered"),
            models.CheckConstraint(condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                                   name="delegation_revocation_has_reason"),
        ]
        indexes = [models.Index(fields=["street", "effective_from"])]

    def __str__(self):
        return f"{self.matter.code} → {self.street.name}"

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class TierTemplate(models.Model):
    """The list of matter codes delegated to every street of a tier (一般/中心/城区镇街)."""

    tier = models.CharField(_("镇街类型"), max_length=16, choices=StreetTier.choices, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    matter_codes = models.JSONField(_("事项编码"), default=list, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("更新人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["tier"]
        verbose_name = _("分类赋权模板")
        verbose_name_plural = _("分类赋权模板")

    def __str__(self):
        return self.name

    @property
    def size(self):
        return len(self.matter_codes or [])
