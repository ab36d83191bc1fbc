"""One file per subject (一户一档): the subject's details, its credit colour with reasons and history,
and one section per kind of record about it, with a timeline merging them all.

SECTIONS lists the section providers, `fn(user, subject, masking) -> Section`, each scoped by the
user's areas and costing a fixed number of queries. Events, co-governance, notices and sensor readings
are here; the inspections and cases apps add theirs at merge (one provider and one template
`command_center/file/_<key>.html` each). Personal data is masked by role (core.masking): readers who
may not see phone numbers get every phone, the reporters' names and numbers inside free text masked.
"""
from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _

from command_center import selectors
from command_center.models import Deliberation, DeliberationMeeting
from core.exceptions import Forbidden
from core.masking import mask_personal_text, mask_phone, mask_value
from core.roles import may_see_phones
from credit import display as credit_display
from credit import selectors as credit_selectors
from credit.models import SensorReading
from grids import selectors as grid_selectors
from grids.models import NoticeDelivery

# How many rows of each section the file shows (the newest).
SECTION_LIMIT = 100


@dataclass(frozen=True)
class Masking:
    """What the reader may see in full."""

    phones: bool

    def phone(self, value):
        return value if self.phones else mask_phone(value)

    def name(self, value):
        return value if self.phones else mask_value(value)

    def text(self, value):
        return value if self.phones else mask_personal_text(value)


@dataclass
class TimelineLine:
    at: datetime
    section: str
    title: str
    url: str = ""

    def as_dict(self):
        return {"at": self.at, "section": self.section, "title": self.title, "url": self.url}


@dataclass
class Section:
    key: str  # names the template command_center/file/_<key>.html
    title: str
    items: list = field(default_factory=list)  # plain dicts: the API gives them as they are
    timeline: list = field(default_factory=list)


def _iso(value):
    return value.isoformat() if value else None


def events_section(user, subject, masking: Masking) -> Section:
    rows = list(selectors.events_for(user).filter(subject=subject).prefetch_related(None).prefetch_related("officer")
                .order_by("-created_at", "-id")[:SECTION_LIMIT])
    items, lines = [], []
    for e in rows:
        items.append({
            "id": e.pk, "status": e.status, "status_label": e.get_status_display(), "severity": e.severity,
            "severity_label": e.get_severity_display(), "problem_type": e.problem_type_code,
            "problem_type_name": e.problem_type_name, "description": masking.text(e.description),
            "reporter_name": masking.name(e.reporter_name), "reporter_phone": masking.phone(e.reporter_phone),
            "officer_name": e.officer.name if e.officer_id else None, "result": masking.text(e.result),
            "created_at": e.created_at, "closed_at": e.closed_at,
            "api_url": reverse("event-detail", kwargs={"pk": e.pk}),
        })
        title = _("事件 #%(id)s %(type)s（%(status)s）") % {
            "id": e.pk, "type": e.problem_type_name or e.problem_type_code, "status": e.get_status_display()}
        lines.append(TimelineLine(e.created_at, "events", title))
        if e.closed_at:
            lines.append(TimelineLine(e.closed_at, "events", _("事件 #%(id)s 办结") % {"id": e.pk}))
    return Section("events", _("事件"), items, lines)


