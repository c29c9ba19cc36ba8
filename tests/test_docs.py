"""Docs are checked: every setting, role, capability, audit action and CLI command."""

import re
from pathlib import Path

from recordroom.accounts.roles import PERMISSIONS, ROLES
from recordroom.cli.reference import markdown
from recordroom.kernel.actions import all_actions
from recordroom.settings import ENV_SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current():
    current = (DOCS / "cli.md").read_text()
    assert current == markdown(), (
        "docs/cli.md is stale: python -m recordroom.cli.reference > docs/cli.md"
    )


def test_admin_guide_documents_every_setting_role_capability_and_action():
    guide = (DOCS / "admin-guide.md").read_text()
    missing = [s.name for s in ENV_SETTINGS if f"`{s.name}`" not in guide]
    missing += [r.key for r in ROLES.values() if f"`{r.key}`" not in guide]
    missing += [p for p in PERMISSIONS if f"`{p}`" not in guide]
    missing += [a.name for a in all_actions() if f"`{a.name}`" not in guide]
    assert missing == [], f"undocumented in docs/admin-guide.md: {missing}"


def test_readme_gives_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


# Sections of docs/performance.md that hold no figure of their own.
_NO_FIGURES = {"Reproducing everything", "Notes for later"}
_SHA = re.compile(r"`[0-9a-f]{7,40}`")


def test_every_performance_figure_names_the_commit_it_was_measured_on():
    """Each figure section names a commit in its heading or its **Measured at**
    line, and each Summary row names one in its last column."""
    text = (DOCS / "performance.md").read_text()
    sections = re.split(r"(?m)^## ", text)[1:]
    unnamed = []
    for section in sections:
        title, _, body = section.partition("\n")
        if title.strip() in _NO_FIGURES:
            continue
        if title.strip() == "Summary":  # a commit per row, in the last column
            rows = [ln for ln in body.splitlines() if ln.startswith("| ")][1:]
            unnamed += [r[:60] for r in rows if not _SHA.search(r.split("|")[-2])]
            continue
        measured = [ln for ln in body.splitlines() if ln.startswith("**Measured at**")]
        if not (_SHA.search(title) or any(_SHA.search(ln) for ln in measured)):
            unnamed.append(title.strip())
    assert unnamed == [], f"performance.md figures without a commit: {unnamed}"
