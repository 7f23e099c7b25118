"""Stream messages: a page of events, or a lone event written by a relay from before pages."""

from uuid import uuid4

import msgspec
from eventsourcing.utils import get_topic

from domain.desk import Desk
from projections.recorded import Recorded, decode_page, encode_page


def an_event(notification_id: int) -> Recorded:
    topic = get_topic(Desk.Created)
    return Recorded(notification_id, uuid4(), notification_id + 1, topic, b"s")


def test_a_page_decodes_to_its_events_in_order():
    page = [an_event(n) for n in (7, 8, 9)]
    assert decode_page(encode_page(page)) == page


def test_a_message_of_one_event_from_an_earlier_relay_still_decodes():
    event = an_event(3)
    earlier = msgspec.msgpack.Encoder(uuid_format="bytes").encode(event)  # one event a message
    assert decode_page(earlier) == [event]
