"""Long operator tasks report progress: redrawn in place on a terminal, else a line now and then."""

from infra.progress import reporter


def test_on_a_terminal_the_bar_is_redrawn_in_place_with_rate_and_time_left():
    said: list[str] = []
    report = reporter(said.append, tty=True, what="rebuild bitmap")
    report(250, 1000)
    report(1000, 1000)
    assert all(line.startswith("\rrebuild bitmap [") for line in said)
    assert "25.0% 250/1,000 events" in said[0] and "s left" in said[0]
    assert "100.0%" in said[1] and "done" in said[1]


def test_elsewhere_a_line_every_few_seconds_and_one_at_the_end():
    said: list[str] = []
    report = reporter(said.append, tty=False, what="export", every_s=3600)
    for done in (1, 2, 3):
        report(done, 4)
    report(4, 4)
    assert len(said) == 2  # the first, then the end; nothing in between within the hour
    assert said[-1].startswith("export: 4 of 4 events (100.0%)") and said[-1].endswith("done")