def deliberations_section(user, subject, masking: Masking) -> Section:
    """Co-governance (红茶议事会) of the subject's events the reader may see."""
    event_ids = selectors.events_for(user).filter(subject=subject).prefetch_related(None).values("pk")
    records = (Deliberation.objects.filter(event__in=event_ids).order_by("-started_at", "-id")
               .prefetch_related(_meetings())[:SECTION_LIMIT])
    items, lines = [], []
    for d in records:
        meetings = [{"held_at": m.held_at, "place": m.place, "minutes": masking.text(m.minutes),
                     "attendees": [{"name": p.get("name", ""), "role": p.get("role", "")} for p in m.attendees]}
                    for m in d.meetings.all()]
        items.append({"id": d.pk, "event": d.event_id, "topic": masking.text(d.topic), "participants": d.participants,
                      "started_at": d.started_at, "meetings": meetings, "consensus": masking.text(d.consensus),
                      "outcome": d.outcome, "outcome_label": d.get_outcome_display(), "concluded_at": d.concluded_at})
        lines.append(TimelineLine(d.started_at, "deliberations", _("提交议事：%(topic)s") % {"topic": masking.text(d.topic)}))
        lines += [TimelineLine(m["held_at"], "deliberations", _("议事会议")) for m in meetings]
        if d.concluded_at:
            lines.append(TimelineLine(d.concluded_at, "deliberations",
                                      _("议事结论：%(outcome)s") % {"outcome": d.get_outcome_display()}))
    return Section("deliberations", _("红茶议事会"), items, lines)


def _meetings():
    from django.db.models import Prefetch

    return Prefetch("meetings", queryset=DeliberationMeeting.objects.order_by("held_at", "id"))


def notices_section(user, subject, masking: Masking) -> Section:
    rows = (NoticeDelivery.objects.filter(subject=subject).select_related("notice")
            .order_by("-notice__created_at", "-id")[:SECTION_LIMIT])
    items = [{"id": d.notice_id, "title": d.notice.title, "body": d.notice.body, "sent_at": d.notice.created_at,
              "status": d.status, "status_label": d.get_status_display(), "phone": masking.phone(d.phone)}
             for d in rows]
    lines = [TimelineLine(i["sent_at"], "notices", _("通知：%(title)s") % {"title": i["title"]}) for i in items]
    return Section("notices", _("通知"), items, lines)


def sensors_section(user, subject, masking: Masking) -> Section:
    rows = (SensorReading.objects.filter(subject=subject).order_by("-measured_at", "-id")
            .values("device_id", "metric", "value", "measured_at")[:SECTION_LIMIT])
    items = list(rows)
    lines = [TimelineLine(r["measured_at"], "sensors", f"{r['metric']} = {r['value']:g}") for r in items[:20]]
    return Section("sensors", _("监测数据"), items, lines)


# The sections of the file, in the order the page shows them. The integrator adds inspections and cases here.
def cases_section(user, subject, masking: Masking) -> Section:
    """The subject's cases the reader may see (cases.selectors scopes them), each with its decision."""
    from cases import selectors as case_selectors

    rows = list(case_selectors.cases_for(user).filter(subject=subject).order_by("-filed_at", "-id")[:SECTION_LIMIT])
    items, lines = [], []
    for c in rows:
        items.append({"id": c.pk, "number": c.number, "status": c.status, "status_label": c.get_status_display(),
                      "filed_at": c.filed_at, "decided_at": c.decided_at, "facts": masking.text(c.facts),
                      "api_url": f"/api/v1/cases/{c.pk}/"})
        lines.append(TimelineLine(c.filed_at, "cases", _("立案 %(number)s") % {"number": c.number}))
        if c.decided_at:
            lines.append(TimelineLine(c.decided_at, "cases", _("案件 %(number)s 作出决定") % {"number": c.number}))
    return Section("cases", _("案件"), items, lines)


def color_appeals_section(user, subject, masking: Masking) -> Section:
    """Appeals against the subject's colour alone (cases.selectors scopes them), with their outcome."""
    from cases import selectors as case_selectors

    rows = list(case_selectors.color_appeals_for(user).filter(subject=subject)[:SECTION_LIMIT])
    items, lines = [], []
    for a in rows:
        items.append({"id": a.pk, "kind": a.kind, "kind_label": a.get_kind_display(), "color": a.color,
                      "lodged_at": a.lodged_at, "due_at": a.due_at, "result": a.result,
                      "result_label": a.get_result_display(), "decided_at": a.decided_at,
                      "withdrawn_fact_ids": a.withdrawn_fact_ids, "api_url": f"/api/v1/color-appeals/{a.pk}/"})
        lines.append(TimelineLine(a.lodged_at, "color_appeals", _("信用颜色复议/申诉")))
        if a.decided_at:
            lines.append(TimelineLine(a.decided_at, "color_appeals", _("信用颜色复议/申诉结果：%(r)s") % {
                "r": a.get_result_display()}))
    return Section("color_appeals", _("信用颜色复议/申诉"), items, lines)


