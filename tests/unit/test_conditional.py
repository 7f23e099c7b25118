from api.conditional import unchanged


def test_a_tag_among_several_and_weak_or_strong_alike_is_unchanged():
    assert unchanged('"1", W/"7" ,"9"', '"7"')
    assert unchanged('"7"', 'W/"7"')
    assert unchanged("*", '"anything"')


def test_no_header_or_other_tags_are_changed():
    assert not unchanged(None, '"7"')
    assert not unchanged("", '"7"')
    assert not unchanged('"70", "8"', '"7"')
