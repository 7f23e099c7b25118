import asyncio

from infra.live.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_first_goes_at_once_and_only_the_latest_of_a_burst_follows():
    sent: list[int] = []
    second = asyncio.Event()

    def send(item: int) -> None:
        sent.append(item)
        if len(sent) == 2:
            second.set()

    throttle = Throttle[int](send, interval_s=0.01, clock=Clock())
    for item in range(5):
        throttle.offer(item)
    assert sent == [0]
    await asyncio.wait_for(second.wait(), 5)  # the timer fired; the clock says no time passed
    assert sent == [0, 4]
    assert throttle.dropped == 3


async def test_an_offer_an_interval_after_the_last_send_goes_at_once():
    sent: list[int] = []
    clock = Clock()
    throttle = Throttle[int](sent.append, interval_s=1.0, clock=clock)
    throttle.offer(1)
    clock.now += 1.0
    throttle.offer(2)
    assert sent == [1, 2]
