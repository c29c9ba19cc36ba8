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
