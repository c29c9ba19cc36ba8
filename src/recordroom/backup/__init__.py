"""Backup and restore: a consistent copy of the database and the document store with
a manifest of hashes (keys go elsewhere), and a verified restore into an empty folder.

Public: create_backup, export_keys, restore_backup, RestoreFailed, Progress.
"""

from .manifest import Progress
from .services import (
    BackupSummary,
    RestoreFailed,
    RestoreSummary,
    create_backup,
    export_keys,
    restore_backup,
)

__all__ = [
    "BackupSummary",
    "Progress",
    "RestoreFailed",
    "RestoreSummary",
    "create_backup",
    "export_keys",
    "restore_backup",
]
