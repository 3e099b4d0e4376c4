"""The demo shop page signs in every customer of the demo cast (demo/seed.py ``DEMO_CAST``), so what the
cast is for can be tried in ``make run``: the accessibility customer's larger text, the dormant customer's
welcome-back offer and birthday care, the opted-out customer."""

from __future__ import annotations

import re

import pytest

from demo.seed import DEMO_CAST
from desk.widget_tokens import verify_token
from tests.desk.console.conftest import Console
from tests.widget.conftest import SECRET


@pytest.mark.parametrize("customer_id", sorted(set(DEMO_CAST.values())))
def test_every_cast_member_can_be_signed_in_on_the_demo_shop(widget_console: Console, customer_id: str) -> None:
    page = widget_console.client().get("/demo/shop", params={"customer": customer_id}).text
    assert f'<option value="{customer_id}" selected>' in page
    token = re.search(r'data-token="([^"]+)"', page)
    assert token is not None, "signed in as a guest"
    check = verify_token(token.group(1), SECRET)
    assert check.valid and check.customer_id == customer_id
