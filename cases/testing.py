"""Test support for casework: a matter's proposed outcome as the services take it."""
from decimal import Decimal


def outcome(code="M-SHOP", *, outcome="penalty", fine="200", measures="", ground="", reason=""):
    return {"matter_code": code, "outcome": outcome, "fine": Decimal(fine), "measures": measures,
            "lenient_ground": ground, "reason": reason}
