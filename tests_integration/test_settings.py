"""With DATABASE_URL and REDIS_URL set, the settings pick PostgreSQL, Redis channels, a Redis broker
and real (not inline) Celery tasks."""
import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from config.celery import app as celery_app

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_database_is_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_channel_layer_is_redis():
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "core.channel_layer.RedisChannelLayer"  # channels-redis's, batched


def test_celery_uses_the_redis_broker_and_does_not_run_inline():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert celery_app.conf.broker_url.startswith("redis://")
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.result_backend.startswith("redis://")


def test_cache_is_redis():
    cache = caches["default"]
    assert type(cache).__name__ == "RedisCache"
    cache.set("it-cache-probe", 42, 10)
    assert cache.get("it-cache-probe") == 42


def test_one_result_backend_per_process_not_per_thread():
    """Under ASGI each request runs on a thread of its own; a backend per thread meant Celery's entry points
    read from disk on every intake (11% of it, bench/intake.py). The Redis backend's pool is thread-safe."""
    import threading

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(celery_app.backend)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert celery_app.conf.result_backend_thread_safe is True
    assert len({id(b) for b in seen}) == 1 and seen[0] is celery_app.backend
