"""Each desk test makes a desk of its own: the tests of a module share one service."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Site


@pytest.fixture
def site(shared_site: Site) -> Site:
    return shared_site
