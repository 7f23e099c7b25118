"""Feedback over HTTP without services: the real `Feedbacks` on the library's in-memory store, the
admins' list from an in-memory view that the real projection writes."""

from uuid import UUID

from api.feedback.parts import FeedbackParts
from commands.feedback.feedbacks import Feedbacks
from projections.feedback.messages import FeedbackProjection
from tests.support.api import a_node, http_to, identity_parts, unit_settings
from tests.support.clock import ManualClock
from tests.support.fakes import IN_MEMORY, InMemoryFeedbackView
from tests.support.recorded import recorded_by

ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}


def feedback_parts(clock: ManualClock | None = None) -> FeedbackParts:
    clock = clock or ManualClock()
    return FeedbackParts(Feedbacks(IN_MEMORY, clock=clock.utc_now), InMemoryFeedbackView())


def serve(feedback: FeedbackParts):
    settings = unit_settings()
    return http_to(settings, a_node(identity=identity_parts(settings), feedback=feedback))


def project(feedback: FeedbackParts) -> None:
    """The projection runner's work: what the Application stored, through the projection, into
    the view."""
    projection = FeedbackProjection()
    for event in recorded_by(feedback.feedbacks):
        projection.apply(event)
    feedback.view.write(projection.collect())


async def test_a_submission_is_stored_with_its_sender_and_answered_with_its_id():
    feedback = feedback_parts()
    async with serve(feedback) as http:
        response = await http.post(
            "/api/feedback",
            json={"message": "  the zoom jumps ", "page": "/"},
            headers={"X-Dev-User": "ann", "User-Agent": "UA"},
        )
    assert response.status_code == 201
    stored = feedback.feedbacks.get_feedback(UUID(response.json()["id"]))
    assert (stored.message, stored.page, stored.account_id, stored.user_agent) == (
        "the zoom jumps", "/", "ann", "UA"
    )


async def test_an_anonymous_submission_is_stored_without_an_account():
    feedback = feedback_parts()
    async with serve(feedback) as http:
        response = await http.post("/api/feedback", json={"message": "hello"})
    assert response.status_code == 201
    assert feedback.feedbacks.get_feedback(UUID(response.json()["id"])).account_id is None


async def test_admins_list_what_was_submitted_newest_first():
    clock = ManualClock()
    feedback = feedback_parts(clock)
    async with serve(feedback) as http:
        await http.post("/api/feedback", json={"message": "first"})
        clock.advance(1)
        await http.post("/api/feedback", json={"message": "second"})
        project(feedback)
        listed = await http.get("/api/admin/feedback", headers=ADMIN)
    assert listed.status_code == 200
    assert [item["message"] for item in listed.json()] == ["second", "first"]


async def test_a_resolved_item_leaves_the_list_of_open_ones():
    feedback = feedback_parts()
    async with serve(feedback) as http:
        submitted = (await http.post("/api/feedback", json={"message": "fix me"})).json()
        resolved = await http.post(f"/api/admin/feedback/{submitted['id']}/resolve", headers=ADMIN)
        project(feedback)
        everything = await http.get("/api/admin/feedback", headers=ADMIN)
        still_open = await http.get("/api/admin/feedback?unresolved=true", headers=ADMIN)
    assert resolved.json() == {"id": submitted["id"], "resolved_by": "root"}
    assert [item["resolved_by"] for item in everything.json()] == ["root"]
    assert still_open.json() == []


async def test_the_list_is_refused_to_a_player_who_is_not_an_admin():
    async with serve(feedback_parts()) as http:
        response = await http.get("/api/admin/feedback", headers={"X-Dev-User": "ann"})
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")


async def test_the_list_is_refused_to_an_anonymous_caller():
    async with serve(feedback_parts()) as http:
        response = await http.get("/api/admin/feedback")
    assert (response.status_code, response.json()["error"]) == (401, "unauthenticated")


async def test_an_empty_message_is_a_400_json_error_and_stores_nothing():
    feedback = feedback_parts()
    async with serve(feedback) as http:
        response = await http.post("/api/feedback", json={"message": ""})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request" and response.json()["detail"]
    assert recorded_by(feedback.feedbacks) == []


async def test_an_unknown_field_is_a_400_json_error():
    async with serve(feedback_parts()) as http:
        response = await http.post("/api/feedback", json={"message": "hi", "admin": True})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_a_nul_in_the_message_is_a_422_naming_the_field_and_stores_nothing():
    feedback = feedback_parts()
    async with serve(feedback) as http:
        response = await http.post("/api/feedback", json={"message": "hi\u0000there"})
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("invalid_text", "message")
    assert recorded_by(feedback.feedbacks) == []


async def test_a_control_character_in_the_contact_is_a_422_naming_the_field():
    async with serve(feedback_parts()) as http:
        response = await http.post(
            "/api/feedback", json={"message": "hi", "contact": "ann\u0085@example.com"}
        )
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("invalid_text", "contact")


async def test_a_message_keeps_its_lines_and_tabs():
    feedback = feedback_parts()
    async with serve(feedback) as http:
        response = await http.post("/api/feedback", json={"message": "one\n\ttwo\r\nthree"})
    assert response.status_code == 201, response.text
    stored = feedback.feedbacks.get_feedback(UUID(response.json()["id"]))
    assert stored.message == "one\n\ttwo\r\nthree"


async def test_a_submission_sent_again_under_its_id_is_stored_once_and_answered_alike():
    feedback = feedback_parts()
    body = {"message": "the zoom jumps", "id": "0b6f1a52-3c1e-4f43-9d1c-5a0e6c7f2b11"}
    async with serve(feedback) as http:
        first = await http.post("/api/feedback", json=body)
        again = await http.post("/api/feedback", json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json() == {"id": body["id"]}
    assert len(recorded_by(feedback.feedbacks)) == 1


async def test_an_id_sent_again_with_another_message_is_409_and_stores_nothing():
    feedback = feedback_parts()
    key = "0b6f1a52-3c1e-4f43-9d1c-5a0e6c7f2b11"
    async with serve(feedback) as http:
        await http.post("/api/feedback", json={"message": "the zoom jumps", "id": key})
        reused = await http.post("/api/feedback", json={"message": "something else", "id": key})
    assert (reused.status_code, reused.json()["error"]) == (409, "feedback_id_reused")
    assert len(recorded_by(feedback.feedbacks)) == 1
