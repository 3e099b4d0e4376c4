"""The A/B switch for tone strategies: which arm a conversation is in (pure, no I/O).

The experiment is configured by ``TONE_EXPERIMENT`` = ``"<name>:<arm>,<arm>..."`` (empty: off, every
conversation gets the default ``adaptive`` strategy). The arm is a pure function of the conversation id
and the experiment name: SHA-256 of ``name/conversation_id``, so it is uniformly spread, stable across
turns, processes and restarts, and a new experiment name reshuffles everyone. The action server reads
it when choosing the tone; ``ConversationLog`` stores it per conversation for the dashboards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

ADAPTIVE = "adaptive"
NEUTRAL = "neutral"
STRATEGIES = (ADAPTIVE, NEUTRAL)


@dataclass(frozen=True)
class Experiment:
    name: str
    arms: tuple[str, ...]

    @classmethod
    def parse(cls, spec: str | None) -> Experiment | None:
        """``"tone-2026:adaptive,neutral"`` → Experiment; empty → None; unknown arms are an error."""
        if not spec or not spec.strip():
            return None
        name, _, arms_text = spec.strip().partition(":")
        arms = tuple(a.strip() for a in arms_text.split(",") if a.strip())
        if not name.strip() or len(arms) < 2 or len(set(arms)) != len(arms):
            raise ValueError(f"TONE_EXPERIMENT must look like 'name:adaptive,neutral', got {spec!r}")
        unknown = set(arms) - set(STRATEGIES)
        if unknown:
            raise ValueError(f"unknown tone strategies {sorted(unknown)}; known: {STRATEGIES}")
        return cls(name=name.strip(), arms=arms)


def assign_arm(conversation_id: str, experiment: Experiment | None) -> str:
    """The conversation's arm (``adaptive`` when no experiment runs)."""
    if experiment is None:
        return ADAPTIVE
    digest = hashlib.sha256(f"{experiment.name}/{conversation_id}".encode()).digest()
    return experiment.arms[int.from_bytes(digest[:8], "big") % len(experiment.arms)]


@lru_cache(maxsize=8)
def experiment_from(spec: str | None) -> Experiment | None:
    """``Experiment.parse``, cached (the action server asks on every turn)."""
    return Experiment.parse(spec)
