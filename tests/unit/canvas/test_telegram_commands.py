import pytest

from api.canvas.telegram_bot import Command, RecentIds, parse_command, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/status", Command("status", [])),
        ("/Status@PixelWarsBot", Command("status", [])),
        ("/status@pixelwarsbot", Command("status", [])),
        ("/newgame  64   48", Command("newgame", ["64", "48"])),
        ("/newgame@PixelWarsBot 64 48", Command("newgame", ["64", "48"])),
        ("/status@OtherBot", None),
        ("status", None),
        ("hello /status", None),
    ],
)
def test_commands_are_read_with_or_without_the_bot_name(text, expected):
    assert parse_command(text, "PixelWarsBot") == expected


@pytest.mark.parametrize(
    ("args", "size"),
    [
        (["64", "48"], (64, 48)),
        (["64x48"], (64, 48)),
        (["64×48"], (64, 48)),
        (["1", "4096"], (1, 4096)),
        (["0", "48"], None),
        (["4097", "1"], None),
        (["64"], None),
        (["64", "48", "1"], None),
        (["-1", "5"], None),
        (["+5", "5"], None),
        (["٦٤", "48"], None),
        ([], None),
    ],
)
def test_a_size_is_two_whole_numbers_from_1_to_4096(args, size):
    assert parse_size(args) == size


def test_recent_ids_remember_a_bounded_number():
    seen = RecentIds(capacity=2)
    assert [seen.add(i) for i in (1, 2, 1)] == [True, True, False]
    seen.add(3)  # forgets 1
    assert seen.add(1) is True
    assert seen.add(3) is False
