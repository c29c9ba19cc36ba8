"""Capture fixtures: a source at the test facility and the user who captures."""

from __future__ import annotations

import pytest

from recordroom.capture.intake import source_named
from tests import factories


@pytest.fixture
def source(db, facility):
    return source_named("Scanner 1", kind="scanner", facility=facility)


@pytest.fixture
def capturer(db, facility):
    return factories.user("scan1", "him_specialist", facilities=[facility])


@pytest.fixture
def actor(capturer):
    return factories.actor(capturer)
