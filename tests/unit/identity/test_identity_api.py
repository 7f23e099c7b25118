"""Identity over HTTP without services: the real `Accounts` on the library's in-memory store,
in-memory sign-in sessions, the accounts view written by the real projection, a hand-moved clock."""

from api.identity.parts import IdentityParts
from projections.identity.accounts import AccountsProjection
from tests.support.api import a_node, http_to, identity_parts, unit_settings
from tests.support.clock import ManualClock
from tests.support.recorded import recorded_by
from tests.support.signing import BOT_TOKEN, telegram_init_data, telegram_widget

ADMIN_USER_ID = 1
"""The Telegram user whose identity the settings name an admin."""


def settings_for(**overrides):
    return unit_settings(
        telegram={"bot_token": BOT_TOKEN},
        identity={"admin_identities": f"telegram:{ADMIN_USER_ID}", "refresh_grace_s": 5.0},
        **overrides,
    )


def serve(settings, identity: IdentityParts):
    return http_to(settings, a_node(identity=identity))


def project(identity: IdentityParts) -> None:
    """The projection runner's work: what `Accounts` stored, through the projection, into the
    view."""
    projection = AccountsProjection()
    for event in recorded_by(identity.accounts):
        projection.apply(event)
    identity.view.write(projection.collect())


def bearer(pair: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def sign_in(http, user_id: int = 10) -> dict:
    body = {"init_data": telegram_init_data(user_id)}
    response = await http.post("/api/auth/telegram", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def refresh(http, pair: dict):
    return await http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})


# -- who is calling ----------------------------------------------------------------------------


async def test_whoami_names_the_dev_user_when_dev_auth_is_on():
    settings = settings_for(dev_auth=True)
    async with serve(settings, identity_parts(settings)) as http:
        response = await http.get(
            "/api/auth/whoami", headers={"X-Dev-User": "ann", "X-Dev-Roles": "admin"}
        )
    assert response.json() == {"signed_in": True, "account_id": "ann", "admin": True}


async def test_whoami_ignores_the_dev_headers_when_dev_auth_is_off():
    settings = settings_for(dev_auth=False)
    async with serve(settings, identity_parts(settings)) as http:
        response = await http.get("/api/auth/whoami", headers={"X-Dev-User": "ann"})
    assert response.json() == {"signed_in": False, "account_id": None, "admin": False}


