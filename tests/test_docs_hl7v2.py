"""The administrator guide's list of HL7 v2 types processed is the registry's."""

import re
from pathlib import Path

from recordroom.interop.hl7v2.processed import PROCESSED

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "admin-guide.md"


def test_admin_guide_lists_exactly_the_processed_hl7_types():
    text = GUIDE.read_text()
    table = text.split("<!-- processed-types:", 1)[1].split("\n\n", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+\^\w+)` \| (.+?) \|$", table, re.M))
    assert rows == {p.code: p.description for p in PROCESSED}, (
        "docs/admin-guide.md 'Message types and events processed' differs from "
        "recordroom/interop/hl7v2/processed.py"
    )
