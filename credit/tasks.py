"""Celery tasks: thin wrappers around credit.services.rescoring."""
from celery import shared_task

from credit.choices import HistoryCause
from credit.services import rescoring


@shared_task(name="credit.tasks.rescore_all", ignore_result=True)
def rescore_all(category_ids=None, cause=HistoryCause.RESCORE):
    """The nightly full rescore (decay, expired overrides), and the rescore after a policy change."""
    return rescoring.rescore_all(category_ids=category_ids, cause=cause)


@shared_task(name="credit.tasks.rescore_subject", ignore_result=True)
def rescore_subject(subject_id):
    return rescoring.rescore_subject(subject_id).pk
