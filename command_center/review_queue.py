"""The team leader's review queue (待我审核): everything waiting for the leader, from every app that has
something to review, merged oldest deadline first (core.review.ReviewItem.sort_key).

SOURCES lists the source functions, `fn(user) -> list[ReviewItem]`, each scoped by the user's areas and
costing one query. Events are the first; the cases and inspections apps add theirs here at merge
(`cases.selectors.review_items`, `inspections.selectors.review_items`)."""
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from cases import selectors as case_selectors
from command_center import selectors
from command_center.choices import Status
from core.exceptions import Forbidden
from inspections import selectors as inspection_selectors
from core.review import ReviewItem
from core.roles import BUREAU_STAFF, TEAM_LEADER, has_role

# Who has a review queue: the streets' team leaders, and bureau staff (who may act for them).
REVIEWER_ROLES = (TEAM_LEADER, BUREAU_STAFF)


def review_hours() -> int:
    """How long a handled event may wait for review (setting EVENT_REVIEW_HOURS, default 24)."""
    return int(getattr(settings, "EVENT_REVIEW_HOURS", 24))


def event_review_items(user) -> list[ReviewItem]:
    """Handled events waiting for review in the user's areas (one query)."""
    rows = (selectors.events_for(user).filter(status=Status.UNDER_REVIEW).prefetch_related(None)
            .values("id", "problem_type_name", "problem_type_code", "address", "street__code", "street__name",
                    "resolved_at", "updated_at"))
    hours = timedelta(hours=review_hours())
    page = reverse("review")
    items = []
    for r in rows:
        since = r["resolved_at"] or r["updated_at"]
        items.append(ReviewItem(
            kind="event", id=r["id"],
            title=_("事件 #%(id)s %(type)s %(where)s") % {
                "id": r["id"], "type": r["problem_type_name"] or r["problem_type_code"], "where": r["address"]},
            street=r["street__code"] or "", street_name=r["street__name"] or "", waiting_since=since,
            due_at=since + hours, url=f"{page}#event-{r['id']}",
            api_url=reverse("event-detail", kwargs={"pk": r["id"]})))
    return items


# The sources of the queue, in one place. The integrator adds cases and inspections here.
SOURCES = [event_review_items, case_selectors.review_items, inspection_selectors.review_items]


def may_review(user) -> bool:
    return has_role(user, *REVIEWER_ROLES)


def items_for(user) -> list[ReviewItem]:
    """The merged queue, oldest deadline first. Officers, dispatchers and API clients have none (403)."""
    if not may_review(user):
        raise Forbidden(_("只有执法队长或区综合执法局工作人员有待审核事项。"))
    items = [item for source in SOURCES for item in source(user)]
    return sorted(items, key=ReviewItem.sort_key)


def items_for_request(request) -> list[ReviewItem] | None:
    """The queue of the request's user, computed once per request (the header count and the page share
    it); None for users without a queue."""
    cached = getattr(request, "_review_items", False)
    if cached is False:
        cached = items_for(request.user) if may_review(request.user) else None
        request._review_items = cached
    return cached
