"""Sign-ins, renames and role grants sent several at a time, the node killed with SIGKILL as they
commit, everything unanswered sent again: each is applied once.

Identity commands carry no client key: they are idempotent by what they set. A sign-in finds the
account its identity claimed (the claim's id is derived from the identity), a rename to the name
an account already has and a grant of a role it already holds record nothing. So a resend is
applied once as long as no other change of the same field came in between (a rename to A, then
to B, then A resent, renames it back to A: last writer wins)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from domain.account import claim_id
from tests.support.crash import HttpCommands, Request, Server, resent_after_crash
from tests.support.signing import BOT_TOKEN, telegram_init_data

pytestmark = [pytest.mark.integration, pytest.mark.crash]

ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}


def sign_in(telegram_id: int) -> Request:
    return Request("POST", "/api/auth/telegram", {"init_data": telegram_init_data(telegram_id)})


async def events_by_aggregate(settings) -> dict[tuple[str, str], int]:
    """How many events of each kind each aggregate has: (originator id, event name) -> count."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            f'SELECT originator_id, topic, count(*) AS n FROM "{settings.schema}".accounts_events '
            "GROUP BY originator_id, topic"
        )
    finally:
        await conn.close()
    return {(str(row["originator_id"]), row["topic"].rsplit(".", 1)[-1]): row["n"] for row in rows}


async def test_identity_commands_resent_after_a_kill_are_applied_once(make_settings, tmp_path):
    settings = await make_settings(
        rate_ip_per_s=0,
        identity={"rate_account_per_s": 0},
        telegram={"bot_token": BOT_TOKEN},
    )
    async with Server(settings, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            regulars = [
                (await http.post("/api/auth/telegram",
                                 json={"init_data": telegram_init_data(1000 + n)})).json()
                for n in range(8)
            ]
        clients = [
            HttpCommands(
                {
                    **{f"sign-in {t}": sign_in(t) for t in range(2000 + 10 * c, 2010 + 10 * c)},
                    **{
                        f"rename {r['account']['id']}": Request(
                            "POST", "/api/me/name", {"display_name": f"Regular {1000 + n}"},
                            {"Authorization": f"Bearer {r['access_token']}"})
                        for n, r in enumerate(regulars) if n % 4 == c
                    },
                    **{
                        f"grant {r['account']['id']}": Request(
                            "POST", f"/api/admin/accounts/{r['account']['id']}/roles",
                            {"role": "admin"}, ADMIN)
                        for n, r in enumerate(regulars) if n % 4 == c
                    },
                },
                in_flight=4,
            )
            for c in range(4)
        ]
        await resent_after_crash(server, clients, kill_after=15, at_commit_to="accounts_events")

    answers = {key: answer for client in clients for key, answer in client.answers.items()}
    assert {status for status, _ in answers.values()} == {200}
    assert len(answers) == sum(len(client.commands) for client in clients)
    stored = await events_by_aggregate(settings)
    newcomers = range(2000, 2040)
    for t in newcomers:  # one claim and one account per identity, the one every answer named
        assert stored[(str(claim_id("telegram", str(t))), "Claimed")] == 1
        assert stored[(answers[f"sign-in {t}"][1]["account"]["id"], "Registered")] == 1
    assert sum(n for (_, kind), n in stored.items() if kind == "Registered") == 8 + len(newcomers)
    for r in regulars:
        account = r["account"]["id"]
        assert (stored[(account, "Renamed")], stored[(account, "RoleGranted")]) == (1, 1)
