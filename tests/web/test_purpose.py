"""Purpose of use travels into the audit trail; break-the-glass cannot be claimed by header."""

from django.test import RequestFactory

from recordroom.web.request import actor_from_request


def test_stated_purpose_is_kept_and_btg_is_not_claimable(db, him):
    factory = RequestFactory()
    treat = factory.get("/", HTTP_X_PURPOSE_OF_USE="treat")
    treat.user = him
    assert actor_from_request(treat).purpose == "TREAT"
    for claimed in ("BTG", "ETREAT", "nonsense"):
        request = factory.get("/", HTTP_X_PURPOSE_OF_USE=claimed)
        request.user = him
        assert actor_from_request(request).purpose == "HOPERAT", claimed
