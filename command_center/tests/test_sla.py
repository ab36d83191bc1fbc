"""The SLA clock: policies, the sweep (fires each due deadline exactly once), breaches and escalation."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from command_center import selectors, sla, tasks
from command_center.choices import Status
from command_center.models import Breach, Deadline, Escalation, Event, SlaPolicy, TimelineEntry
from command_center.services import escalation, policies, sweep, transitions
from core.exceptions import Forbidden, ValidationFailed
from core.models import AuditLog
from core.testing import in_threads


@pytest.mark.django_db
class TestPolicies:
    def test_district_defaults_are_seeded_from_the_presets(self):
        got = dict(SlaPolicy.objects.filter(street__isnull=True).values_list("severity", "name"))
        assert got == {sev: sla.PRESETS[code]["name"] for sev, code in sla.DEFAULT_PRESET_BY_SEVERITY.items()}

    def test_presets_carry_the_articles_figures(self):
        minutes = {code: [(s["stage"], s["minutes"]) for s in p["stages"]] for code, p in sla.PRESETS.items()}
        assert minutes["1510"] == [("sign_for", 1), ("arrive", 5), ("handle", 10)]
        assert minutes["1358"] == [("respond", 1), ("link_up", 3), ("arrive", 5), ("report", 8)]
        assert minutes["1315"] == [("respond", 1), ("set_out", 3), ("handle", 15)]
        assert minutes["20"] == [("arrive", 20)]
        for p in sla.PRESETS.values():
            assert sla.validate_stages(p["stages"]) == p["stages"]

    def test_fallback_to_the_builtin_preset_without_rows(self, district):
        SlaPolicy.objects.all().delete()
        name, stages = selectors.policy_for(district["S1"], "red")
        assert (name, stages) == (sla.PRESETS["1510"]["name"], sla.PRESETS["1510"]["stages"])

    def test_save_policy_validates(self, users, district):
        bad = [{"stage": "a", "minutes": 5, "met_by": "accept"}, {"stage": "b", "minutes": 3, "met_by": "fly"},
               {"stage": "a", "minutes": 0, "met_by": "arrive", "escalate_to": "mars"}]
        with pytest.raises(ValidationFailed) as exc:
            policies.save_policy(users["bureau"], street=district["S1"], severity="red", stages=bad)
        assert len(exc.value.fields["stages"]) >= 4
        with pytest.raises(ValidationFailed):
            policies.save_policy(users["bureau"], street=district["S1G1"], severity="red", stages=sla.PRESETS["20"]["stages"])

    def test_who_may_edit_policies(self, users, district):
        stages = sla.PRESETS["1358"]["stages"]
        with pytest.raises(Forbidden):
            policies.save_policy(users["dispatcher"], street=district["S1"], severity="red", stages=stages)
        with pytest.raises(ValidationFailed):  # a street-bound bureau user: not the district default
            policies.save_policy(users["bureau_s1"], street=None, severity="red", stages=stages)
        with pytest.raises(ValidationFailed):  # nor another street
            policies.save_policy(users["bureau_s1"], street=district["S2"], severity="red", stages=stages)
        p = policies.save_policy(users["bureau_s1"], street=district["S1"], severity="red", stages=stages, name="1358")
        again = policies.save_policy(users["bureau"], street=district["S1"], severity="red", stages=sla.PRESETS["20"]["stages"])
        assert p.pk == again.pk and again.stages == sla.PRESETS["20"]["stages"]
        assert AuditLog.objects.filter(action="sla_policy.saved").count() == 2


def _due(event, stage):
    return Deadline.objects.get(event=event, stage=stage, cancelled_at__isnull=True).due_at


@pytest.mark.django_db
class TestSweep:
    def test_fires_what_is_due_once(self, report):
        e = report()  # yellow: respond 1 / set out 3 / handle 15
        now = _due(e, "respond") + timedelta(seconds=1)
        assert sweep.sweep_due_deadlines(now) == 1
        assert sweep.sweep_due_deadlines(now) == 0
        d = Deadline.objects.get(event=e, stage="respond")
        assert d.fired_at == now and d.breached_at == d.due_at and d.met_at is None
        breach = Breach.objects.get()
        assert (breach.event, breach.deadline, breach.stage, breach.status) == (e, d, "respond", Status.NEW)
        assert TimelineEntry.objects.filter(event=e, action="breach").count() == 1
        assert AuditLog.objects.filter(action="event.sla_breached", object_id=str(e.pk)).count() == 1
        e.refresh_from_db()
        assert e.escalation_level == 2 and e.version == 1  # a breach is not a decision: the ETag stays
        # later, the next stages come due
        assert sweep.sweep_due_deadlines(_due(e, "handle")) == 2
        assert Breach.objects.count() == 3

    def test_met_and_cancelled_deadlines_never_fire(self, report, users, officers):
        e = report()
        transitions.dispatch(users["dispatcher"], e, officers["s1"])
        transitions.accept(users["officer_s1"], e)
        closed = report(point=(30.7, 120.2))
        transitions.reject(users["dispatcher"], closed, "非本部门职责")
        later = e.created_at + timedelta(hours=1)
        assert sweep.sweep_due_deadlines(later) == 1  # only the unmet "handle" of e
        assert list(Breach.objects.values_list("event_id", "stage")) == [(e.pk, "handle")]

    def test_each_breach_escalates_one_step_further(self, report):
        e = report()
        sweep.sweep_due_deadlines(e.created_at + timedelta(hours=1))
        esc = list(Escalation.objects.filter(event=e).order_by("id").values_list("target", "level", "breach__stage"))
        # respond: next rank (nobody higher → team leader); set out: team leader, but already there → district
        assert esc == [("team_leader", 2, "respond"), ("district", 3, "set_out"), ("district", 3, "handle")]

    def test_works_through_more_than_one_batch(self, report):
        events = [report(point=(30.1 + i * 0.1, 120.2)) for i in range(5)]
        later = events[-1].created_at + timedelta(minutes=2)
        assert sweep.sweep_due_deadlines(later, batch=2) == 5

    def test_one_failing_deadline_does_not_stop_the_others(self, report, monkeypatch, caplog):
        bad, good = report(), report(point=(30.7, 120.2))
        real = escalation.target_for

        def flaky(event, *args, **kwargs):
            if event.pk == bad.pk:
                raise RuntimeError("boom")
            return real(event, *args, **kwargs)

        monkeypatch.setattr(escalation, "target_for", flaky)
        now = good.created_at + timedelta(minutes=2)
        assert sweep.sweep_due_deadlines(now) == 1
        assert "boom" in caplog.text
        # the failed one rolled back whole: still due, fires on a later sweep
        assert Deadline.objects.get(event=bad, stage="respond").fired_at is None
        assert Deadline.objects.get(event=good, stage="respond").fired_at is not None
        assert Breach.objects.count() == TimelineEntry.objects.filter(action="breach").count() == 1
        monkeypatch.setattr(escalation, "target_for", real)
        assert sweep.sweep_due_deadlines(now) == 1

    def test_queries_per_batch_do_not_grow_with_the_deadlines(self, report):
        """Bulk inserts and cached escalation look-ups: a batch costs the same few statements whether it
        fires 3 deadlines or 30 (what the sweep ran as ~15 statements per deadline before)."""
        def fire(n):
            events = [report(point=(30.05 + i * 0.04, 120.1 + (i % 5) * 0.08)) for i in range(n)]
            now = max(e.created_at for e in events) + timedelta(hours=1)
            with CaptureQueriesContext(connection) as ctx:
                assert sweep.sweep_due_deadlines(now) == 3 * n
            return len(ctx.captured_queries)

        few = fire(1)
        assert fire(10) == few <= 16, few

    def test_keeps_firing_as_deadlines_fall_due_until_the_next_tick(self, report):
        e = report()
        soon = timezone.now() + timedelta(seconds=0.3)
        Deadline.objects.filter(event=e, stage="respond").update(due_at=soon)
        assert sweep.keep_sweeping(0) == 0  # one sweep: not due yet
        assert sweep.keep_sweeping(2.0, poll=0.1) == 1
        d = Deadline.objects.get(event=e, stage="respond")
        assert d.fired_at >= d.due_at == soon  # never early

    def test_a_failing_deadline_is_tried_once_per_tick_not_every_poll(self, report, monkeypatch, caplog):
        bad = report()
        Deadline.objects.filter(event=bad, stage="respond").update(due_at=bad.created_at - timedelta(seconds=1))

        def broken(event, *args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(escalation, "target_for", broken)
        assert sweep.keep_sweeping(0.5, poll=0.05) == 0
        assert sum("SLA sweep: deadline" in r.getMessage() for r in caplog.records) == 1
        assert sweep.keep_sweeping(0) == 0  # the next tick tries it again
        assert sum("SLA sweep: deadline" in r.getMessage() for r in caplog.records) == 2

    def test_two_sweepers_that_saw_the_same_rows(self, report):
        """Sequential stand-in for two processes (SQLite serialises writers): the second sweeper read
        the due list before the first fired; its conditional UPDATE then matches no row."""
        e = report()
        now = _due(e, "respond") + timedelta(seconds=1)
        seen_by_second = [d for d, _ev in selectors.due_deadlines(now, 100)]
        assert sweep.sweep_due_deadlines(now) == 1
        assert sweep._claim(seen_by_second, now, now) == set()
        assert Breach.objects.count() == 1

    def test_breach_is_published_with_the_fire(self, report, settings, django_capture_on_commit_callbacks):
        """The sweep's transaction writes the batch's follow-ups (push, webhooks) as outbox rows, once per
        batch; they run right after its commit (the webhooks' by a worker: inline here)."""
        from core.models import OutboxMessage

        settings.CELERY_TASK_ALWAYS_EAGER = True

        e = report()
        OutboxMessage.objects.all().delete()
        with django_capture_on_commit_callbacks(execute=True):
            sweep.sweep_due_deadlines(_due(e, "respond"))
        rows = list(OutboxMessage.objects.order_by("kind"))
        assert [r.kind for r in rows] == ["command_center.push.sla_breached", "command_center.webhooks.sla_breached"]
        assert all(r.done_at is not None for r in rows)
        assert rows[0].payload == {"kind": "sla.breached", "breaches": [
            {"breach_id": Breach.objects.get().pk, "event_id": e.pk, "stage": "respond"}]}

    def test_overdue_selector(self, report):
        e, fresh = report(), report(point=(30.7, 120.2))
        Deadline.objects.filter(event=e).update(due_at=e.created_at - timedelta(seconds=1))
        assert list(Event.objects.filter(selectors.overdue_q()).values_list("pk", flat=True)) == [e.pk]
        assert fresh.pk not in Event.objects.filter(selectors.overdue_q()).values_list("pk", flat=True)

    def test_celery_task_runs_the_sweep(self, report, settings):
        settings.COMMAND_CENTER_SWEEP_WINDOW_SECONDS = 0  # one sweep, no watching for the rest of the tick
        e = report()
        Deadline.objects.filter(event=e, stage="respond").update(due_at=e.created_at - timedelta(seconds=1))
        assert tasks.sweep.apply().get() == 1
        entry = settings.CELERY_BEAT_SCHEDULE["command-center-sla-sweep"]
        assert entry["task"] == tasks.sweep.name and entry["schedule"] == 1.0


# --- PostgreSQL: real concurrency -------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweepers_fire_each_deadline_once(report):
    assert connection.vendor == "postgresql"
    events = [report(point=(30.05 + i * 0.04, 120.1 + (i % 5) * 0.08)) for i in range(20)]
    now = max(e.created_at for e in events) + timedelta(hours=1)
    due = Deadline.objects.filter(due_at__lte=now).count()
    results, errors = in_threads(4, lambda i: sweep.sweep_due_deadlines(now, batch=7))
    assert not errors, errors
    assert sum(results) == due == Breach.objects.count() == 60
    assert Deadline.objects.filter(fired_at__isnull=True).count() == 0
    assert TimelineEntry.objects.filter(action="breach").count() == 60


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_meeting_a_deadline_while_a_sweeper_fires_it(report, users, officers):
    """Accept and the sweep race for one deadline: either it is met in time, or fired and then met late;
    never both fired and counted on time, never fired twice."""
    for _ in range(5):
        e = report()
        transitions.dispatch(users["dispatcher"], e, officers["s1"])
        Deadline.objects.filter(event=e, stage="respond").update(due_at=e.created_at)
        now = e.created_at + timedelta(seconds=30)

        def work(i, e=e, now=now):
            return sweep.sweep_due_deadlines(now) if i == 0 else transitions.accept(users["officer_s1"], e).status

        results, errors = in_threads(2, work)
        assert not errors, errors
        d = Deadline.objects.get(event=e, stage="respond")
        assert d.met_at is not None and d.breached_at is not None
        assert Breach.objects.filter(deadline=d).count() == (1 if d.fired_at else 0)
        Event.objects.filter(pk=e.pk).update(status=Status.CLOSED)
        Deadline.objects.filter(event=e).update(cancelled_at=now)
