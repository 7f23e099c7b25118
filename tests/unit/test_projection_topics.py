"""Every topic a projection listens for is the topic of an event class in `domain/`. The topics
are written out by hand in `projections/` (stored topics are schema); an event moved or renamed
without registering its old topic fails here instead of going unseen by its read model."""

import importlib
import pkgutil

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

import domain
from projections.canvas.bitmap import BitmapProjection
from projections.canvas.pixel_owners import PixelOwnersProjection
from projections.desk.desks import DesksProjection
from projections.feedback.messages import FeedbackProjection
from projections.identity.accounts import AccountsProjection

PROJECTIONS = [
    BitmapProjection,
    PixelOwnersProjection,
    AccountsProjection,
    FeedbackProjection,
    DesksProjection,
]


def event_topics() -> set[str]:
    """The topic of every event class nested in an aggregate of `domain/`."""
    topics = set()
    for module_info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{module_info.name}")
        for aggregate in vars(module).values():
            if not (isinstance(aggregate, type) and issubclass(aggregate, Aggregate)):
                continue
            for event in vars(aggregate).values():
                if isinstance(event, type) and issubclass(event, Aggregate.Event):
                    topics.add(get_topic(event))
    return topics


@pytest.mark.parametrize(
    ("projection", "topic"),
    [(projection, topic) for projection in PROJECTIONS for topic in projection.topics],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_each_topic_a_projection_listens_for_is_the_topic_of_a_real_event(projection, topic):
    assert topic in event_topics()
