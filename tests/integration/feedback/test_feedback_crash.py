"""Feedback sent, the node killed with SIGKILL as submissions commit, everything unanswered sent
again under its client's id: each submission is stored once, and answered with that id."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
import pytest

from tests.support.crash import HttpCommands, Request, Server, resent_after_crash

pytestmark = [pytest.mark.integration, pytest.mark.crash]


class StoredFeedback(msgspec.Struct):
    message: str


async def stored_messages(settings) -> list[str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            f'SELECT topic, state FROM "{settings.schema}".feedbacks_events')
    finally:
        await conn.close()
    return [msgspec.msgpack.decode(row["state"], type=StoredFeedback).message
            for row in rows if row["topic"].endswith("Submitted")]


def a_sender(name: str, count: int) -> HttpCommands:
    return HttpCommands(
        {f"{name}-{n}": Request("POST", "/api/feedback",
                                {"message": f"note {name}-{n}", "id": str(uuid.uuid4())})
         for n in range(count)},
        in_flight=4,
    )


async def test_feedback_resent_after_a_kill_is_stored_once(make_settings, tmp_path):
    settings = await make_settings(rate_ip_per_s=0)
    senders = [a_sender(f"v{n}", 30) for n in range(4)]
    async with Server(settings, tmp_path) as server:
        await resent_after_crash(server, senders, kill_after=40, at_commit_to="feedbacks_events")
    messages = await stored_messages(settings)
    assert len(messages) == len(set(messages)), "a submission stored twice"
    assert sorted(messages) == sorted(f"note {key}" for s in senders for key in s.commands)
    assert {status for s in senders for status, _ in s.answers.values()} == {201}
    answered = {body["id"] for s in senders for _, body in s.answers.values()}
    assert answered == {s.commands[key].json["id"] for s in senders for key in s.commands}
