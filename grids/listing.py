"""Columns other apps add to the /subjects/ page. grids may not import a higher app, so an app registers its
column here when the app registry is ready (credit adds the subject's credit colour); grids' code and
templates never name the other app's relation."""
from dataclasses import dataclass


@dataclass(frozen=True)
class SubjectColumn:
    key: str
    label: str            # (lazy) text of the column's header
    template: str         # draws one cell; its context has `subject`
    select_related: tuple = ()  # relations the cell reads, joined into the page's one query
    head_template: str = ""     # drawn once in the page's <head> (the column's stylesheet link)


_columns: dict[str, SubjectColumn] = {}


def register_subject_column(column: SubjectColumn):
    _columns[column.key] = column


def subject_columns() -> list[SubjectColumn]:
    return list(_columns.values())
