"""Background work of the records app (run by `recordroom worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def index_text(version_id: str) -> int:
    """Index a stored version's text for search inside documents (fulltext)."""
    from .fulltext import index_version
    from .models import DocumentVersion

    version = DocumentVersion.objects.filter(pk=version_id).first()
    return index_version(version) if version is not None else 0


@task()
def index_missing_text() -> int:
    """Index every version never indexed (after a bulk load such as the demo's, an
    upgrade or a restore); returns the pages indexed."""
    from .fulltext import reindex

    return reindex(missing_only=True).pages
