"""The demo's casework, through `manage.py load_demo` (the session's one load: the demo_district fixture)."""
from cases.choices import AppealResult, Origin, Status
from cases.models import Appeal, Case, ColorAppeal, QualityReview
from credit.models import CreditFact


def test_demo_has_cases_in_every_state(demo_district):
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    assert Case.objects.filter(origin=Origin.EVENT).exists() and Case.objects.filter(origin=Origin.DIRECT).exists()
    from_finding = Case.objects.filter(origin=Origin.FINDING).select_related("finding__referral").first()
    assert from_finding is not None and from_finding.finding.referral.consumed_at is not None
    assert Case.objects.filter(matters__lenient_ground="first").exists()
    assert Case.objects.filter(matters__outcome="reduced").exists()
    assert Appeal.objects.filter(result=AppealResult.PENDING).exists()
    assert QualityReview.objects.exists()
    assert ColorAppeal.objects.filter(result=AppealResult.PENDING).exists()
    assert CreditFact.objects.filter(source_app="cases", contested_at__isnull=False).exists()
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
