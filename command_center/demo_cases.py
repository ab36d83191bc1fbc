"""The demo's cases filed from events (POST /api/v1/events/{id}/file-case/ does the same): the first
events of 青山湖街道 that concern a subject, one taken to its decision (after cases.demo.load)."""
from django.db import transaction
from django.utils import timezone

from cases import demo as case_demo
from cases import services as case_services
from cases.choices import Origin, PartyKind
from cases.models import Case
from command_center.models import Event
from core.exceptions import DomainError
from grids.demo import DEFAULT_SEED


@transaction.atomic
def load(seed: int = DEFAULT_SEED, *, stdout=None, results=None, large=False, **_ignored) -> dict:
    p = case_demo.people()
    if p["street"] is None or p["leader"] is None or len(p["officers"]) < 2:
        return {"cases_from_events": 0}
    filed = set(Case.objects.filter(origin=Origin.EVENT).values_list("origin_event_id", flat=True))
    events = [e for e in Event.objects.filter(street=p["street"], subject__isnull=False).exclude(matter_code="")
              .select_related("subject").order_by("id")[:20] if e.pk not in filed][:3]
    made = []
    for event in events:
        try:
            case = case_services.file_case(
                p["leader"], origin=Origin.EVENT, event_id=event.pk, party_kind=PartyKind.BUSINESS,
                subject=event.subject, facts=event.description, facts_on=timezone.localdate(event.created_at),
                matter_codes=[event.matter_code], handler_ids=[o.pk for o in p["officers"]])
        except DomainError:  # e.g. an event whose matter is not in the catalog version of its day: skip it
            continue
        made.append(case)
    if made:
        code = made[0].matters.get().matter.code
        case_demo.advance(made[0], "decided", handler=p["officers"][0].user, leader=p["leader"], reviewer=p["bureau"],
                          outcomes=[case_demo.outcome(code, fine="500")])
    return {"cases_from_events": len(made)}
