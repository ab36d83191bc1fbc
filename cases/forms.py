"""Page forms of the case's steps: they only parse; cases.services checks and acts."""
from django import forms
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    AppealKind, AppealResult, EvidenceKind, LegalOpinion, LenientGround, Outcome, PartyKind, Procedure, Status,
    TransferTarget,
)
from cases.services import NOTE_MAX, TEXT_MAX
from core.ids import MAX_ID


class QueueForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态"))] + list(Status.choices))
    overdue = forms.BooleanField(label=_("只看超期"), required=False)


class FileCaseForm(forms.Form):
    """Filing a case (立案) from the page: directly, or from an inspection finding chosen in the picker
    (the finding gives the subject, street, matter, facts and day; the fields below may complete them)."""

    finding = forms.IntegerField(label=_("来源检查发现（已移送立案、尚未立案的不合格项）"), required=False, min_value=1,
                                 max_value=MAX_ID)
    party_kind = forms.ChoiceField(label=_("当事人类型"), choices=[("", _("（从检查发现立案时缺省为单位）"))]
                                   + list(PartyKind.choices), required=False)
    subject = forms.IntegerField(label=_("管理对象编号（单位当事人必填）"), min_value=1, max_value=MAX_ID, required=False)
    street = forms.ModelChoiceField(label=_("镇街（个人当事人必填）"), queryset=None, required=False)
    person_name = forms.CharField(label=_("当事人姓名"), max_length=50, required=False)
    person_id_number = forms.CharField(label=_("身份证号"), max_length=32, required=False)
    person_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    matter_codes = forms.CharField(label=_("事项编码（多个以逗号分隔：综合罚一次）"), max_length=500, required=False)
    facts = forms.CharField(label=_("违法事实"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}),
                            required=False)
    facts_on = forms.DateField(label=_("违法行为发生日"), widget=forms.DateInput(attrs={"type": "date"}), required=False)
    handlers = forms.ModelMultipleChoiceField(label=_("承办人（不少于两人）"), queryset=None)
    procedure = forms.ChoiceField(label=_("程序"), choices=Procedure.choices, initial=Procedure.GENERAL)

    def __init__(self, *args, streets, officers, findings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets
        self.fields["handlers"].queryset = officers
        # The picker lists the open referred findings; the service decides on the one posted (another
        # street's: not found; filed already: one case per finding).
        self.fields["finding"].widget = forms.Select(choices=[("", _("（直接立案）"))] + [
            (f.pk, f"#{f.pk} {f.visit.subject.name} · {f.recorded_at:%Y-%m-%d} · {f.item_text}") for f in findings])

    def clean_matter_codes(self):
        return [c.strip() for c in self.cleaned_data["matter_codes"].replace("，", ",").split(",") if c.strip()]

    def clean(self):
        data = super().clean()
        if not data.get("finding"):
            for name in ("party_kind", "matter_codes", "facts", "facts_on"):
                if name in data and not data[name]:
                    self.add_error(name, _("直接立案时此项必填。"))
        return data


class StepForm(forms.Form):
    """Every step's form carries the version the page showed (the page's If-Match)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NoteForm(StepForm):
    note = forms.CharField(label=_("说明"), max_length=NOTE_MAX, required=False)


class RequiredNoteForm(StepForm):
    note = forms.CharField(label=_("执行情况"), max_length=NOTE_MAX)


class ReasonForm(StepForm):
    reason = forms.CharField(label=_("退回理由"), max_length=NOTE_MAX)


class ServeForm(StepForm):
    method = forms.CharField(label=_("送达方式"), max_length=50, initial=_("直接送达"))


class StatementForm(StepForm):
    statement = forms.CharField(label=_("陈述申辩内容"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    adopted = forms.BooleanField(label=_("意见已采纳"), required=False)


class HearingForm(StepForm):
    held_on = forms.DateField(label=_("听证日期"), widget=forms.DateInput(attrs={"type": "date"}))
    summary = forms.CharField(label=_("听证笔录摘要"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class LegalReviewForm(StepForm):
    opinion = forms.ChoiceField(label=_("审核意见"), choices=LegalOpinion.choices)
    reasons = forms.CharField(label=_("理由（退回时必填）"), max_length=NOTE_MAX, required=False)


class TransferForm(StepForm):
    target = forms.ChoiceField(label=_("移送对象"), choices=TransferTarget.choices)
    to_street = forms.CharField(label=_("接收镇街编码"), max_length=32, required=False)
    to_department = forms.CharField(label=_("接收部门编码"), max_length=32, required=False)
    reason = forms.CharField(label=_("移送理由"), max_length=NOTE_MAX)


class AcceptTransferForm(StepForm):
    accept = forms.TypedChoiceField(label=_("是否接收"), choices=[("1", _("接收")), ("0", _("拒绝"))],
                                    coerce=lambda v: v == "1")
    handler_ids = forms.CharField(label=_("承办人编号（逗号分隔，接收镇街移送时必填）"), max_length=100, required=False)
    note = forms.CharField(label=_("说明（拒绝时必填）"), max_length=NOTE_MAX, required=False)

    def clean_handler_ids(self):
        raw = self.cleaned_data["handler_ids"]
        try:
            return [int(x) for x in raw.replace("，", ",").split(",") if x.strip()]
        except ValueError:
            raise forms.ValidationError(_("请填写队员编号，以逗号分隔。")) from None


class AppealForm(StepForm):
    kind = forms.ChoiceField(label=_("类型"), choices=AppealKind.choices)
    grounds = forms.CharField(label=_("理由"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class AppealDecisionForm(StepForm):
    result = forms.ChoiceField(label=_("结果"), choices=[c for c in AppealResult.choices if c[0]])
    note = forms.CharField(label=_("结果说明"), max_length=NOTE_MAX)


class EvidenceForm(StepForm):
    file = forms.FileField(label=_("证据文件"))
    kind = forms.ChoiceField(label=_("类型"), choices=EvidenceKind.choices)
    note = forms.CharField(label=_("说明"), max_length=255, required=False)


class OutcomesForm(StepForm):
    """One outcome per matter of the case (综合罚一次)."""

    note = forms.CharField(label=_("说明"), max_length=TEXT_MAX, required=False)

    def __init__(self, *args, matters, **kwargs):
        super().__init__(*args, **kwargs)
        self.codes = []
        for row in matters:
            code = row.matter.code
            self.codes.append(code)
            name = f"{code} {row.matter.name}"
            self.fields[f"outcome_{code}"] = forms.ChoiceField(label=_("%(m)s：处理结果") % {"m": name},
                                                               choices=Outcome.choices, initial=row.outcome or None)
            self.fields[f"fine_{code}"] = forms.DecimalField(label=_("%(m)s：罚款（元）") % {"m": name}, min_value=0,
                                                             max_digits=12, decimal_places=2, required=False,
                                                             initial=row.fine)
            self.fields[f"measures_{code}"] = forms.CharField(label=_("%(m)s：其他措施") % {"m": name}, max_length=255,
                                                              required=False, initial=row.measures)
            self.fields[f"ground_{code}"] = forms.ChoiceField(label=_("%(m)s：免罚情形") % {"m": name},
                                                              choices=LenientGround.choices, required=False,
                                                              initial=row.lenient_ground)
            self.fields[f"reason_{code}"] = forms.CharField(label=_("%(m)s：理由") % {"m": name}, max_length=NOTE_MAX,
                                                            required=False, initial=row.reason)

    def outcomes(self) -> list[dict]:
        d = self.cleaned_data
        return [{"matter_code": c, "outcome": d[f"outcome_{c}"], "fine": d.get(f"fine_{c}") or 0,
                 "measures": d.get(f"measures_{c}", ""), "lenient_ground": d.get(f"ground_{c}", ""),
                 "reason": d.get(f"reason_{c}", "")} for c in self.codes]


class QualityReviewForm(StepForm):
    comment = forms.CharField(label=_("评语"), max_length=NOTE_MAX, required=False)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"score_{item.code}"] = forms.IntegerField(
                label=_("%(t)s（满分 %(m)d）") % {"t": item.text, "m": item.max_points}, min_value=0,
                max_value=item.max_points)

    def scores(self) -> dict:
        return {i.code: self.cleaned_data[f"score_{i.code}"] for i in self.items}


class ColorAppealForm(forms.Form):
    """A subject's appeal against its credit colour alone."""

    subject = forms.IntegerField(label=_("管理对象编号"), min_value=1, max_value=MAX_ID)
    kind = forms.ChoiceField(label=_("类型"), choices=AppealKind.choices)
    grounds = forms.CharField(label=_("理由"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    lodged_on = forms.DateField(label=_("提出日期（缺省今天）"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))


class ColorAppealDecisionForm(forms.Form):
    result = forms.ChoiceField(label=_("结果"), choices=[c for c in AppealResult.choices if c[0]])
    note = forms.CharField(label=_("结果说明"), max_length=NOTE_MAX)
    withdraw_fact_ids = forms.TypedMultipleChoiceField(label=_("变更时撤回的信用记录"), required=False, coerce=int,
                                                       widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, facts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["withdraw_fact_ids"].choices = [(f.pk, f"#{f.pk} {f.get_kind_display()} {f.source_text}")
                                                    for f in facts]
