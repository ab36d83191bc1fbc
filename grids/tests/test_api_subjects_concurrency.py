"""Two real requests racing for the same licence number (PostgreSQL: the integration suite)."""
import threading

import pytest

from grids.models import Subject

URL = "/api/v1/subjects/"
NEW = {"name": "新开小店", "category": "FOOD-R", "lat": 30.6, "lng": 120.6, "licence_no": "LIC-NEW"}


@pytest.mark.integration  # SQLite's shared-cache test database refuses concurrent writers outright
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_same_licence_never_500(users, api, district, categories):
    """Race two real creates; whatever the interleaving, one wins and the other gets 400/409."""
    results = []
    barrier = threading.Barrier(2)

    def create():
        from django.db import connection

        try:
            barrier.wait()
            results.append(api(users["bureau"]).post(URL, NEW, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == 201 and sorted(results)[1] in (400, 409), results
    assert Subject.objects.filter(licence_no="LIC-NEW").count() == 1
