"""Guest sign-in over HTTP without services: a nickname, an account of kind `guest`, a limit
per client address, off when the operator says so or when another provider is configured."""

import dataclasses

from api.identity.guest import guest_limiter
from tests.support.api import a_node, http_to, identity_parts, unit_settings
from tests.support.signing import BOT_TOKEN, telegram_init_data


def serve(settings, **identity_changes):
    identity = dataclasses.replace(identity_parts(settings), **identity_changes)
    return http_to(settings, a_node(identity=identity)), identity


async def test_a_guest_signs_in_with_a_nickname_and_gets_an_account_of_kind_guest():
    settings = unit_settings()
    client, _identity = serve(settings)
    async with client as http:
        answer = await http.post("/api/auth/guest", json={"name": "  Pixel Pat "})
        assert answer.status_code == 200, answer.text
        pair = answer.json()
        me = await http.get(
            "/api/auth/whoami", headers={"Authorization": f"Bearer {pair['access_token']}"}
        )
    assert pair["account"]["kind"] == "guest"
    assert pair["account"]["display_name"] == "Pixel Pat"
    assert me.json()["account_id"] == pair["account"]["id"]


async def test_guests_are_off_by_default_when_another_provider_is_configured():
    settings = unit_settings(telegram={"bot_token": BOT_TOKEN})
    client, _identity = serve(settings)
    async with client as http:
        answer = await http.post("/api/auth/guest", json={"name": "Pat"})
        config_off = answer.json()
    assert answer.status_code == 403
    assert config_off["error"] == "guest_sign_in_off"


async def test_the_operator_turns_guests_on_beside_other_providers_or_off_alone():
    on = unit_settings(telegram={"bot_token": BOT_TOKEN}, identity={"guest_sign_in": "on"})
    off = unit_settings(identity={"guest_sign_in": "off"})
    for settings, status in ((on, 200), (off, 403)):
        client, _ = serve(settings)
        async with client as http:
            answer = await http.post("/api/auth/guest", json={"name": "Pat"})
        assert answer.status_code == status, answer.text


async def test_bad_nicknames_are_refused_with_json_and_create_nobody():
    settings = unit_settings()
    client, _identity = serve(settings, guests=guest_limiter(
        unit_settings(identity={"guest_accounts_per_ip_hour": 1})))
    async with client as http:
        answers = [
            await http.post("/api/auth/guest", json=body)
            for body in ({"name": ""}, {"name": "   "}, {"name": "x" * 33}, {"name": "a\u0007b"},
                         {}, {"name": "Pat", "admin": True}, {"name": 5})
        ]
        still_allowed = await http.post("/api/auth/guest", json={"name": "Pat"})
    statuses = [answer.status_code for answer in answers]
    assert all(400 <= status < 500 for status in statuses), statuses
    assert all({"error", "detail"} <= answer.json().keys() for answer in answers)
    assert [a.json()["error"] for a in answers[1:2]] == ["invalid_name"]
    assert still_allowed.status_code == 200  # the refusals took none of the address's guests


async def test_one_address_may_create_only_a_few_guests_an_hour():
    settings = unit_settings(identity={"guest_accounts_per_ip_hour": 2})
    client, _ = serve(settings, guests=guest_limiter(settings))
    async with client as http:
        answers = [await http.post("/api/auth/guest", json={"name": f"g{n}"}) for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) > 60


async def test_a_guest_who_links_telegram_keeps_the_account_and_signs_in_with_it():
    settings = unit_settings(telegram={"bot_token": BOT_TOKEN}, identity={"guest_sign_in": "on"})
    client, _ = serve(settings)
    async with client as http:
        guest = (await http.post("/api/auth/guest", json={"name": "Pat"})).json()
        linked = await http.post(
            "/api/me/identities/telegram",
            json={"init_data": telegram_init_data(77)},
            headers={"Authorization": f"Bearer {guest['access_token']}"},
        )
        again = await http.post("/api/auth/telegram", json={"init_data": telegram_init_data(77)})
    assert linked.status_code == 200, linked.text
    assert linked.json()["kind"] == "member"
    assert again.json()["account"]["id"] == guest["account"]["id"]
    assert again.json()["account"]["display_name"] == "Pat"
