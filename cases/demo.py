"""The demo's casework: cases in every state in 青山湖街道 (direct filings here; from events in
command_center.demo_cases), penalty and lenient decisions, one under legal review, one appealed, one
transferred, quality-review scores; the district's no-penalty lists and the quality checklist.

`advance` takes a case through its ordinary steps with the right people (the tests use it too)."""
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cases import services
from cases.choices import LenientGround, Origin, Outcome, PartyKind
from cases.models import Case, LenientListEntry, QualityChecklistItem
from core.exceptions import DomainError
from core.roles import BUREAU_STAFF
from enforcement.choices import MatterKind
from enforcement import selectors as enforcement_selectors
from enforcement.models import Matter
from grids.demo import DEFAULT_SEED
from grids.models import Area, Officer, Subject
from inspections.choices import Result as InspectionResult
from inspections.models import Finding

STREET = "青山湖街道"
ORDER = ["investigation", "evidence", "review", "approved", "notified", "legal_review", "decided", "served",
         "executed", "closed"]
CHECKLIST = (("Q1", "立案审批手续完备、及时", 20), ("Q2", "证据确实充分，取证程序合法", 30),
             ("Q3", "适用法律准确，裁量适当", 30), ("Q4", "文书规范，送达合法", 20))


def outcome(code, *, outcome=Outcome.PENALTY, fine="0", measures="", ground="", reason="") -> dict:
    return {"matter_code": code, "outcome": outcome, "fine": Decimal(fine), "measures": measures,
            "lenient_ground": ground, "reason": reason}


def advance(case, to, *, handler, leader, reviewer, outcomes, legal=True):
    """Take `case` through the ordinary steps up to status `to` (a name of ORDER): the handler's, the
    leader's and the legal reviewer's steps by those users. Returns the case as it then stands."""
    for step in ORDER:
        case = Case.objects.get(pk=case.pk)
        if step == "investigation":
            services.investigate(handler, case)
        elif step == "evidence":
            services.add_evidence(handler, case, file=ContentFile(b"\xff\xd8 demo photo", name="现场照片.jpg"),
                                  kind="photo", note="现场照片")
        elif step == "review":
            services.submit(handler, case, outcomes=outcomes)
        elif step == "approved":
            services.approve(leader, case)
        elif step == "notified":
            services.notify(handler, case)
        elif step == "legal_review":
            if not case.legal_review_required:
                continue
            services.request_legal_review(handler, case)
            if to == "legal_review":
                break
            if legal:
                services.legal_review(reviewer, case, opinion="agree", reasons="事实清楚，证据充分，适用法律正确")
        elif step == "decided":
            services.decide(leader, case, outcomes=outcomes, decision_text="依法作出如下决定。")
        elif step == "served":
            services.serve(handler, case, method="直接送达")
        elif step == "executed":
            if all(o["outcome"] == Outcome.NO_PENALTY for o in outcomes):
                continue
            services.execute(handler, case, note="当事人已履行")
        elif step == "closed":
            services.close(leader, case)
        if step == to:
            break
    return Case.objects.get(pk=case.pk)


def _write(stdout, text):
    if stdout is not None:
        stdout.write(text)


def people():
    """The demo's casework people in 青山湖街道: leader, bureau reviewer, two handlers' users and officers."""
    User = get_user_model()
    street = Area.objects.filter(name=STREET).first()
    officers = list(Officer.objects.filter(team__street=street).select_related("user").order_by("id")[:3])
    demo_officer = Officer.objects.filter(user__username="officer_demo").first()
    if demo_officer is not None and demo_officer not in officers[:2]:
        officers = [demo_officer] + [o for o in officers if o.pk != demo_officer.pk]
    return {"street": street, "leader": User.objects.filter(username="leader_qsh").first(),
            "bureau": User.objects.filter(username="bureau").first(), "officers": officers[:2]}


def from_findings(limit: int = 2) -> list[Case]:
    """Cases filed from failed inspection findings (inspections.demo ran before), by the district's
    dispatcher with two officers of the finding's street, as `POST /api/v1/cases/ {finding}` does."""
    filer = get_user_model().objects.filter(username="dispatcher").first()
    if filer is None:
        return []
    made = []
    rows = (Finding.objects.filter(result=InspectionResult.FAIL, corrected_by__isnull=True, cases__isnull=True)
            .exclude(matter_code="").select_related("visit").order_by("id")[:20])
    for row in rows:
        handler_ids = list(Officer.objects.filter(team__street_id=row.visit.street_id).order_by("id")
                           .values_list("pk", flat=True)[:2])
        try:
            with transaction.atomic():
                made.append(services.file_case(filer, party_kind=PartyKind.BUSINESS, origin=Origin.FINDING,
                                               finding=row.pk, handler_ids=handler_ids))
        except DomainError:  # a matter missing from the catalog of its day, too few officers: skip it
            continue
        if len(made) == limit:
            break
    return made