async def test_a_token_that_is_not_ours_is_401_invalid_token():
    settings = settings_for(dev_auth=False)
    async with serve(settings, identity_parts(settings)) as http:
        response = await http.get("/api/auth/whoami", headers={"Authorization": "Bearer nope"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_token")


async def test_a_signed_in_account_is_who_its_access_token_says():
    settings = settings_for(dev_auth=False)
    async with serve(settings, identity_parts(settings)) as http:
        pair = await sign_in(http)
        response = await http.get("/api/auth/whoami", headers=bearer(pair))
    assert response.json() == {
        "signed_in": True, "account_id": pair["account"]["id"], "admin": False
    }


async def test_a_telegram_widget_whose_user_id_comes_as_a_string_is_refused():
    settings = settings_for()
    widget = telegram_widget(user_id=20)  # signed over the text of its fields: "20" checks out
    async with serve(settings, identity_parts(settings)) as http:
        response = await http.post("/api/auth/telegram", json={"widget": {**widget, "id": "20"}})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    problems = response.json()["detail"]["problems"]
    assert problems == [{"message": "Expected `int`, got `str`", "key": "widget.id",
                         "source": "body"}]


# -- your own account --------------------------------------------------------------------------


async def test_a_development_identity_is_told_it_has_no_account():
    settings = settings_for(dev_auth=True)
    dev = {"X-Dev-User": "ann"}
    async with serve(settings, identity_parts(settings)) as http:
        answers = [
            await http.get("/api/me", headers=dev),
            await http.post("/api/me/name", json={"display_name": "Ann"}, headers=dev),
            await http.delete("/api/me/identities/google/g1", headers=dev),
            await http.post("/api/auth/ticket", headers=dev),
        ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(403, "account_required")] * 4


async def test_me_is_404_until_the_accounts_view_has_the_account():
    settings = settings_for()
    async with serve(settings, identity_parts(settings)) as http:
        pair = await sign_in(http)
        response = await http.get("/api/me", headers=bearer(pair))
    assert (response.status_code, response.json()["error"]) == (404, "account_not_found")


async def test_me_is_the_account_as_the_view_shows_it():
    settings = settings_for()
    identity = identity_parts(settings)
    async with serve(settings, identity) as http:
        pair = await sign_in(http, 42)
        project(identity)
        response = await http.get("/api/me", headers=bearer(pair))
    assert response.json() == {
        "id": pair["account"]["id"],
        "display_name": "Tele",
        "identities": ["telegram:42"],
        "roles": [],
        "banned": False,
        "kind": "member",
    }


# -- admins ------------------------------------------------------------------------------------


async def test_the_admins_account_list_is_403_for_a_player():
    settings = settings_for()
    async with serve(settings, identity_parts(settings)) as http:
        response = await http.get("/api/admin/accounts", headers={"X-Dev-User": "ann"})
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")


async def test_a_configured_admin_lists_the_accounts_the_view_holds():
    settings = settings_for()
    identity = identity_parts(settings)
    async with serve(settings, identity) as http:
        admin = await sign_in(http, ADMIN_USER_ID)
        player = await sign_in(http, 20)
        project(identity)
        response = await http.get("/api/admin/accounts", headers=bearer(admin))
    listed = {account["id"]: account["roles"] for account in response.json()}
    assert listed == {admin["account"]["id"]: ["admin"], player["account"]["id"]: []}


# -- sessions, on a clock the test moves -------------------------------------------------------


async def test_a_refresh_token_presented_again_within_the_grace_still_works():
    settings, clock = settings_for(), ManualClock()
    async with serve(settings, identity_parts(settings, clock=clock.utc_now)) as http:
        pair = await sign_in(http)
        assert (await refresh(http, pair)).status_code == 200
        clock.advance(settings.identity.refresh_grace_s - 1)
        again = await refresh(http, pair)
    assert again.status_code == 200  # a second tab refreshing at the same moment


async def test_a_refresh_token_presented_again_after_the_grace_signs_the_session_out():
    settings, clock = settings_for(), ManualClock()
    async with serve(settings, identity_parts(settings, clock=clock.utc_now)) as http:
        first = await sign_in(http)
        second = (await refresh(http, first)).json()
        clock.advance(settings.identity.refresh_grace_s + 1)
        reused = await refresh(http, first)
        me = await http.get("/api/auth/whoami", headers=bearer(second))
    assert (reused.status_code, reused.json()["error"]) == (401, "refresh_token_reused")
    assert (me.status_code, me.json()["error"]) == (401, "session_revoked")


async def test_signing_out_ends_the_sessions_access_tokens():
    settings = settings_for()
    async with serve(settings, identity_parts(settings)) as http:
        pair = await sign_in(http)
        signed_out = await http.post(
            "/api/auth/logout", json={"refresh_token": pair["refresh_token"]}
        )
        me = await http.get("/api/auth/whoami", headers=bearer(pair))
    assert signed_out.status_code == 204
    assert (me.status_code, me.json()["error"]) == (401, "session_revoked")


async def test_a_new_name_with_a_control_character_is_a_422_naming_the_field():
    settings = settings_for(dev_auth=True)
    async with serve(settings, identity_parts(settings)) as http:
        nul = await http.post("/api/me/name", json={"display_name": "ann\u0000"},
                              headers={"X-Dev-User": "ann"})
        newline = await http.post("/api/me/name", json={"display_name": "ann\n"},
                                  headers={"X-Dev-User": "ann"})
    for response in (nul, newline):
        assert response.status_code == 422, response.text
        assert (response.json()["error"], response.json()["field"]) == (
            "invalid_text", "display_name"
        )
