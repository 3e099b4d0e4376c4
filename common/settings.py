"""Settings: read once from the environment, typed, failing fast.

This is the only module that reads ``os.environ``. Every variable has a safe
embedded default (SQLite, in-process stores) so ``make run`` works on a fresh
machine; production switches by setting variables only (see ``.env.example``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A variable is present but unusable."""


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{key} must be an integer, got {raw!r}") from exc


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{key} must be a boolean (true/false), got {raw!r}")


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'var' / 'assistant.db'}"
    redis_url: str | None = None
    # salt for hashing contact data kept only for lookup (phone, e-mail, ID number)
    pii_hash_salt: str = "dev-only-salt"
    environment: str = "development"
    seed_demo_data: bool = True
    sentiment_backend: str = "lexicon"
    sentiment_model: str = str(ROOT / "models" / "sentiment")
    handoff_wait_minutes_per_position: int = 3
    repeat_contact_window_days: int = 30
    low_csat_threshold: int = 2
    followup_due_hours: int = 24
    segments_file: Path = field(default=ROOT / "profiles" / "segments.yml")
    forbidden_words_file: Path = field(default=ROOT / "bot" / "forbidden_words.yml")
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        settings = cls(
            database_url=env.get("DATABASE_URL") or cls.database_url,
            redis_url=env.get("REDIS_URL") or None,
            pii_hash_salt=env.get("PII_HASH_SALT") or cls.pii_hash_salt,
            environment=env.get("ENVIRONMENT") or cls.environment,
            seed_demo_data=_bool(env, "SEED_DEMO_DATA", True),
            sentiment_backend=env.get("SENTIMENT_BACKEND") or cls.sentiment_backend,
            sentiment_model=env.get("SENTIMENT_MODEL") or cls.sentiment_model,
            handoff_wait_minutes_per_position=_int(env, "HANDOFF_WAIT_MINUTES_PER_POSITION", 3),
            repeat_contact_window_days=_int(env, "REPEAT_CONTACT_WINDOW_DAYS", 30),
            low_csat_threshold=_int(env, "LOW_CSAT_THRESHOLD", 2),
            followup_due_hours=_int(env, "FOLLOWUP_DUE_HOURS", 24),
            segments_file=Path(env.get("SEGMENTS_FILE") or cls.segments_file),
            forbidden_words_file=Path(env.get("FORBIDDEN_WORDS_FILE") or cls.forbidden_words_file),
            log_level=env.get("LOG_LEVEL") or cls.log_level,
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.environment == "production" and self.pii_hash_salt == "dev-only-salt":
            raise SettingsError("PII_HASH_SALT must be set to a secret value in production")
        if self.sentiment_backend not in {"lexicon", "transformers"}:
            raise SettingsError(
                f"SENTIMENT_BACKEND must be 'lexicon' or 'transformers', got {self.sentiment_backend!r}"
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
