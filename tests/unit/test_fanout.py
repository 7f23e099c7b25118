from infra.fanout import RESYNC, Listener


def test_a_listener_that_falls_behind_gets_one_resync_and_nothing_more():
    listener = Listener(capacity=3)
    drops = [listener.offer(frame) for frame in (b"1", b"2", b"3", b"4", b"5")]
    assert drops == [False, False, False, True, False]
    queued = [listener.queue.get_nowait() for _ in range(listener.queue.qsize())]
    assert queued == [b"1", b"2", b"3", RESYNC]
    assert listener.dropped


def test_a_listener_that_keeps_up_gets_every_frame_in_order():
    listener = Listener(capacity=2)
    received = []
    for frame in (b"1", b"2", b"3", b"4"):
        listener.offer(frame)
        received.append(listener.queue.get_nowait())
    assert received == [b"1", b"2", b"3", b"4"] and not listener.dropped
