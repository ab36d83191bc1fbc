"""Reference data kept in each process, checked against shared counters: the way grids.spatial keeps the
area index, for the small tables every request reads (SLA policies, webhook subscriptions, users' roles
and areas).

Each topic has a counter row (`ReferenceVersion`). Database triggers bump it inside the writer's
transaction on every insert, update or delete of the tables behind the topic (migrations: command_center
0011, grids 0004), so QuerySet.update(), raw SQL and other programs are seen too. A process drops its
copy of a topic
- at once, when it changes one of those tables itself (`note_change`, from signals: the writer's own
  next read sees its write), and again when that transaction commits;
- when the counter moved: all counters are read in one small query at most every
  REFERENCE_CACHE_CHECK_SECONDS (default AREA_INDEX_CHECK_SECONDS), so other processes converge within
  that time, as they do for the area index and routing's catalog.

The caches hold what the rules read, never the rules: the services decide with the same code as before.
"""
import threading
import time

from django.conf import settings

SLA = "sla"
WEBHOOKS = "webhooks"
USERS = "users"  # a user's roles, areas (and their paths), active / superuser flags, API tokens
TOPICS = (SLA, WEBHOOKS, USERS)
# What else a change of a topic makes stale: which subscriptions match depends on their clients' roles
# and areas.
ALSO_DROPS = {USERS: (WEBHOOKS,)}

MAX_KEYED_ENTRIES = 20_000  # per keyed topic: past this it starts afresh (a bound, not an eviction policy)

_lock = threading.Lock()
_state = {"stamp": None, "checked": float("-inf")}
_values: dict[tuple, object] = {}   # (topic, name) -> value
_keyed: dict[tuple, dict] = {}      # (topic, name) -> {key: value}


def _check_seconds() -> float:
    return float(getattr(settings, "REFERENCE_CACHE_CHECK_SECONDS", settings.AREA_INDEX_CHECK_SECONDS))


def _db_stamp() -> dict:
    from core.models import ReferenceVersion

    return dict(ReferenceVersion.objects.values_list("topic", "n"))


def _checked():
    """Drop the topics whose counter moved since last looked at (at most every check interval)."""
    now = time.monotonic()
    if now - _state["checked"] < _check_seconds():
        return
    if _state["stamp"] is None and _state["checked"] == float("-inf"):
        # The first read since start (or invalidate()): load, and learn the counters at the next check,
        # which then drops everything once (no stamp to compare with); no extra query on this request.
        _state["checked"] = now
        return
    stamp = _db_stamp()
    with _lock:
        old = _state["stamp"]
        if old is not None:
            for topic in TOPICS:
                if stamp.get(topic) != old.get(topic):
                    _drop(topic)
        else:
            _drop_all()
        _state["stamp"] = stamp
        _state["checked"] = time.monotonic()


def _drop(topic):
    topics = (topic, *ALSO_DROPS.get(topic, ()))
    for store in (_values, _keyed):
        for key in [k for k in store if k[0] in topics]:
            del store[key]


def _drop_all():
    _values.clear()
    _keyed.clear()


def get(topic: str, name: str, load):
    """The process's copy of `load()` under `topic`, loaded when missing or stale."""
    _checked()
    key = (topic, name)
    try:
        return _values[key]
    except KeyError:
        pass
    value = load()
    with _lock:
        _values[key] = value
    return value


def get_keyed(topic: str, name: str, key, load):
    """The process's copy of `load(key)` (one user's roles, say) under `topic`."""
    _checked()
    store = _keyed.get((topic, name))
    if store is not None and key in store:
        return store[key]
    value = load(key)
    with _lock:
        store = _keyed.setdefault((topic, name), {})
        if len(store) >= MAX_KEYED_ENTRIES:
            store.clear()
        store[key] = value
    return value


def forget_keyed(topic: str, name: str, key):
    """Drop one keyed entry (a lookup that found nothing is not worth keeping)."""
    with _lock:
        store = _keyed.get((topic, name))
        if store is not None:
            store.pop(key, None)


def invalidate(*topics):
    """Drop this process's copies of `topics` (all when none named); the next read loads them afresh."""
    with _lock:
        if not topics:
            _drop_all()
            _state["stamp"] = None
            _state["checked"] = float("-inf")
        for topic in topics:
            _drop(topic)


def note_change(*topics):
    """This process changed tables behind `topics` (signal receivers call it inside the writer's
    transaction): drop its copies now, so this thread never reads a stale one, and once more on commit
    (another thread may have loaded the old rows meanwhile). The triggers tell the other processes."""
    from django.db import transaction

    invalidate(*topics)
    transaction.on_commit(lambda: invalidate(*topics))


# --- the triggers (used by the migrations of the apps that own the tables) -----------------------

def trigger_sql(vendor: str, table: str, topic: str, columns=None) -> tuple[list[str], list[str]]:
    """(create, drop) statements of the triggers that bump `topic`'s counter on every write to `table`
    (`columns`: on updates, only when one of these changes)."""
    name = f"refcache_{topic}_{table}"[:60]
    bump = f"UPDATE core_referenceversion SET n = n + 1 WHERE topic = '{topic}'"
    of = f" OF {', '.join(columns)}" if columns else ""
    if vendor == "postgresql":
        func = f"{name}_fn"
        return ([
            f"CREATE OR REPLACE FUNCTION {func}() RETURNS trigger AS $$ BEGIN {bump}; RETURN NULL; END; $$ "
            "LANGUAGE plpgsql",
            # Statement-level: a bulk write bumps once.
            f"CREATE TRIGGER {name}_rows AFTER INSERT OR DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT "
            f"EXECUTE PROCEDURE {func}()",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE{of} ON {table} FOR EACH STATEMENT EXECUTE PROCEDURE {func}()",
        ], [
            f"DROP TRIGGER IF EXISTS {name}_rows ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_upd ON {table}",
            f"DROP FUNCTION IF EXISTS {func}()",
        ])
    if vendor == "sqlite":
        return ([
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} BEGIN {bump}; END",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} BEGIN {bump}; END",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE{of} ON {table} BEGIN {bump}; END",
        ], [f"DROP TRIGGER IF EXISTS {name}_{s}" for s in ("ins", "del", "upd")])
    return [], []


def triggers_operation(specs):
    """A migration operation installing the triggers of `specs` [(table, topic, columns or None), …] on
    SQLite and PostgreSQL (other databases rely on the signal receivers and the per-process drop)."""
    from django.db import migrations

    def run(create: bool):
        def apply(apps, schema_editor):
            for table, topic, columns in specs:
                up, down = trigger_sql(schema_editor.connection.vendor, table, topic, columns)
                for sql in (up if create else down):
                    schema_editor.execute(sql)
        return apply

    return migrations.RunPython(run(True), run(False))


def watch(topic: str, *senders, m2m=()):
    """Connect receivers that call `note_change(topic)` on every save or delete of `senders` and every
    change of the many-to-many relations `m2m` (their `through` models), from the app's ready()."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    def changed(sender, **kwargs):
        note_change(topic)

    for model in senders:
        uid = f"refcache.{topic}.{model._meta.label_lower}"
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"{uid}.saved")
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"{uid}.deleted")
    for through in m2m:
        m2m_changed.connect(changed, sender=through, weak=False,
                            dispatch_uid=f"refcache.{topic}.{through._meta.label_lower}.m2m")
