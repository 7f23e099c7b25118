import asyncio
import base64
import logging
import time

import asyncpg
import httpx
import jwt
import msgspec
import pytest
import pytest_asyncio
import websockets
from cryptography.hazmat.primitives import serialization

from api.app import build, create_app
from tests.integration.conftest import serving, stop, until
from tests.support.clock import ManualClock
from tests.support.signing import (
    BOT_TOKEN,
    CLIENT_ID,
    GoogleStandIn,
    telegram_init_data,
    telegram_widget,
)

JWT_KEYS = "test-1:" + base64.urlsafe_b64encode(b"s" * 32).decode().rstrip("=")


@pytest.fixture
def google():
    stand_in = GoogleStandIn()
    yield stand_in
    stand_in.close()


@pytest_asyncio.fixture
async def identity_settings(make_settings, google):
    return await make_settings(
        dev_auth=False,
        google={"client_ids": f"other-client,{CLIENT_ID}", "jwks_url": google.url},
        telegram={"bot_token": BOT_TOKEN},
        identity={"jwt_keys": JWT_KEYS, "admin_identities": "telegram:1"},
        rate_ip_per_s=0,
    )


@pytest_asyncio.fixture
async def running(identity_settings):
    parts = await build(identity_settings)
    yield parts
    await stop(parts)


@pytest_asyncio.fixture
async def http(running):
    transport = httpx.ASGITransport(app=create_app(running.settings, node=running))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
        yield client


async def account_events(settings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval(f'SELECT count(*) FROM "{settings.schema}".accounts_events')
    finally:
        await conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def with_clock(running) -> ManualClock:
    """The identity handlers' clock, moved by the test (refresh sessions are timed by it)."""
    clock = ManualClock()
    running["identity"].clock = clock.utc_now
    return clock


async def test_google_sign_in_gives_tokens_that_play_and_show_me(http, google, running):
    response = await http.post("/api/auth/google", json={"id_token": google.id_token()})
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["expires_in"] == 900 and pair["refresh_expires_in"] == 7 * 24 * 3600
    assert pair["account"]["display_name"] == "Ann Example"

    async def me():
        answer = await http.get("/api/me", headers=bearer(pair["access_token"]))
        return answer.json() if answer.status_code == 200 else None

    account = await until(me)
    assert account["identities"] == ["google:1098765432101234567890"]
    again = await http.post("/api/auth/google", json={"id_token": google.id_token()})
    assert again.json()["account"]["id"] == pair["account"]["id"]  # same account, not a new one


@pytest.mark.parametrize(
    "claims,reason",
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example.com"}, "issuer"),
        ({"email_verified": False}, "not verified"),
    ],
)
async def test_bad_google_tokens_are_401_and_register_nobody(
    http, google, identity_settings, claims, reason
):
    before = await account_events(identity_settings)
    response = await http.post("/api/auth/google", json={"id_token": google.id_token(**claims)})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_google_token"
    assert reason in response.json()["detail"].lower()
    assert await account_events(identity_settings) == before


async def test_alg_none_and_hs_rs_confusion_are_refused(http, google, identity_settings):
    claims = jwt.decode(google.id_token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": google.kid})
    public_pem = google.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The classic confusion: HMAC "signed" with the RSA public key as the secret.
    confused = jwt.api_jws.PyJWS()
    confused._algorithms["HS256"].prepare_key = lambda key: key  # type: ignore[attr-defined]
    forged = confused.encode(msgspec.json.encode(claims), public_pem, algorithm="HS256",
                             headers={"kid": google.kid})
    for token in (unsigned, forged):
        response = await http.post("/api/auth/google", json={"id_token": token})
        assert response.status_code == 401
    assert await account_events(identity_settings) == 0


async def test_the_last_good_key_set_is_kept_when_google_is_unreachable(http, google):
    assert (await http.post("/api/auth/google", json={"id_token": google.id_token()})).status_code == 200
    google.failing = True
    response = await http.post("/api/auth/google", json={"id_token": google.id_token(sub="2")})
    assert response.status_code == 200


async def test_telegram_mini_app_and_widget_sign_in(http, running):
    mini = await http.post("/api/auth/telegram", json={"init_data": telegram_init_data(1)})
    assert mini.status_code == 200, mini.text
    assert mini.json()["account"]["roles"] == ["admin"]  # telegram:1 is a configured admin
    widget = await http.post("/api/auth/telegram", json={"widget": telegram_widget(2)})
    assert widget.status_code == 200 and widget.json()["account"]["roles"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"init_data": telegram_init_data(3).replace("Tele", "Mallory")},
        {"init_data": telegram_init_data(3, auth_date=int(time.time()) - 2 * 86_400)},
        {"init_data": telegram_init_data(3, bot_token="1:another-bot")},
        {"widget": telegram_widget(4) | {"id": 5}},
    ],
)
async def test_tampered_or_stale_telegram_data_is_401(http, identity_settings, body):
    response = await http.post("/api/auth/telegram", json=body)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_telegram_data"
    assert await account_events(identity_settings) == 0


