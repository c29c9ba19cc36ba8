"""Background work on the audit trail (run by `recordroom worker`)."""

from __future__ import annotations

from django_tasks import task

from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

from .checkpoints import CheckpointError, verify_all
from .models import Outcome
from .services import record


@task()
def verify_chain_task() -> dict[str, object]:
    """Verify the whole keyed chain and every signed checkpoint, and record the result
    as an audit event (R-SEC-2 review)."""
    try:
        result = verify_all().result
        events, broken, reason = result.count, result.broken_id, result.reason
    except CheckpointError as exc:
        events, broken, reason = 0, None, str(exc)
    record(
        actor=Actor(channel="worker"),
        action=actions.AUDIT_VERIFY.name,
        outcome=Outcome.FAILURE if reason else Outcome.SUCCESS,
        detail={"events": events, "broken_id": broken, "reason": reason},
    )
    return {"intact": not reason, "events": events, "reason": reason}
