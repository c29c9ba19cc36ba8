"""Query metrics a CDI manager reads, per provider and per template: queries sent,
answered, still open, the response rate, the time to answer (median and mean hours)
and the agreement rate.

* response rate = answered / (sent - withdrawn)
* agreement rate = agreed / answered with a known outcome (an "other" or open-ended
  answer counts once a specialist has judged it)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from .models import Query, Status
from .services import visible


@dataclass
class Line:
    key: str
    label: str
    sent: int = 0
    answered: int = 0
    open: int = 0
    withdrawn: int = 0
    agreed: int = 0
    judged: int = 0
    hours: list[float] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        asked = self.sent - self.withdrawn
        return round(100 * self.answered / asked, 1) if asked else None

    @property
    def agreement_rate(self) -> float | None:
        return round(100 * self.agreed / self.judged, 1) if self.judged else None

    @property
    def median_hours(self) -> float | None:
        return round(median(self.hours), 1) if self.hours else None

    @property
    def mean_hours(self) -> float | None:
        return round(sum(self.hours) / len(self.hours), 1) if self.hours else None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "sent": self.sent,
                "answered": self.answered, "open": self.open,
                "withdrawn": self.withdrawn, "agreed": self.agreed,
                "judged": self.judged, "response_rate": self.response_rate,
                "agreement_rate": self.agreement_rate,
                "median_hours_to_answer": self.median_hours,
                "mean_hours_to_answer": self.mean_hours}  # fmt: skip


@dataclass
class Metrics:
    total: Line
    by_provider: list[Line]
    by_template: list[Line]

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total.as_dict(),
                "by_provider": [x.as_dict() for x in self.by_provider],
                "by_template": [x.as_dict() for x in self.by_template]}  # fmt: skip


def _add(line: Line, q: Query) -> None:
    line.sent += 1
    if q.status == Status.OPEN:
        line.open += 1
    elif q.status == Status.WITHDRAWN:
        line.withdrawn += 1
    else:
        line.answered += 1
        if q.hours_to_answer is not None:
            line.hours.append(q.hours_to_answer)
        if q.agreed is not None:
            line.judged += 1
            line.agreed += int(q.agreed)


def compute(*, user: Any, since: datetime | None = None, until: datetime | None = None,
            facility: str = "") -> Metrics:  # fmt: skip
    """The metrics of the queries sent in [since, until) at the user's facilities."""
    qs = visible(user)
    if since is not None:
        qs = qs.filter(raised_at__gte=since)
    if until is not None:
        qs = qs.filter(raised_at__lt=until)
    if facility:
        qs = qs.filter(facility__code=facility)
    total = Line("all", "All queries")
    providers: dict[str, Line] = {}
    templates: dict[str, Line] = {}
    for q in qs.order_by():
        _add(total, q)
        pkey = str(q.provider_id)
        _add(providers.setdefault(pkey, Line(pkey, str(q.provider))), q)
        tkey = q.template.code if q.template else "(none)"
        tlabel = q.template.name if q.template else "Written without a template"
        _add(templates.setdefault(tkey, Line(tkey, tlabel)), q)
    return Metrics(total, sorted(providers.values(), key=lambda x: x.label),
                   sorted(templates.values(), key=lambda x: x.label))  # fmt: skip