async def sign_in(http, user_id: int = 10) -> dict:
    response = await http.post("/api/auth/telegram", json={"init_data": telegram_init_data(user_id)})
    assert response.status_code == 200, response.text
    return response.json()


async def test_refresh_rotates_and_reuse_revokes_the_whole_session(http, running):
    clock = with_clock(running)
    first = await sign_in(http)
    second = (await http.post("/api/auth/refresh",
                              json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await http.get("/api/me", headers=bearer(second["access_token"]))).status_code in (200, 404)
    clock.advance(running.settings.identity.refresh_grace_s + 1)  # past the grace for parallel tabs
    reused = await http.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert (reused.status_code, reused.json()["error"]) == (401, "refresh_token_reused")
    after = await http.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    me = await http.get("/api/me", headers=bearer(second["access_token"]))
    assert (me.status_code, me.json()["error"]) == (401, "session_revoked")


async def test_parallel_tabs_refreshing_at_once_both_get_tokens(http, running):
    with_clock(running)  # standing still: both refresh at the same moment, however slow the machine
    pair = await sign_in(http)
    answers = await asyncio.gather(*(
        http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        for _ in range(2)
    ))
    assert [a.status_code for a in answers] == [200, 200]


async def test_sign_out_ends_refresh_and_access_tokens(http):
    pair = await sign_in(http)
    assert (await http.post("/api/auth/logout",
                            json={"refresh_token": pair["refresh_token"]})).status_code == 204
    refreshed = await http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401
    assert (await http.get("/api/me", headers=bearer(pair["access_token"]))).status_code == 401


async def test_an_admin_signs_an_account_out_everywhere_and_manages_roles(http):
    admin = await sign_in(http, 1)
    user = await sign_in(http, 20)
    user_id = user["account"]["id"]
    as_user = await http.post(f"/api/admin/accounts/{user_id}/sessions/revoke",
                              headers=bearer(user["access_token"]))
    assert as_user.status_code == 403
    granted = await http.post(f"/api/admin/accounts/{user_id}/roles", json={"role": "admin"},
                              headers=bearer(admin["access_token"]))
    assert granted.json()["roles"] == ["admin"]
    revoked = await http.post(f"/api/admin/accounts/{user_id}/sessions/revoke",
                              headers=bearer(admin["access_token"]))
    assert revoked.json() == {"revoked": 1}
    assert (await http.get("/api/me", headers=bearer(user["access_token"]))).status_code == 401


async def test_tampered_and_foreign_access_tokens_are_401_and_change_nothing(http, running):
    pair = await sign_in(http)
    header, payload, signature = pair["access_token"].split(".")
    tampered = f"{header}.{payload}x.{signature}"
    foreign = jwt.encode({"sub": pair["account"]["id"], "roles": ["admin"], "typ": "access",
                          "sid": pair["account"]["id"], "iss": "tessera", "iat": 1,
                          "exp": 2**40}, b"x" * 32, algorithm="HS256", headers={"kid": "test-1"})
    spec = {"width": 8, "height": 8, "palette": ["#000000", "#ffffff"]}
    for token in (tampered, foreign, "not-a-jwt"):
        response = await http.post("/api/canvas", json=spec, headers=bearer(token))
        assert (response.status_code, response.json()["error"]) == (401, "invalid_token")
    assert await running["canvas"].reads.view.list_canvases() == []


async def test_placing_needs_a_signed_in_player_and_admin_ops_the_admin_role(http, running):
    admin, player = await sign_in(http, 1), await sign_in(http, 30)
    spec = {"width": 8, "height": 8, "palette": ["#000000", "#ffffff"], "cooldown_ms": 0}
    assert (await http.post("/api/canvas", json=spec, headers=bearer(player["access_token"]))
            ).status_code == 403
    created = await http.post("/api/canvas", json=spec, headers=bearer(admin["access_token"]))
    canvas_id = created.json()["id"]
    pixel = {"x": 1, "y": 1, "colour": 1}
    assert (await http.post(f"/api/canvas/{canvas_id}/pixels", json=pixel)).status_code == 401
    assert (await http.post(f"/api/canvas/{canvas_id}/pixels", json=pixel,
                            headers={"X-Dev-User": "ann"})).status_code == 401  # dev auth is off
    placed = await http.post(f"/api/canvas/{canvas_id}/pixels", json=pixel,
                             headers=bearer(player["access_token"]))
    assert placed.json() == {"version": 2, "replayed": False}


async def test_accounts_and_refresh_tokens_survive_a_restart(identity_settings):
    first = await build(identity_settings)
    transport = httpx.ASGITransport(app=create_app(identity_settings, node=first))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        pair = await sign_in(client, 40)
    await stop(first)
    second = await build(identity_settings)
    try:
        transport = httpx.ASGITransport(app=create_app(identity_settings, node=second))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            again = await client.post("/api/auth/refresh",
                                      json={"refresh_token": pair["refresh_token"]})
            assert again.status_code == 200
            assert again.json()["account"]["id"] == pair["account"]["id"]
            me = await until(lambda: _me(client, again.json()["access_token"]))
            assert me["identities"] == ["telegram:40"]
    finally:
        await stop(second)


async def _me(client, token):
    response = await client.get("/api/me", headers=bearer(token))
    return response.json() if response.status_code == 200 else None


async def test_rate_limits_trip_and_recover(make_settings):
    settings = await make_settings(rate_ip_per_s=5, rate_ip_burst=3,
                                   identity={"rate_account_per_s": 2, "rate_account_burst": 2})
    parts = await build(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, node=parts))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            statuses = [(await client.post("/api/auth/refresh",
                                           json={"refresh_token": "x" * 43})).status_code
                        for _ in range(4)]
            assert statuses == [401, 401, 401, 429]
            await asyncio.sleep(0.25)
            assert (await client.post("/api/auth/refresh",
                                      json={"refresh_token": "x" * 43})).status_code == 401
            limited = [(await client.post("/api/canvas", json={}, headers={"X-Dev-User": "ann"}))
                       for _ in range(3)]
            assert limited[-1].status_code == 429 or limited[-2].status_code == 429
            assert int(next(r for r in limited if r.status_code == 429).headers["retry-after"]) >= 1
    finally:
        await stop(parts)


