"""Celery tasks: thin wrappers around credit.services."""
from celery import shared_task

from credit import services
from credit.choices import HistoryCause


@shared_task(name="credit.tasks.rescore_all", ignore_result=True)
def rescore_all(category_ids=None, cause=HistoryCause.RESCORE):
    """The nightly full rescore (decay, expired overrides), and the rescore after a policy change."""
    return services.rescore_all(category_ids=category_ids, cause=cause)


@shared_task(name="credit.tasks.rescore_subject", ignore_result=True)
def rescore_subject(subject_id):
    return services.rescore_subject(subject_id).pk
