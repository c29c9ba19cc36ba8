"""`recordroom mpi dashboard`: the dashboard's measures as tables, in-process on the
test database (the index of tests/mpi/test_dashboard.py)."""

from __future__ import annotations

import re

from tests import factories
from tests.mpi.test_dashboard import index  # noqa: F401 (the fixture)
from typer.testing import CliRunner

from recordroom.cli.app import app

runner = CliRunner(env={"COLUMNS": "200"})


def _cells(output: str) -> str:
    """The tables' text, cells separated by single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩└┘┌┐├┤┼╇╈╋╺╸╹╻═║╔╗╚╝]", " ", output))


def test_the_measures_as_tables(index):  # noqa: F811
    result = runner.invoke(app, ["mpi", "dashboard"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = _cells(result.output)
    assert "NORTH 10 1 3 40.0%" in text and "SOUTH 3 0 1 33.3%" in text
    assert "all 12 1 4 41.7%" in text
    assert "ed-reg ui 3 1 2 100.0%" in text
    assert "duplicate pairs (4 scan, 1 registrations) 5 5 0 0" in text
    assert "overlay signs 0" in text
    assert "1 (0 reviewed correct, 0 wrong, 1 not reviewed)" in text
    assert "OKONJO" not in result.output.upper()  # counts only


def test_the_measures_of_one_users_facilities(index):  # noqa: F811
    factories.user("north-cli", "him_specialist", facilities=[index.north])
    result = runner.invoke(app, ["mpi", "dashboard", "--user", "north-cli"],
                           catch_exceptions=False)  # fmt: skip
    text = _cells(result.output)
    assert "NORTH 10 1 3 40.0%" in text and "SOUTH" not in text
    missing = runner.invoke(app, ["mpi", "dashboard", "--user", "nobody"])
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output
