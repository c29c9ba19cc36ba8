"""`recordroom manage reindex_text [--all] [--document ID]`: index the text of document
versions for search inside documents (records.fulltext.reindex), in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Index the text of document versions never indexed (after an upgrade, a "
        "restore or a bulk load); --all indexes every version again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true",
                            help="index every version again, not only the missing")  # fmt: skip
        parser.add_argument("--document", help="only this document's versions (id)")

    def handle(self, *args: Any, **options: Any) -> None:
        from recordroom.records.fulltext import reindex
        from recordroom.records.models import Document

        document = None
        if options["document"]:
            document = Document.objects.filter(pk=options["document"]).first()
            if document is None:
                raise CommandError(f"no document with id {options['document']!r}")

        def progress(done: int, total: int) -> None:
            if done == total or done % 100 == 0:
                self.stdout.write(f"{done}/{total} versions")

        done = reindex(missing_only=not options["all"], document=document,
                       progress=progress)  # fmt: skip
        self.stdout.write(
            f"indexed {done.versions} versions: {done.pages} pages with text"
        )
