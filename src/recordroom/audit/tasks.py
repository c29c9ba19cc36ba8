"""Background work on the audit trail (run by `recordroom worker`)."""

from __future__ import annotations

from django_tasks import task

from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

from .chain import verify
from .models import Outcome
from .services import record


@task()
def verify_chain_task() -> dict[str, object]:
    """Verify the whole chain and record the result as an audit event (R-SEC-2 review)."""
    result = verify()
    record(
        actor=Actor(channel="worker"),
        action=actions.AUDIT_VERIFY.name,
        outcome=Outcome.SUCCESS if result.intact else Outcome.FAILURE,
        detail={
            "events": result.count,
            "broken_id": result.broken_id,
            "reason": result.reason,
        },
    )
    return {"intact": result.intact, "events": result.count, "reason": result.reason}