@transaction.atomic
def load(seed: int = DEFAULT_SEED, *, stdout=None, results=None, large=False, **_ignored) -> dict:
    p = people()
    if p["street"] is None or p["leader"] is None or p["bureau"] is None or len(p["officers"]) < 2:
        _write(stdout, "cases demo: no 青山湖街道 team leader/officers, skipped")
        return {"cases": 0}
    version = enforcement_selectors.current_version()
    penalties = list(Matter.objects.filter(version=version, kind=MatterKind.ADMINISTRATIVE_PENALTY,
                                           fine_max__isnull=False).select_related("department").order_by("code"))
    ordinary = [m for m in penalties if not m.major_decision]
    major = next((m for m in penalties if m.major_decision), None)
    other_dept = next((m for m in ordinary if m.department_id != ordinary[0].department_id), ordinary[1])
    subjects = list(Subject.objects.filter(grid__path__startswith=p["street"].path).order_by("id")[:20])
    if len(ordinary) < 4 or major is None or len(subjects) < 12:
        _write(stdout, "cases demo: catalog or subjects missing, skipped")
        return {"cases": 0}
    for m in ordinary[:3]:
        for ground in (LenientGround.FIRST, LenientGround.MINOR):
            LenientListEntry.objects.get_or_create(matter_code=m.code, ground=ground,
                                                   defaults={"note": "演示：免罚清单"})
    LenientListEntry.objects.get_or_create(matter_code=ordinary[1].code, ground=LenientGround.MEDIATED)
    for code, text, points in CHECKLIST:
        QualityChecklistItem.objects.get_or_create(code=code, defaults={"text": text, "max_points": points})
    handler_ids = [o.pk for o in p["officers"]]
    handler, leader, bureau = p["officers"][0].user, p["leader"], p["bureau"]
    today = timezone.localdate()

    def file(subject, matters, days_ago, **extra):
        kwargs = {"subject": subject, "party_kind": PartyKind.BUSINESS}
        kwargs.update(extra)
        return services.file_case(leader, facts=f"经现场检查，{subject.name if subject else '当事人'}存在"
                                  + "、".join(m.name.removeprefix("对").removesuffix("的行政处罚") for m in matters)
                                  + "的行为，执法人员制作了现场检查笔录并拍照取证。",
                                  facts_on=today - timedelta(days=days_ago), matter_codes=[m.code for m in matters],
                                  handler_ids=handler_ids, **kwargs)

    def go(case, to, outs, **kw):
        return advance(case, to, handler=handler, leader=leader, reviewer=bureau, outcomes=outs, **kw)

    a, b, c, d = ordinary[0], ordinary[1], ordinary[2], ordinary[3]
    made = []
    made.append(file(subjects[0], [a], 1))                                                     # filed
    made.append(go(file(subjects[1], [b], 2), "investigation", []))                            # investigation
    made.append(go(file(subjects[2], [a, other_dept], 3), "review",                            # one visit, one penalty
                   [outcome(a.code, fine="500"), outcome(other_dept.code, fine="1000")]))
    made.append(go(file(subjects[3], [c], 4), "approved", [outcome(c.code, fine="300")]))
    notified = go(file(subjects[4], [d], 5), "notified", [outcome(d.code, fine="2000")])
    services.record_statement(handler, notified, statement="当事人称系初次经营，已当场整改，请求从轻处理。")
    made.append(notified)
    made.append(go(file(subjects[5], [major], 6), "legal_review", [outcome(major.code, fine="50000")]))
    made.append(go(file(subjects[6], [a], 7), "decided", [outcome(a.code, fine="800")]))
    made.append(go(file(subjects[7], [b], 8), "served", [outcome(b.code, fine="1500")]))
    made.append(go(file(subjects[3], [d], 8), "executed", [outcome(d.code, fine="1200")]))
    closed = go(file(subjects[8], [a, other_dept], 9), "closed",
                [outcome(a.code, fine="600"), outcome(other_dept.code, fine="3000", measures="责令改正")])
    services.quality_review(bureau, closed, scores={"Q1": 18, "Q2": 27, "Q3": 28, "Q4": 19}, comment="案卷规范")
    made.append(closed)
    made.append(go(file(subjects[9], [a], 10), "closed",                                        # 首违不罚
                   [outcome(a.code, outcome=Outcome.NO_PENALTY, ground=LenientGround.FIRST, measures="批评教育")]))
    made.append(go(file(subjects[10], [c], 11), "closed",                                       # 公益减罚
                   [outcome(c.code, outcome=Outcome.REDUCED, fine="50", reason="当事人主动参加社区公益服务")]))
    appealed = go(file(subjects[11], [d], 12), "closed", [outcome(d.code, fine="5000")])
    services.appeal(leader, appealed, kind="reconsideration", grounds="当事人认为处罚过重，申请行政复议。")
    made.append(appealed)
    simple = file(subjects[0], [b], 1, procedure="simple")
    services.decide(handler, simple, outcomes=[outcome(b.code, fine="100")], decision_text="当场处罚")
    services.serve(handler, simple, method="当场交付")
    made.append(simple)
    person = file(None, [c], 2, party_kind=PartyKind.PERSON, person_name="李某某", person_id_number="330105199001011234",
                  person_phone="13800138000", street=p["street"])
    made.append(go(person, "served", [outcome(c.code, fine="200")]))
    moved = file(subjects[1], [a], 3)
    services.transfer(leader, moved, target="department", to_department_code=other_dept.department.code,
                      reason="涉及专业技术鉴定，移送主管部门")
    services.answer_transfer(bureau, moved, accept=True, note="同意接收")
    made.append(moved)
    made += from_findings()
    # the colour alone contested (not a case's decision): its facts under review while open
    services.appeal_color(leader, subjects[7].pk, kind="complaint", grounds="当事人认为已整改到位，信用颜色不应为黄色。")
    counts = {}
    for case in Case.objects.filter(pk__in=[x.pk for x in made]):
        counts[case.status] = counts.get(case.status, 0) + 1
    _write(stdout, f"cases demo: {len(made)} cases")
    return {"cases": len(made), "by_status": counts, "leader": leader.username, "reviewer_role": BUREAU_STAFF}
