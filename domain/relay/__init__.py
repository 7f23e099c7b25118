"""Relay rooms: the `RelayRoom` aggregate (a room's recorded life) and the protocols that decide
who may send what to whom in a live room."""
