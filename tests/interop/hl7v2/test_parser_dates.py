"""HL7 date/time fields: a bad offset is refused with the field named, never a crash."""

from datetime import UTC

import pytest

from recordroom.interop.hl7v2.parser import Hl7Error, parse_datetime


def test_an_offset_past_a_day_is_refused_naming_the_field():
    with pytest.raises(
        Hl7Error, match="PV1-44 '202601011200\\+9999' is not a date/time"
    ):
        parse_datetime("202601011200+9999", "PV1-44", UTC)
    assert (
        parse_datetime("202601011200-0500", "PV1-44", UTC).utcoffset().total_seconds()
        == -18000
    )
