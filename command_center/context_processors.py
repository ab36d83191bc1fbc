"""The review count in every page's header (待我审核 N), for team leaders and bureau staff."""
from django.utils.functional import SimpleLazyObject

from command_center import review_queue


def review_count(request):
    """`review_count`: None for users without a queue; computed only when a template reads it, once per
    request (one query per source of the queue)."""
    if not getattr(getattr(request, "user", None), "is_authenticated", False) or not review_queue.may_review(request.user):
        return {"review_count": None}

    def count():
        return len(review_queue.items_for_request(request))

    return {"review_count": SimpleLazyObject(count)}
