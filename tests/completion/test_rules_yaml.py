"""Deficiency rules as data: versioned on change, exported and imported as YAML."""

from __future__ import annotations

import json

import pytest
import yaml

from recordroom.audit.models import AuditEvent
from recordroom.completion.models import DeficiencyRule
from recordroom.completion.rules import export_rules, import_rules, save_rule
from recordroom.kernel.errors import ValidationFailed

from .charts import SYSTEM


def test_default_rules_cite_their_rule_ids(db):
    cites = dict(DeficiencyRule.objects.values_list("code", "cites"))
    assert cites["hp-admission"] == "R-RC-3"
    assert cites["operative-report"] == "R-RC-4"
    assert cites["pre-anesthesia"] == cites["post-anesthesia"] == "R-RC-5"
    assert cites["discharge-summary"] == "R-RC-6"
    assert cites["verbal-order"] == "R-RC-2"
    assert all(r.versions.count() == 1 for r in DeficiencyRule.objects.all())


def test_a_change_is_a_new_version_keeping_the_previous(db):
    rule = DeficiencyRule.objects.get(code="discharge-summary")
    rule.due_hours = 14 * 24
    assert save_rule(actor=SYSTEM, rule=rule, reason="bylaws: 14 days") is True
    assert save_rule(actor=SYSTEM, rule=rule) is False  # nothing changed
    versions = list(rule.versions.order_by("version"))
    assert [(v.version, v.data["due_hours"]) for v in versions] == [(1, 720), (2, 336)]
    assert (versions[1].changed_by, versions[1].reason) == ("<test>", "bylaws: 14 days")
    event = AuditEvent.objects.filter(action="completion.rule").latest("id")
    assert json.loads(event.detail)["previous"]["due_hours"] == 720


def test_yaml_round_trip(db):
    text = export_rules()
    data = yaml.safe_load(text)
    assert len(data["rules"]) == DeficiencyRule.objects.count() == 10
    first = data["rules"][0]
    assert list(first)[:3] == ["code", "name", "cites"]
    # Unchanged, the file changes nothing.
    again = import_rules(actor=SYSTEM, text=text)
    assert (again.created, again.changed, len(again.unchanged)) == ([], [], 10)
    # Edited and a new rule added: one changed (version 2), one created (version 1).
    for rule in data["rules"]:
        if rule["code"] == "verbal-order":
            rule["due_hours"] = 24
    data["rules"].append({**data["rules"][0], "code": "hp-north", "facility": "NORTH",
                          "service": "cardiology"})  # fmt: skip
    from tests import factories

    factories.facility("NORTH")
    result = import_rules(actor=SYSTEM, text=yaml.safe_dump(data), reason="policy")
    assert (result.created, result.changed) == (["hp-north"], ["verbal-order"])
    vo = DeficiencyRule.objects.get(code="verbal-order")
    assert (vo.due_hours, vo.version) == (24, 2)
    assert DeficiencyRule.objects.get(code="hp-north").facility.code == "NORTH"
    assert yaml.safe_load(export_rules())["rules"] == sorted(
        data["rules"], key=lambda r: r["code"])  # fmt: skip


def test_a_bad_rule_refuses_the_whole_file_by_name(db):
    bad = "rules:\n  - code: verbal-order\n    due_hours: 12\n  - code: x\n    colour: red\n"
    with pytest.raises(ValidationFailed, match="rule x: unknown fields colour"):
        import_rules(actor=SYSTEM, text=bad)
    assert DeficiencyRule.objects.get(code="verbal-order").due_hours == 48
    with pytest.raises(ValidationFailed, match="missing-document rule names its"):
        import_rules(
            actor=SYSTEM, text="rules:\n  - code: hp-admission\n    doc_types: []\n"
        )