async def test_websockets_authenticate_by_ticket_or_first_message(running, http):
    pair = await sign_in(http, 50)
    ticket = (await http.post("/api/auth/ticket", headers=bearer(pair["access_token"]))).json()
    assert ticket["expires_in"] == 30
    async with serving(running) as port:
        url = f"ws://127.0.0.1:{port}/api/me/live"
        async with websockets.connect(f"{url}?ticket={ticket['ticket']}") as socket:
            assert msgspec.json.decode(await socket.recv())["id"] == pair["account"]["id"]
        async with websockets.connect(url) as socket:
            await socket.send(msgspec.json.encode({"type": "auth", "token": pair["access_token"]}))
            assert msgspec.json.decode(await socket.recv())["type"] == "me"
            await http.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]})
            assert msgspec.json.decode(await socket.recv())["type"] == "signed_out"
        for bad, first_message in ((f"{url}?ticket={pair['access_token']}", None),
                                   (url, b"\x00garbage"), (url, b'{"type": "auth"}')):
            async with websockets.connect(bad) as socket:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    if first_message is not None:
                        await socket.send(first_message)
                    await socket.recv()
                assert closed.value.rcvd.code == 4401
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(url, origin="https://evil.example"):
                pass


async def closed_by(url: str) -> tuple[int, str]:
    """The close code and reason of a socket the server closes before saying anything."""
    async with websockets.connect(url) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_ticket_opens_one_connection_whichever_node_it_is_shown_to(
    running, http, identity_settings
):
    pair = await sign_in(http, 51)
    ticket = (await http.post("/api/auth/ticket", headers=bearer(pair["access_token"]))).json()
    path = f"/api/me/live?ticket={ticket['ticket']}"
    other = await build(identity_settings, roles={"api"})
    try:
        async with serving(running) as port, serving(other) as other_port, \
                websockets.connect(f"ws://127.0.0.1:{port}{path}") as first:
            assert msgspec.json.decode(await first.recv())["type"] == "me"
            again_elsewhere = await closed_by(f"ws://127.0.0.1:{other_port}{path}")
            again_here = await closed_by(f"ws://127.0.0.1:{port}{path}")
    finally:
        await stop(other)
    assert again_elsewhere == again_here == (4401, "ticket_used")


