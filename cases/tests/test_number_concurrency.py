"""Case numbers under concurrent filings on PostgreSQL: the per-(street, year) counter row is locked by
each filing transaction, so numbers neither repeat nor skip."""
import threading

import pytest
from django.db import connection

from cases.models import Case

pytestmark = pytest.mark.integration


@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_get_consecutive_numbers(file_case):
    assert connection.vendor == "postgresql"
    n = 12
    barrier = threading.Barrier(n)
    errors = []

    def work():
        from django.db import connections

        try:
            barrier.wait(timeout=30)
            file_case()
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    numbers = sorted(Case.objects.values_list("number", flat=True))
    year = Case.objects.first().filed_at.year
    assert numbers == [f"S1-{year}-{i:04d}" for i in range(1, n + 1)]
