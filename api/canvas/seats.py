"""Live seats for signed-out viewers on this node.

A signed-out viewer watches over a live socket while this node has room for one more
(`TESSERA_LIVE_SPECTATORS`); beyond that the socket is refused with `unavailable` (close 1013)
and the web client polls the latest snapshot instead. The node decides: it knows its load."""

from __future__ import annotations


class SpectatorSeats:
    """Signed-out live sockets this node serves, up to `cap` (0: none, every viewer polls)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.taken = 0

    @property
    def room(self) -> bool:
        return self.taken < self.cap

    def take(self) -> bool:
        if not self.room:
            return False
        self.taken += 1
        return True

    def give_back(self) -> None:
        self.taken = max(0, self.taken - 1)
