"""`?at_seq=` and the history's other versions: whole numbers from 0 up, else a 422 that names
the parameter."""

from __future__ import annotations

import pytest

from api.errors import ApiError
from api.versions import MAX_SEQ, parse_seq, required_seq


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("7", 7), (" 12 ", 12), (None, None),
                                             (str(MAX_SEQ), MAX_SEQ)])
def test_a_whole_number_from_zero_is_a_version(text, value):
    assert parse_seq(text) == value


@pytest.mark.parametrize("text", ["", "-1", "+1", "1.0", "1e3", "abc", "١٢", "0x10",
                                  str(MAX_SEQ + 1), "9" * 40])
def test_anything_else_is_refused_naming_the_parameter(text):
    with pytest.raises(ApiError) as refused:
        parse_seq(text, "since")
    assert refused.value.code == "invalid_version" and refused.value.status_code == 422
    assert "since=" in refused.value.detail


def test_a_required_version_that_is_missing_is_refused():
    with pytest.raises(ApiError) as refused:
        required_seq(None, "until")  # type: ignore[arg-type]
    assert refused.value.code == "invalid_version"
