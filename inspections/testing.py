"""Test support for inspections: months and working days as the planner counts them."""
from datetime import date, timedelta

from inspections import services


def next_month(today: date | None = None) -> date:
    today = today or date.today()
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def workday_in(first: date, skip: int = 0) -> date:
    days = services.working_days(first)
    return days[skip]


def month_str(first: date) -> str:
    return f"{first:%Y-%m}"
