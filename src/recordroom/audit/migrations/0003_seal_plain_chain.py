"""Key the audit chain: on an installation from before the audit key, append the one
`audit.chain_keyed` event that seals the plain-SHA-256 events before it (R-SEC-2).

A new installation has no events here, and this does nothing.
"""

from typing import Any

from django.db import migrations


def seal(apps: Any, schema_editor: Any) -> None:
    from recordroom.audit.services import seal_plain_chain
    from recordroom.kernel.actor import Actor

    seal_plain_chain(actor=Actor(channel="cli", name="upgrade"))


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
