from datetime import timedelta
from uuid import uuid4

import pytest

from domain.quiz.errors import ImageNotFound, WrongCode
from domain.quiz.image import QuizImage, image_id, may_view
from domain.quiz.invite import ALPHABET, code_from, normalise_code
from tests.factories import T0

DAY_MS = 24 * 3600 * 1000
SESSION_A, SESSION_B = uuid4(), uuid4()


def an_image() -> QuizImage:
    return QuizImage.upload(sha="e" * 64, content_type="image/png", width=2, height=2, size=70,
                            uploader="ann", now=T0)


def test_a_public_image_is_visible_to_anyone():
    assert may_view(public=True, using_sessions=[], caller_sessions=[])


def test_a_private_image_is_visible_to_participants_of_a_session_using_it():
    assert may_view(public=False, using_sessions=[SESSION_A, SESSION_B],
                    caller_sessions=[SESSION_B])


def test_a_private_image_is_hidden_from_everyone_else():
    assert not may_view(public=False, using_sessions=[SESSION_A], caller_sessions=[SESSION_B])
    assert not may_view(public=False, using_sessions=[], caller_sessions=[])


def test_an_image_is_collected_only_after_its_grace_period():
    image = an_image()
    assert not image.collect(now=T0 + timedelta(hours=23), grace_ms=DAY_MS)
    assert image.collect(now=T0 + timedelta(hours=24), grace_ms=DAY_MS)
    assert image.deleted


def test_a_reference_restarts_the_grace_period_and_a_collected_image_cannot_be_referenced():
    image = an_image()
    image.reference(now=T0 + timedelta(hours=20))
    assert not image.collect(now=T0 + timedelta(hours=30), grace_ms=DAY_MS)
    assert image.collect(now=T0 + timedelta(hours=44), grace_ms=DAY_MS)
    with pytest.raises(ImageNotFound):
        image.reference(now=T0 + timedelta(hours=45))


def test_uploading_a_collected_image_again_restores_it():
    image = an_image()
    image.collect(now=T0 + timedelta(days=2), grace_ms=DAY_MS)
    image.upload_again(uploader="bob", now=T0 + timedelta(days=3))
    assert not image.deleted
    assert image.id == image_id("e" * 64)


def test_invite_codes_have_no_look_alikes_and_are_read_forgivingly():
    assert not set("01OIL") & set(ALPHABET)
    assert normalise_code(" abc-def ") == "ABCDEF"
    assert len(code_from([1, 2, 3, 4, 5, 6])) == 6
    for bad in ("ABCDE", "ABCDE0", "ABCDEFG"):
        with pytest.raises(WrongCode):
            normalise_code(bad)
