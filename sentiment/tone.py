"""Tone and escalation policy: pure functions of the conversation's signals.

``choose_tone`` decides how the bot sounds; ``trend`` reads the last turns' polarity;
``escalation`` decides whether a human is offered (or brought in) before the customer peaks.
The wording of every tone lives in the domain (``bot/domain/responses_tone.yml``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from sentiment import ANGER, ANXIETY, NEGATIVE, POSITIVE


class Tone(str, enum.Enum):
    NEUTRAL = "neutral"
    EMPATHETIC = "empathetic"
    CONCISE = "concise"
    WARM = "warm"
    ELDER_FRIENDLY = "elder_friendly"


class Trend(str, enum.Enum):
    WORSENING = "worsening"
    STEADY = "steady"
    IMPROVING = "improving"


class Escalation(str, enum.Enum):
    NONE = "none"
    OFFER = "offer"  # offer a human, the customer decides
    HANDOFF = "handoff"  # bring a human in now


TREND_WINDOW = 3
TREND_DELTA = 0.3
HISTORY_LIMIT = 10


def trend(history: Sequence[float], window: int = TREND_WINDOW) -> Trend:
    """Compare the latest score with the mean of the few before it.

    >>> trend([0.2, -0.1, -0.5]).value
    'worsening'
    """
    scores = [float(s) for s in history if s is not None]
    if len(scores) < 2:
        return Trend.STEADY
    latest = scores[-1]
    previous = scores[-1 - window : -1] or scores[:-1]
    baseline = sum(previous) / len(previous)
    if latest <= baseline - TREND_DELTA:
        return Trend.WORSENING
    if latest >= baseline + TREND_DELTA:
        return Trend.IMPROVING
    return Trend.STEADY


def push_history(history: Sequence[float] | None, score: float) -> list[float]:
    return [*list(history or [])[-(HISTORY_LIMIT - 1) :], round(float(score), 3)]


def choose_tone(
    *,
    sentiment: str,
    emotion: str,
    trend: Trend | str,
    segment: str | None,
    elderly: bool,
    personalized: bool,
    intensity: str = "medium",
    strategy: str = "adaptive",
) -> Tone:
    """How the bot should sound for this turn.

    ``strategy`` is the conversation's arm in the tone A/B test (``desk.experiment``): ``adaptive``
    (the policy below) or ``neutral`` (the control arm: always neutral, except the elder-friendly
    tone, which is an accessibility choice and stays on in both arms).

    Feelings come first: anger, anxiety, negative polarity or a worsening trend get the
    empathetic tone whoever the customer is. Profile-based tones (elder-friendly, concise for
    high-value regulars, warm for new and at-risk customers) apply only with the customer's
    consent to personalisation (PIPL); without it the bot is neutral. At the customer's ``low``
    personalisation intensity only the elder-friendly tone (an accessibility choice) remains.
    """
    if strategy == "neutral":
        return Tone.ELDER_FRIENDLY if personalized and elderly else Tone.NEUTRAL
    if emotion in (ANGER, ANXIETY) or sentiment == NEGATIVE or Trend(trend) is Trend.WORSENING:
        return Tone.EMPATHETIC
    if not personalized:
        return Tone.NEUTRAL
    if elderly:
        return Tone.ELDER_FRIENDLY
    if intensity == "low":
        return Tone.NEUTRAL
    if segment == "important_value":
        return Tone.CONCISE
    if segment in ("at_risk", "new") or sentiment == POSITIVE:
        return Tone.WARM
    return Tone.NEUTRAL


def escalation(
    *,
    emotion: str,
    trend: Trend | str,
    sentiment: str,
    history: Sequence[float],
    priority_customer: bool,
) -> Escalation:
    """Whether to bring in a human for an upset customer.

    Anger or anxiety → a human now. A customer who is getting more upset (worsening trend while
    negative, or two negative turns in a row) is offered a human before the peak; VIP and elderly
    customers are offered one at the first negative turn. A customer who calms down is left alone.
    """
    if emotion in (ANGER, ANXIETY):
        return Escalation.HANDOFF
    current = Trend(trend)
    if current is Trend.IMPROVING:
        return Escalation.NONE
    if sentiment == NEGATIVE:
        recent = [float(s) for s in history[-2:]]
        two_negative = len(recent) == 2 and all(s <= -0.25 for s in recent)
        if current is Trend.WORSENING or two_negative or priority_customer:
            return Escalation.OFFER
    return Escalation.NONE


def fallback_threshold(*, priority_customer: bool) -> int:
    """Fallbacks in a row before a human is offered (VIP and elderly customers: at the first)."""
    return 1 if priority_customer else 2
