"""Background work of capture (run by `recordroom worker`; several workers, on
PostgreSQL, read batches in parallel, one batch per task)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def process_batch_task(batch_id: str) -> str:
    """Run the pipeline over one batch (capture.pipeline.run_batch)."""
    from .pipeline import run_batch

    return str(run_batch(batch_id).status)


@task()
def retrain_type_model_task(only_if_changed: bool = False) -> str:
    """Retrain the document-type model on what has been filed (classify.retrain);
    with `only_if_changed` (the nightly run), only when something was filed since
    the last one."""
    from .reading.classify import filed_since_model, retrain

    if only_if_changed and not filed_since_model():
        return "unchanged"
    model = retrain()
    return f"trained on {model.documents} documents"


def nightly_retrain() -> None:
    retrain_type_model_task.enqueue(True)


def retrain_if_corrected() -> bool:
    """Queue a retraining once indexers have corrected RECORDROOM_CAPTURE_RETRAIN_AFTER
    proposed types since the model was last trained; whether one was queued."""
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from .reading.classify import retrain_due

    if not retrain_due(settings.CAPTURE_RETRAIN_AFTER):
        return False
    if DBTaskResult.objects.filter(
        status="READY", task_path__endswith=".retrain_type_model_task"
    ).exists():
        return False  # one is waiting already
    retrain_type_model_task.enqueue(False)
    return True


def enqueue_batch(batch_id: Any) -> None:
    process_batch_task.enqueue(str(batch_id))


def requeue_interrupted() -> int:
    """Queue again the batches a dead worker left (or whose task was lost): each
    resumes after its last finished step. Run when a worker starts."""
    from django_tasks_db.models import DBTaskResult

    from .pipeline import interrupted

    waiting = DBTaskResult.objects.filter(
        status__in=["READY", "RUNNING"], task_path__endswith=".process_batch_task"
    ).values_list("args_kwargs", "status")
    # a task still READY will run; a RUNNING one whose worker died will not
    queued = {
        str((a.get("args") or [""])[0]) for a, status in waiting if status == "READY"
    }
    found = [b for b in interrupted() if str(b.pk) not in queued]
    for batch in found:
        enqueue_batch(batch.pk)
    return len(found)
