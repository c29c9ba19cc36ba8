"""The desk's configuration is edited in the admin by administrators; requests,
authorizations and disclosures are not editable there."""

from __future__ import annotations

from tests import factories
from tests.web.conftest import signed_in


def test_deadline_rules_and_fee_schedules_are_admin_data(db, facility):
    admin = factories.user("adm1", "administrator", facilities=[facility])
    client = signed_in(admin)
    page = client.get("/admin/release/deadlinerule/")
    assert page.status_code == 200 and b"R-ACC-2" in page.content
    assert client.get("/admin/release/feeschedule/").status_code == 200
    for model in ("releaserequest", "authorization", "disclosure"):
        assert client.get(f"/admin/release/{model}/").status_code == 404
    roi = factories.user("roi9", "roi_specialist", facilities=[facility])
    assert signed_in(roi).get("/admin/release/deadlinerule/").status_code == 302