def inspections_section(user, subject, masking: Masking) -> Section:
    """The subject's inspection visits the reader may see, with their failed items and rectifications."""
    from django.db.models import Count, Q

    from inspections import selectors as inspection_selectors

    try:
        visits = inspection_selectors.visits_for(user)
    except Forbidden:  # a role that does not read inspections (an API client) sees the section empty
        return Section("inspections", _("检查"))
    rows = list(visits.filter(subject=subject).annotate(failed=Count("findings", filter=Q(findings__result="fail")))
                .order_by("-date", "-id")[:SECTION_LIMIT])
    items, lines = [], []
    for v in rows:
        items.append({"id": v.pk, "date": v.date, "kind": v.kind, "kind_label": v.get_kind_display(),
                      "status": v.status, "status_label": v.get_status_display(), "failed": v.failed,
                      "completed_at": v.completed_at, "api_url": f"/api/v1/inspections/{v.pk}/"})
        if v.completed_at:
            lines.append(TimelineLine(v.completed_at, "inspections", _("检查完成（不合格 %(n)s 项）") % {"n": v.failed}))
    return Section("inspections", _("检查"), items, lines)


SECTIONS = [events_section, inspections_section, cases_section, color_appeals_section, deliberations_section,
            notices_section, sensors_section]


def file_for(user, subject_id) -> dict:
    """The subject's file: 404 for a subject outside the user's areas."""
    subject = grid_selectors.get_subject_for(user, subject_id)
    masking = Masking(phones=may_see_phones(user))
    credit = credit_selectors.credit_for(user, subject.pk)
    score = credit["score"]
    sections = [provider(user, subject, masking) for provider in SECTIONS]
    history = [{"at": h.changed_at, "from_color": h.from_color, "to_color": h.to_color, "score": h.score,
                "cause": h.cause, "cause_label": h.get_cause_display(), "detail": h.detail} for h in credit["history"]]
    lines = [line for s in sections for line in s.timeline]
    lines += [TimelineLine(h["at"], "credit", _("信用颜色 %(from)s → %(to)s（%(cause)s）") % {
        "from": h["from_color"], "to": h["to_color"], "cause": h["cause_label"]}) for h in history]
    lines.sort(key=lambda line: line.at, reverse=True)
    street, community = grid_selectors.street_and_community_of([subject.grid]).get(subject.grid_id, (None, None))
    return {
        "subject": {
            "id": subject.pk, "name": subject.name, "category": subject.category.name,
            "category_parent": subject.category.parent.name if subject.category.parent_id else "",
            "legal_representative": subject.legal_representative,
            "contact_phone": masking.phone(subject.contact_phone), "licence_no": subject.licence_no or "",
            "shop_sign": subject.shop_sign, "address": subject.address, "lat": subject.lat, "lng": subject.lng,
            "street_name": street.name if street else "", "community_name": community.name if community else "",
            "grid": subject.grid.code, "grid_name": subject.grid.name, "status": subject.status,
            "status_label": subject.get_status_display(), "tags": [t.name for t in subject.tags.all()],
        },
        "credit": {
            "color": score.color, "score": score.score, "computed_at": score.computed_at,
            "reasons": credit_display.reason_lines(score.reasons), "override": (
                {"color": credit["override"].color, "reason": credit["override"].reason,
                 "expires_at": credit["override"].expires_at} if credit["override"] else None),
            "under_review": credit["under_review"], "history": history,
        },
        "sections": [{"key": s.key, "title": s.title, "items": s.items} for s in sections],
        "timeline": [line.as_dict() for line in lines],
    }
