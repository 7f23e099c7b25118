"""`GET /api/quiz/sessions/{id}/report?at_seq=N`: a session's report as it was at any of its
versions, folded from its events in the store."""

from __future__ import annotations

import asyncio

import pytest

from api.app import Node
from commands.quiz.wire import HostAction, SubmitAnswer
from domain.quiz.session import QuizSession
from tests.integration.conftest import until
from tests.integration.quiz.quiz_helpers import OWNER, a_game, a_session, join


async def a_played_session(client, parts: Node) -> tuple[str, dict[str, int]]:
    """Ann and Bob join, task 0 runs (Ann right, Bob wrong) and closes, task 1 starts, the host
    ends it. The versions at which each of those happened, by event name."""
    game = await a_game(client)
    session = await a_session(client, game["id"])
    sid = session["session_id"]
    ann = await join(client, session["code"], "Ann")
    bob = await join(client, session["code"], "Bob")
    runtime = parts["quiz"].runtime
    await runtime.run(sid, HostAction("owner", "next", 0))
    await runtime.run(sid, SubmitAnswer(ann["player_id"], 0, 1, None))
    await runtime.run(sid, SubmitAnswer(bob["player_id"], 0, 0, None))  # all answered: closes
    await runtime.run(sid, HostAction("owner", "next", 1))
    await runtime.run(sid, HostAction("owner", "end"))
    events = await asyncio.to_thread(lambda: list(parts["quiz"].quizzes.events.get(sid)))
    versions: dict[str, int] = {}
    for event in events:
        versions.setdefault(type(event).__name__, event.originator_version)
        if isinstance(event, QuizSession.PlayerJoined):
            versions[event.nickname] = event.originator_version
    versions["last"] = events[-1].originator_version
    return sid, versions


async def report_at(client, sid: str, seq: int | str, **headers: str):
    return await client.get(f"/api/quiz/sessions/{sid}/report", params={"at_seq": seq},
                            headers=headers or OWNER)


async def test_the_report_at_each_version_shows_the_session_as_it_was(client, parts):
    sid, at = await a_played_session(client, parts)
    started = (await report_at(client, sid, 1)).json()
    assert (started["players"], started["ended"], started["at_seq"]) == ([], False, 1)
    joined = (await report_at(client, sid, at["Bob"])).json()
    assert [p["nickname"] for p in joined["players"]] == ["Ann", "Bob"]
    assert all(p["answers"] == [] for p in joined["players"])
    answered = (await report_at(client, sid, at["AnswerSubmitted"])).json()
    ann = next(p for p in answered["players"] if p["nickname"] == "Ann")
    assert [a["right"] for a in ann["answers"]] == [True]
    assert ann["score"] == 0  # judged, not credited until the task closes
    assert answered["tasks"][0]["closed"] is None
    closed = (await report_at(client, sid, at["TaskClosed"])).json()
    scores = {p["nickname"]: p["score"] for p in closed["players"]}
    assert scores["Ann"] > 0 and scores["Bob"] == 0
    assert closed["tasks"][0]["closed"] is not None and not closed["ended"]


async def test_the_last_version_equals_the_report_of_the_read_model(client, parts):
    sid, at = await a_played_session(client, parts)

    async def ended():
        now = (await client.get(f"/api/quiz/sessions/{sid}/report", headers=OWNER)).json()
        return now if now.get("ended") else None

    now = await until(ended)
    folded = (await report_at(client, sid, at["last"])).json()
    assert folded.pop("at_seq") == at["last"]
    assert folded == now
    csv = await client.get(f"/api/quiz/sessions/{sid}/report",
                           params={"at_seq": at["Bob"], "format": "csv"}, headers=OWNER)
    assert csv.status_code == 200 and "Ann" in csv.text and "Bob" in csv.text


@pytest.mark.parametrize("bad", ["-1", "abc", "2.0", ""])
async def test_a_version_that_is_not_a_whole_number_is_422(client, parts, bad):
    sid, _ = await a_played_session(client, parts)
    answer = await report_at(client, sid, bad)
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_version")


async def test_a_version_the_session_has_not_reached_is_404(client, parts):
    sid, at = await a_played_session(client, parts)
    for seq in (0, at["last"] + 1):
        answer = await report_at(client, sid, seq)
        assert (answer.status_code, answer.json()["error"]) == (404, "version_not_found"), seq
    assert answer.json()["last"] == at["last"]


async def test_a_past_report_is_for_the_host_only(client, parts):
    sid, _ = await a_played_session(client, parts)
    answer = await report_at(client, sid, 1, **{"X-Dev-User": "eve"})
    assert (answer.status_code, answer.json()["error"]) == (403, "not_allowed")
    missing = await report_at(client, "00000000-0000-0000-0000-000000000000", 1)
    assert (missing.status_code, missing.json()["error"]) == (404, "session_not_found")
