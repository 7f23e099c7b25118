from uuid import uuid4

import pytest

from commands.feedback.feedbacks import Feedbacks
from commands.feedback.wire import SubmitFeedback
from domain.feedback import Feedback, FeedbackNotFound, InvalidFeedback
from projections.feedback.messages import FeedbackProjection, FeedbackResolved, FeedbackSubmitted
from projections.recorded import Recorded
from tests.factories import T0, at


def a_feedback(**fields) -> Feedback:
    return Feedback.submit(**{"feedback_id": uuid4(), "message": "hello", "now": T0} | fields)


def test_a_submission_keeps_the_trimmed_message_and_what_the_sender_gave():
    canvas_id = uuid4()
    feedback = a_feedback(
        message="  the zoom jumps \n",
        contact=" @ann ",
        account_id="acc-1",
        canvas_id=canvas_id,
        page="/",
        user_agent="UA",
    )
    assert feedback.message == "the zoom jumps"
    assert (feedback.contact, feedback.account_id, feedback.canvas_id) == (
        "@ann",
        "acc-1",
        canvas_id,
    )
    assert not feedback.is_resolved


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message": " \t\n"}, "message"),
        ({"message": "x" * 4001}, "message"),
        ({"contact": "c" * 201}, "contact"),
        ({"page": "p" * 301}, "page"),
    ],
)
def test_bad_feedback_is_refused_naming_the_field(fields, field):
    with pytest.raises(InvalidFeedback) as refused:
        a_feedback(**fields)
    assert refused.value.field == field


def test_a_long_user_agent_is_cut_rather_than_refused():
    assert a_feedback(user_agent="u" * 1000).user_agent == "u" * 300


def test_resolving_twice_records_one_resolution():
    feedback = a_feedback()
    feedback.resolve(by="admin-1", now=at(1))
    feedback.resolve(by="admin-2", now=at(2))
    assert feedback.resolved_by == "admin-1"
    assert [type(e) for e in feedback.collect_events()] == [Feedback.Submitted, Feedback.Resolved]


def test_the_projection_reads_what_the_application_stored():
    app = Feedbacks(clock=lambda: T0)
    canvas_id = uuid4()
    feedback = app.submit_feedback(
        SubmitFeedback(message="hi", contact="ann@example.com", canvas_id=canvas_id),
        account_id="acc-1",
        user_agent="UA",
    )
    app.resolve_feedback(feedback.id, by="admin-1")
    projection = FeedbackProjection()
    for n in app.recorder.select_notifications(start=1, limit=10):
        projection.apply(Recorded(n.id, n.originator_id, n.originator_version, n.topic, n.state))
    assert projection.collect() == [
        FeedbackSubmitted(
            feedback.id, 1, "hi", "ann@example.com", "acc-1", canvas_id, None, "UA", T0
        ),
        FeedbackResolved(feedback.id, 2, "admin-1", T0),
    ]


def test_resolving_unknown_feedback_is_not_found():
    with pytest.raises(FeedbackNotFound):
        Feedbacks().resolve_feedback(uuid4(), by="admin-1")
