"""The answer to a create (command_center.api.answers) is EventDetailSerializer's, key for key: the serializer
still describes it in the OpenAPI schema and answers every read, so the two must never differ."""
import pytest
from django.utils import translation
from rest_framework.renderers import JSONRenderer

from command_center import selectors
from command_center.api import answers
from command_center.api.serializers import EventDetailSerializer
from command_center.services import transitions
from command_center.testing import S1_POINT

pytestmark = pytest.mark.django_db


def assert_same(event, user):
    for may_see_phones in (False, True):
        for language in ("zh-hans", "en"):
            with translation.override(language):
                context = {"may_see_phones": may_see_phones}
                want = dict(EventDetailSerializer(event, context=context).data)
                got = answers.event_detail(event, context)
            assert list(got) == list(want)  # the same fields, in the same order
            assert JSONRenderer().render(got) == JSONRenderer().render(want)  # byte for byte

def test_the_written_event_answers_as_the_serializer(report, users, district, categories):
    from grids.models import Subject

    Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=S1_POINT[0] + 1e-5, lng=S1_POINT[1],
                           grid=district["S1G1"])
    event = report(problem_type="YYCB", reporter_name="张三", reporter_phone="13800001111", external_id="A-1",
                   address="某路 1 号")
    assert event.subject_id and event.team_id and "_prefetched_objects_cache" in event.__dict__
    assert_same(event, users["platform"])
    assert_same(report(point=S1_POINT), users["platform"])  # no subject, no external id, no phone


def test_the_written_rows_answer_all_without_a_query_and_a_filter_still_reads_this_event_only(
        report, django_assert_num_queries):
    other = report()
    event = report()
    with django_assert_num_queries(0):
        stages = [d.stage for d in event.deadlines.all()]
        assert len(stages) == 3 and len(event.timeline.all()) == 1 and not event.photos.all()
        assert not event.assignments.all() and all(d.event is event for d in event.deadlines.all())
    stage = stages[0]
    with django_assert_num_queries(1):
        (found,) = event.deadlines.filter(stage=stage)
    assert found.event_id == event.pk != other.pk
    assert {t.event_id for t in event.timeline.filter(action="create")} == {event.pk}


def test_a_dispatched_event_read_back_answers_as_the_serializer(report, users, officers):
    event = report()
    transitions.dispatch(users["dispatcher"], event, officers["s1"])
    event = selectors.get_event_for(users["dispatcher"], event.pk, detail=True)
    assert event.officer_id and list(event.assignments.all())
    assert_same(event, users["dispatcher"])


def test_a_list_field_copy_holds_its_own_child():
    """FieldsOnce copies the multipart serializer's photo list with a child of its own, bound to the copy."""
    from command_center.api.serializers import EventMultipartInputSerializer

    a, b = EventMultipartInputSerializer().fields["photos"], EventMultipartInputSerializer().fields["photos"]
    assert a is not b and a.child is not b.child and a.child.parent is a and b.child.parent is b