async def test_a_ticket_used_on_one_socket_does_not_open_another_kind(running, http):
    from commands.canvas.wire import CreateCanvas

    canvas = await asyncio.to_thread(
        running["canvas"].canvases.create_canvas,
        CreateCanvas(width=4, height=4, palette=["#ffffff", "#000000"]),
    )
    pair = await sign_in(http, 52)
    ticket = (await http.post("/api/auth/ticket", headers=bearer(pair["access_token"]))).json()
    query = f"?ticket={ticket['ticket']}"
    async with serving(running) as port, \
            websockets.connect(f"ws://127.0.0.1:{port}/api/me/live{query}") as first:
        assert msgspec.json.decode(await first.recv())["type"] == "me"
        canvas_url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live{query}"
        assert await closed_by(canvas_url) == (4401, "ticket_used")


async def test_no_token_or_secret_reaches_the_logs(http, running, google, caplog):
    clock = with_clock(running)
    caplog.set_level(logging.DEBUG)
    pair = (await http.post("/api/auth/google", json={"id_token": google.id_token()})).json()
    await http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    clock.advance(running.settings.identity.refresh_grace_s + 1)
    await http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})  # reuse
    await http.post("/api/auth/google", json={"id_token": google.id_token(aud="x")})
    logged = caplog.text
    for secret in (pair["refresh_token"], pair["access_token"], BOT_TOKEN, JWT_KEYS.split(":")[1],
                   google.id_token().split(".")[2][:20]):
        assert secret not in logged


async def test_a_second_provider_links_to_the_same_account_and_can_be_unlinked(http, google):
    telegram = await sign_in(http, 60)
    headers = bearer(telegram["access_token"])
    linked = await http.post("/api/me/identities/google", json={"id_token": google.id_token(sub="g60")},
                             headers=headers)
    assert linked.status_code == 200, linked.text
    assert linked.json()["identities"] == ["telegram:60", "google:g60"]
    via_google = await http.post("/api/auth/google", json={"id_token": google.id_token(sub="g60")})
    assert via_google.json()["account"]["id"] == telegram["account"]["id"]

    other = await sign_in(http, 61)
    taken = await http.post("/api/me/identities/google", json={"id_token": google.id_token(sub="g60")},
                            headers=bearer(other["access_token"]))
    assert (taken.status_code, taken.json()["error"]) == (409, "identity_taken")

    unlinked = await http.delete("/api/me/identities/google/g60", headers=headers)
    assert unlinked.json()["identities"] == ["telegram:60"]
    last = await http.delete("/api/me/identities/telegram/60", headers=headers)
    assert (last.status_code, last.json()["error"]) == (409, "last_identity")
    fresh = await http.post("/api/auth/google", json={"id_token": google.id_token(sub="g60")})
    assert fresh.json()["account"]["id"] != telegram["account"]["id"]  # the identity was freed
