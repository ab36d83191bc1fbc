"""UNCHANGED: the default of a partial update's fields, so a service can take explicit keyword fields and still
tell "not given" from None or ""."""


class _Unchanged:
    def __repr__(self):
        return "UNCHANGED"

    def __bool__(self):
        return False


UNCHANGED = _Unchanged()


def given(**fields) -> dict:
    """The fields the caller gave (those not UNCHANGED)."""
    return {k: v for k, v in fields.items() if v is not UNCHANGED}
