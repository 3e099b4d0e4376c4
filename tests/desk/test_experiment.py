"""The tone A/B switch: a pure, stable, roughly even assignment; the neutral arm keeps accessibility."""

from __future__ import annotations

from collections import Counter

import pytest

from desk.experiment import ADAPTIVE, Experiment, assign_arm, experiment_from
from sentiment.tone import Tone, choose_tone


def test_parse() -> None:
    assert Experiment.parse("") is None and Experiment.parse(None) is None
    assert Experiment.parse("t1:adaptive,neutral") == Experiment("t1", ("adaptive", "neutral"))
    for bad in ["t1", "t1:adaptive", "t1:adaptive,adaptive", "t1:adaptive,shouting", ":adaptive,neutral"]:
        with pytest.raises(ValueError):
            Experiment.parse(bad)


def test_assignment_is_stable_even_and_keyed_by_the_experiment() -> None:
    exp = experiment_from("t1:adaptive,neutral")
    ids = [f"web-{i:05d}" for i in range(2000)]
    arms = [assign_arm(i, exp) for i in ids]
    assert arms == [assign_arm(i, exp) for i in ids]  # pure
    counts = Counter(arms)
    assert set(counts) == {"adaptive", "neutral"} and abs(counts["adaptive"] - 1000) < 100
    other = [assign_arm(i, experiment_from("t2:adaptive,neutral")) for i in ids]
    assert 0.35 < sum(a != b for a, b in zip(arms, other)) / len(ids) < 0.65  # a new name reshuffles
    assert assign_arm("web-1", None) == ADAPTIVE  # no experiment: everyone adaptive


def test_neutral_strategy_ignores_feelings_but_keeps_elder_friendly() -> None:
    upset = dict(sentiment="negative", emotion="anger", trend="worsening", segment="new", personalized=True)
    assert choose_tone(**upset, elderly=False) is Tone.EMPATHETIC
    assert choose_tone(**upset, elderly=False, strategy="neutral") is Tone.NEUTRAL
    assert choose_tone(**upset, elderly=True, strategy="neutral") is Tone.ELDER_FRIENDLY
    assert choose_tone(**{**upset, "personalized": False}, elderly=True, strategy="neutral") is Tone.NEUTRAL
