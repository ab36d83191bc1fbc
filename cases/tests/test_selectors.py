from cases import selectors, services
from grids.testing import *  # noqa: F403


def test_review_items_for_the_leader(users, file_case, walk):
    at_review = walk(file_case(), "review")
    appealed = walk(file_case(), "closed")
    services.appeal(users["leader_s1"], appealed, kind="complaint", grounds="不服")
    offered = file_case()
    services.transfer(users["leader_s1"], offered, target="street", to_street_code="S2", reason="属地")
    items = selectors.review_items(users["leader_s1"])
    assert {(i.kind, i.id) for i in items} >= {("case", at_review.pk), ("appeal", appealed.appeals.get().pk)}
    assert all(i.street == "S1" for i in items)
    theirs = selectors.review_items(users["leader_s2"])
    assert [(i.kind, i.id) for i in theirs] == [("case", offered.pk)]  # the transfer waits for S2's leader
    assert selectors.review_items(users["officer_s1"]) == []
