"""`recordroom client create / list / revoke`, run in-process against the test database."""

import pytest
from tests.accounts.oauth_helpers import basic, post_token
from tests.accounts.smart_keys import assertion, assertion_form, jwks, make_key
from typer.testing import CliRunner

from recordroom.accounts.models import ApiClient
from recordroom.audit.models import AuditEvent
from recordroom.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_create_prints_the_id_and_secret_once_and_they_get_a_token(db, facility):
    made = invoke("client", "create", "lab-feed", "--role", "him_specialist",
                  "--facility", "NORTH",
                  "--scope", "system/Patient.read system/*.rs")  # fmt: skip
    assert made.exit_code == 0, made.output
    lines = made.output.strip().splitlines()
    client = ApiClient.objects.get()
    assert lines[-2] == f"client_id: {client.client_id}"
    secret = lines[-1].removeprefix("client_secret: ")
    assert "acting as user 'client:lab-feed' (HIM specialist)" in made.output
    assert "scopes: system/Patient.read system/*.rs" in made.output
    assert client.user.facility_ids() == [facility.pk]
    token = post_token({"grant_type": "client_credentials"},
                       headers=basic(client.client_id, secret))  # fmt: skip
    assert token.status_code == 200
    assert token.json()["scope"] == "system/Patient.read system/*.rs"
    event = AuditEvent.objects.get(action="auth.client_created")
    assert event.channel == "cli" and event.username.startswith("cli:")

    listed = invoke("client", "list")
    assert client.client_id in listed.output and "active" in listed.output

    revoked = invoke("client", "revoke", client.client_id)
    assert revoked.exit_code == 0
    assert revoked.output.strip() == f"revoked client 'lab-feed' ({client.client_id})"
    assert not ApiClient.objects.get().active
    assert "revoked" in invoke("client", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "x", "--role", "coder", "--scope", "patient/*.read",
          "--all-facilities"), "scope 'patient/*.read' needs a patient launch"),
        (("create", "x", "--role", "coder", "--scope", "system/*.read"),
         "give either the facility codes"),
        (("create", "x", "--role", "coder", "--scope", "system/*.read",
          "--facility", "NOPE"), "unknown facility code(s): NOPE"),
        (("revoke", "rrc_nobody"), "no active client with client_id 'rrc_nobody'"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_exit_1(db, args, message):
    result = runner.invoke(app, ["client", *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not ApiClient.objects.exists()


def test_a_client_registered_with_a_jwks_file_signs_in_with_an_assertion(
    db, facility, tmp_path
):
    key = make_key("RS384", kid="feed-2026")
    path = tmp_path / "jwks.json"
    path.write_text(jwks(key))
    made = invoke("client", "create", "pop-health", "--role", "him_specialist",
                  "--facility", "NORTH", "--scope", "system/*.rs",
                  "--jwks", str(path))  # fmt: skip
    assert made.exit_code == 0, made.output
    client = ApiClient.objects.get()
    assert made.output.strip().splitlines()[-1] == f"client_id: {client.client_id}"
    assert "signed by key(s): feed-2026" in made.output
    assert "client_secret" not in made.output and client.secret_digest == ""
    token = post_token(assertion_form(assertion(key, client.client_id)))
    assert token.status_code == 200, token.content
    assert (
        f"{client.client_id}  pop-health  active  jwks"
        in invoke("client", "list").output
    )


def test_set_jwks_adds_keys_to_a_secret_client_and_refuses_bad_files(
    db, facility, tmp_path
):
    made = invoke("client", "create", "lab-feed", "--role", "him_specialist",
                  "--facility", "NORTH", "--scope", "system/*.read")  # fmt: skip
    client = ApiClient.objects.get()
    secret = made.output.strip().splitlines()[-1].removeprefix("client_secret: ")
    key = make_key("ES384", kid="lab-ec")
    path = tmp_path / "jwks.json"
    path.write_text(jwks(key))
    result = invoke("client", "set-jwks", client.client_id, "--file", str(path))
    assert result.exit_code == 0, result.output
    assert f"client 'lab-feed' ({client.client_id}) now has these keys:" in (
        result.output
    )
    assert "signed by key(s): lab-ec" in result.output
    event = AuditEvent.objects.get(action="auth.client_keys")
    assert event.channel == "cli"
    assert (
        post_token(assertion_form(assertion(key, client.client_id))).status_code == 200
    )
    by_secret = post_token({"grant_type": "client_credentials"},
                           headers=basic(client.client_id, secret))  # fmt: skip
    assert by_secret.status_code == 200
    assert "secret+jwks" in invoke("client", "list").output

    private = tmp_path / "private.json"
    private.write_text(
        '{"keys": [{"kty": "EC", "kid": "k", "crv": "P-384", "d": "x"}]}'
    )
    for args, message in [
        ((str(tmp_path / "missing.json"),), "cannot read the JWKS file"),
        ((str(private),), "key 1 of the JWKS ('k') holds private key material (d)"),
    ]:
        bad = runner.invoke(
            app, ["client", "set-jwks", client.client_id, "--file", *args]
        )
        assert bad.exit_code == 1
        assert message in " ".join(bad.output.split())
    assert AuditEvent.objects.filter(action="auth.client_keys").count() == 1
