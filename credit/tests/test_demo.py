"""The demo spread: about 70% green, 20% yellow, 10% red, with histories; the same for the same seed.
Checked on the whole demo (the session's one `load_demo`: the demo_district fixture), as `make run` shows it."""
from credit import demo
from credit.models import CreditFact, CreditHistory, CreditScore, SensorReading


def test_demo_gives_a_realistic_spread_with_histories(demo_district):
    counts = demo_district.results["credit.demo.load"]
    n = CreditScore.objects.count()
    assert n == counts["scored"] > 100
    share = {c: CreditScore.objects.filter(color=c).count() / n for c in ("green", "yellow", "red")}
    assert 0.6 <= share["green"] <= 0.8, share
    assert 0.12 <= share["yellow"] <= 0.28, share
    assert 0.05 <= share["red"] <= 0.15, share
    assert CreditHistory.objects.values("changed_at").distinct().count() >= 3  # colours changed over time
    assert SensorReading.objects.exists() and CreditFact.objects.filter(kind="sensor_exceedance").exists()
    red = CreditScore.objects.filter(color="red").first()
    assert red.reasons["factors"] or red.reasons["sensor_rules"]
    # Deterministic and idempotent: loading again posts nothing new.
    again = demo.load()
    assert again["posted"] == 0 and again["facts"] == counts["facts"]
