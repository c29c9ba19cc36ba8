"""Docs are checked: every setting, role, capability, audit action and CLI command."""

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
