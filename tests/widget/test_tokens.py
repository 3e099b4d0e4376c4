"""Signed customer tokens: the shop signs ``customer_id|expiry``, the console verifies."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

import pytest

from common.settings import Settings, SettingsError
from desk.widget_tokens import TokenProblem, sign_token, verify_token

SECRET = "s3cret"
NOW = 1_800_000_000


def test_a_signed_token_verifies_to_its_customer() -> None:
    token = sign_token("C000001", NOW + 600, SECRET)
    expected = hmac.new(SECRET.encode(), f"C000001|{NOW + 600}".encode(), hashlib.sha256).hexdigest()
    assert token == f"C000001|{NOW + 600}|{expected}"  # what any shop backend can compute
    check = verify_token(token, SECRET, now=NOW)
    assert check.valid and check.customer_id == "C000001" and check.problem is None


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (None, TokenProblem.MISSING),
        ("", TokenProblem.MISSING),
        ("C000001", TokenProblem.MALFORMED),
        ("C000001|soon|abc", TokenProblem.MALFORMED),
        ("C0<x>|1|abc", TokenProblem.MALFORMED),
        ("C000001|" + "9" * 300 + "|a", TokenProblem.MALFORMED),
        (f"C000001|{NOW + 600}|" + "0" * 64, TokenProblem.BAD_SIGNATURE),
    ],
)
def test_bad_tokens_are_refused(token: str | None, problem: TokenProblem) -> None:
    check = verify_token(token, SECRET, now=NOW)
    assert not check.valid and check.customer_id is None and check.problem == problem


def test_a_token_for_another_customer_or_secret_is_refused() -> None:
    token = sign_token("C000001", NOW + 600, SECRET)
    _, expiry, signature = token.split("|")
    assert verify_token(f"C000002|{expiry}|{signature}", SECRET, now=NOW).problem == TokenProblem.BAD_SIGNATURE
    assert verify_token(f"C000001|{int(expiry) + 9999}|{signature}", SECRET, now=NOW).problem == TokenProblem.BAD_SIGNATURE
    assert verify_token(token, "another secret", now=NOW).problem == TokenProblem.BAD_SIGNATURE


def test_an_expired_token_is_refused_after_a_minute_of_clock_skew() -> None:
    token = sign_token("C000001", NOW, SECRET)
    assert verify_token(token, SECRET, now=NOW + 59).valid
    assert verify_token(token, SECRET, now=NOW + 61).problem == TokenProblem.EXPIRED


def test_a_customer_id_a_token_cannot_carry_is_not_signed() -> None:
    with pytest.raises(ValueError):
        sign_token("C0|01", NOW, SECRET)


def test_the_secret_comes_from_the_environment_and_production_needs_one() -> None:
    assert Settings.from_env({"WIDGET_TOKEN_SECRET": "abc"}).widget_token_secret == "abc"
    # production with every other development secret replaced: only the widget's is left to refuse
    others = {f.name: "set-in-production" for f in dataclasses.fields(Settings)
              if str(f.default).startswith("dev-only") and f.name != "widget_token_secret"}
    production = dataclasses.replace(Settings(), environment="production", **others)
    with pytest.raises(SettingsError, match="WIDGET_TOKEN_SECRET"):
        production.check()
    dataclasses.replace(production, widget_token_secret="k", rasa_token="t", action_server_token="t").check()
