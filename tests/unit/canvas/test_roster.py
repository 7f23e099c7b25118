from domain.roster import PlayerState, Roster, window_start

WINDOW = 120_000


def a_roster(*players: str, cap: int = 2, at: int = 0) -> Roster:
    roster = Roster()
    for user in players:
        roster.join(user, at, cap=cap, window_ms=WINDOW)
    return roster


def state_of(roster: Roster, user: str, now: int) -> tuple[PlayerState, int | None]:
    standing = roster.standings(now, WINDOW).of(user)
    return standing.state, standing.position


def test_players_beyond_the_cap_wait_in_the_order_they_came():
    roster = a_roster("ann", "bob", "cat", "dan")
    assert state_of(roster, "bob", 0) == (PlayerState.PLAYING, None)
    assert state_of(roster, "cat", 0) == (PlayerState.QUEUED, 1)
    assert state_of(roster, "dan", 0) == (PlayerState.QUEUED, 2)


def test_a_player_without_an_action_for_the_window_goes_afk_and_the_queue_head_comes_in():
    roster = a_roster("ann", "bob", "cat", "dan")
    roster.touch({"ann": 60_000, "cat": 60_000, "dan": 60_000})
    admitted = roster.sweep(WINDOW, cap=2, window_ms=WINDOW)
    assert admitted == ["cat"]
    assert state_of(roster, "bob", WINDOW) == (PlayerState.AFK, None)
    assert state_of(roster, "dan", WINDOW) == (PlayerState.QUEUED, 1)


def test_an_action_keeps_a_player_playing_for_another_window():
    roster = a_roster("ann")
    roster.touch({"ann": 100_000})
    roster.sweep(150_000, cap=2, window_ms=WINDOW)
    assert state_of(roster, "ann", 150_000)[0] is PlayerState.PLAYING
    assert roster.next_expiry(WINDOW) == 220_000


def test_returning_within_the_window_keeps_playing_without_queueing_or_a_fresh_window():
    roster = a_roster("ann", "bob", "cat", cap=1)
    roster.join("ann", 90_000, cap=1, window_ms=WINDOW)
    assert state_of(roster, "ann", 90_000)[0] is PlayerState.PLAYING
    assert roster.next_expiry(WINDOW) == WINDOW  # joining again is not a game action


def test_a_waiting_user_keeps_their_place_when_they_join_again():
    roster = a_roster("ann", "bob", "cat", cap=1)
    roster.join("bob", 10_000, cap=1, window_ms=WINDOW)
    assert state_of(roster, "bob", 10_000) == (PlayerState.QUEUED, 1)


def test_a_waiting_user_not_seen_for_the_window_loses_their_place():
    roster = a_roster("ann", "bob", "cat", cap=1)
    roster.touch({"ann": 100_000, "cat": 100_000})
    roster.sweep(WINDOW, cap=1, window_ms=WINDOW)
    assert state_of(roster, "bob", WINDOW)[0] is PlayerState.AFK
    assert state_of(roster, "cat", WINDOW) == (PlayerState.QUEUED, 1)


def test_touching_an_afk_player_does_not_bring_them_back():
    roster = a_roster("ann", cap=1)
    roster.sweep(WINDOW, cap=1, window_ms=WINDOW)
    roster.touch({"ann": WINDOW})
    assert "ann" not in roster.players


def test_a_newcomer_queues_behind_waiting_users_even_when_a_place_is_free():
    roster = a_roster("ann", "bob", cap=1)
    roster.players.clear()  # a place freed, not yet swept
    roster.join("cat", 1, cap=1, window_ms=WINDOW)
    assert state_of(roster, "bob", 1)[0] is PlayerState.PLAYING
    assert state_of(roster, "cat", 1) == (PlayerState.QUEUED, 1)


def test_a_player_waiting_out_a_long_cooldown_does_not_go_afk_before_the_window_after_it():
    cooldown = 300_000  # r/place's five minutes, longer than the AFK window
    roster = a_roster("ann")
    placed_at = 10_000
    roster.touch({"ann": window_start(placed_at, placed_at + cooldown)})
    roster.sweep(placed_at + WINDOW + 1, cap=2, window_ms=WINDOW)
    assert state_of(roster, "ann", placed_at + WINDOW + 1)[0] is PlayerState.PLAYING
    gone = placed_at + cooldown + WINDOW
    roster.sweep(gone, cap=2, window_ms=WINDOW)
    assert state_of(roster, "ann", gone)[0] is PlayerState.AFK


def test_the_afk_window_starts_at_the_later_of_the_action_and_the_end_of_its_cooldown():
    assert window_start(50_000, 20_000) == 50_000
    assert window_start(50_000, 350_000) == 350_000


def test_joining_together_is_joining_one_after_another():
    one_by_one, together = a_roster("ann", "bob", cap=2), a_roster("ann", "bob", cap=2)
    for user in ("cat", "ann", "dan", "cat"):
        one_by_one.join(user, 5, cap=2, window_ms=WINDOW)
    together.join_all(["cat", "ann", "dan", "cat"], 5, cap=2, window_ms=WINDOW)
    assert together == one_by_one
    assert [waiting.user for waiting in together.queue] == ["cat", "dan"]
