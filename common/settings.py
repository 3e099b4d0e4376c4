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


# ENVIRONMENT: exactly one of these (anything else refuses to start). "development" and "test" run on
# the embedded defaults (demo secrets, demo users in development only); the others are production-like:
# they need every secret, Secure cookies, signed widget tokens and no development pages.
ENVIRONMENTS = ("development", "test", "staging", "production")
PRODUCTION_LIKE = frozenset({"staging", "production"})


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
    environment: str = "development"  # one of ENVIRONMENTS; ask is_production / is_development, not the string
    seed_demo_data: bool = True
    # "transformers": the model in SENTIMENT_MODEL (a directory or a Hugging Face hub id) with the
    # lexicon's cues on top; "lexicon": cue lists only (no model, no TensorFlow in the action server)
    sentiment_backend: str = "transformers"
    sentiment_model: str = str(ROOT / "sentiment" / "model")
    sentiment_max_tokens: int = 128
    handoff_wait_minutes_per_position: int = 3
    repeat_contact_window_days: int = 30
    low_csat_threshold: int = 2
    followup_due_hours: int = 24
    segments_file: Path = field(default=ROOT / "profiles" / "segments.yml")
    forbidden_words_file: Path = field(default=ROOT / "bot" / "forbidden_words.yml")
    log_level: str = "INFO"
    # WeChat Official Account channel (bot/connectors/wechat.py, docs/wechat.md); off while the token is empty
    wechat_token: str | None = None
    wechat_aes_key: str | None = None  # EncodingAESKey, 43 characters (compatible and safe mode)
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_mode: str = "plain"  # plain | compatible | safe (default: safe when an AES key is set)
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_budget_ms: int = 4500  # answer passively within this, else "success" + customer-service API
    wechat_max_skew_s: int = 300  # older or newer signed timestamps are refused (403)
    wechat_max_body_bytes: int = 65536  # larger request bodies are refused (413)
    wechat_window_hours: int = 48  # customer-service messages allowed this long after the customer's last message
    wechat_window_messages: int = 5  # ... and at most this many of them
    wechat_menu_file: Path = field(default=ROOT / "bot" / "connectors" / "wechat_menu.yml")
    # agent console (desk/console): where it listens, the Rasa server it talks to, sessions, live updates
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None  # Rasa's --auth-token: every API call but the channels' webhooks needs it
    # shared secret Rasa sends to the action server (X-Action-Token, bot/endpoints.yml; actions/server.py)
    action_server_token: str | None = None
    action_host: str = "127.0.0.1"  # the action server answers Rasa only: loopback in the embedded default
    # Rasa's tracker database (events + checkpoints), for privacy export/erasure and retention (desk.privacy)
    tracker_db_url: str = f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
    # customer lines per sender: a token bucket of RATE_LIMIT_BURST refilled at RATE_LIMIT_PER_MINUTE (0 = off)
    rate_limit_per_minute: int = 60
    rate_limit_burst: int = 20
    max_body_bytes: int = 65536  # larger request bodies are refused (413): Rasa REST channel, console
    transcript_retention_days: int = 0  # transcripts older than this are deleted by desk.retention; 0 = keep
    console_host: str = "127.0.0.1"
    console_port: int = 8000
    console_session_hours: int = 8
    # proxies whose X-Forwarded-For gives the client address (uvicorn's forwarded_allow_ips): comma-separated
    # addresses; "*" (anyone may claim any address) is refused where is_production
    forwarded_allow_ips: str = "127.0.0.1"
    # failed sign-ins (desk/console/routes/auth.py): at this many within the window, sign-in answers 429; 0 = off
    login_max_failures_per_user: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window_minutes: int = 15
    console_secure_cookies: bool = False  # Secure cookies (HTTPS only); on by default in production
    console_queue_poll_ms: int = 500  # how often the console looks for handoffs queued by the action server
    console_transcript_poll_ms: int = 2000  # for channels the console does not carry itself (WeChat, REST)
    # supervisor review (issue 5): sealed raw phone / ID number for audited reveals (profiles.vault)
    pii_vault_key: str = "dev-only-vault-key"
    # queued handoffs nobody claims within this many minutes time out (callback/ticket offered); 0 = never
    handoff_timeout_minutes: int = 5
    # a queued customer silent this long and with no open chat connection has left: abandoned; 0 = never.
    # Shorter than the timeout, or the timeout always comes first (WeChat customers always get the timeout)
    handoff_abandon_minutes: int = 2
    queue_sweep_s: int = 30  # how often the console looks for timed-out and abandoned handoffs
    handoff_max_queued_guests: int = 20  # guests waiting at once (desk/handoffs.py: the flood bound)
    handoff_max_queued: int = 500  # handoffs waiting at once, everyone together
    handoff_guest_requests_per_hour: int = 3  # handoffs one guest conversation opens in an hour
    # A/B test of tone strategies: "name:arm1,arm2" (empty = off, everyone adaptive); desk.experiment
    tone_experiment: str = ""  # e.g. "tone-2026:adaptive,neutral"
    # web chat widget (widget/, served by the console): HMAC-SHA256 key of the shop's signed customer tokens
    widget_token_secret: str = "dev-only-widget-secret"
    # Rasa retries a custom action this long while the action server is unreachable, then says "please hold"
    action_retry_seconds: int = 5  # (bot/action_hold.py)
    # callback tickets promised while the database is down wait here (desk/outbox.py), flushed every few seconds
    outbox_dir: Path = field(default=ROOT / "var" / "outbox")
    outbox_flush_s: int = 5

    @property
    def is_production(self) -> bool:
        """Production-like (staging, production): real secrets, Secure cookies, no development pages."""
        return self.environment in PRODUCTION_LIKE

    @property
    def is_development(self) -> bool:
        """A developer's machine: demo users and their published passwords are allowed here only."""
        return self.environment == "development"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        environment = env.get("ENVIRONMENT") or cls.environment
        settings = cls(
            database_url=env.get("DATABASE_URL") or cls.database_url,
            redis_url=env.get("REDIS_URL") or None,
            pii_hash_salt=env.get("PII_HASH_SALT") or cls.pii_hash_salt,
            environment=environment,
            seed_demo_data=_bool(env, "SEED_DEMO_DATA", True),
            sentiment_backend=env.get("SENTIMENT_BACKEND") or cls.sentiment_backend,
            sentiment_model=env.get("SENTIMENT_MODEL") or cls.sentiment_model,
            sentiment_max_tokens=_int(env, "SENTIMENT_MAX_TOKENS", 128),
            handoff_wait_minutes_per_position=_int(env, "HANDOFF_WAIT_MINUTES_PER_POSITION", 3),
            repeat_contact_window_days=_int(env, "REPEAT_CONTACT_WINDOW_DAYS", 30),
            low_csat_threshold=_int(env, "LOW_CSAT_THRESHOLD", 2),
            followup_due_hours=_int(env, "FOLLOWUP_DUE_HOURS", 24),
            segments_file=Path(env.get("SEGMENTS_FILE") or cls.segments_file),
            forbidden_words_file=Path(env.get("FORBIDDEN_WORDS_FILE") or cls.forbidden_words_file),
            log_level=env.get("LOG_LEVEL") or cls.log_level,
            wechat_token=env.get("WECHAT_TOKEN") or None,
            wechat_aes_key=env.get("WECHAT_AES_KEY") or None,
            wechat_app_id=env.get("WECHAT_APP_ID") or None,
            wechat_app_secret=env.get("WECHAT_APP_SECRET") or None,
            wechat_mode=env.get("WECHAT_MODE") or ("safe" if env.get("WECHAT_AES_KEY") else cls.wechat_mode),
            wechat_api_base=env.get("WECHAT_API_BASE") or cls.wechat_api_base,
            wechat_reply_budget_ms=_int(env, "WECHAT_REPLY_BUDGET_MS", 4500),
            wechat_max_skew_s=_int(env, "WECHAT_MAX_SKEW_S", 300),
            wechat_max_body_bytes=_int(env, "WECHAT_MAX_BODY_BYTES", 65536),
            wechat_window_hours=_int(env, "WECHAT_WINDOW_HOURS", 48),
            wechat_window_messages=_int(env, "WECHAT_WINDOW_MESSAGES", 5),
            wechat_menu_file=Path(env.get("WECHAT_MENU_FILE") or cls.wechat_menu_file),
            rasa_url=env.get("RASA_URL") or f"http://127.0.0.1:{_int(env, 'RASA_PORT', 5005)}",
            rasa_token=env.get("RASA_AUTH_TOKEN") or env.get("RASA_TOKEN") or None,
            action_server_token=env.get("ACTION_SERVER_TOKEN") or None,
            action_host=env.get("ACTION_HOST") or cls.action_host,
            tracker_db_url=env.get("TRACKER_DB_URL")
            or (f"sqlite:///{Path(env['TRACKER_DB']).resolve()}" if env.get("TRACKER_DB") else cls.tracker_db_url),
            rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 60),
            rate_limit_burst=_int(env, "RATE_LIMIT_BURST", 20),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 65536),
            transcript_retention_days=_int(env, "TRANSCRIPT_RETENTION_DAYS", 0),
            console_host=env.get("CONSOLE_HOST") or cls.console_host,
            console_port=_int(env, "CONSOLE_PORT", 8000),
            console_session_hours=_int(env, "CONSOLE_SESSION_HOURS", 8),
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS") or cls.forwarded_allow_ips,
            login_max_failures_per_user=_int(env, "LOGIN_MAX_FAILURES_PER_USER", 5),
            login_max_failures_per_ip=_int(env, "LOGIN_MAX_FAILURES_PER_IP", 20),
            login_failure_window_minutes=_int(env, "LOGIN_FAILURE_WINDOW_MINUTES", 15),
            console_secure_cookies=_bool(env, "CONSOLE_SECURE_COOKIES", environment in PRODUCTION_LIKE),
            console_queue_poll_ms=_int(env, "CONSOLE_QUEUE_POLL_MS", 500),
            console_transcript_poll_ms=_int(env, "CONSOLE_TRANSCRIPT_POLL_MS", 2000),
            pii_vault_key=env.get("PII_VAULT_KEY") or cls.pii_vault_key,
            handoff_timeout_minutes=_int(env, "HANDOFF_TIMEOUT_MINUTES", 5),
            handoff_abandon_minutes=_int(env, "HANDOFF_ABANDON_MINUTES", 2),
            queue_sweep_s=_int(env, "QUEUE_SWEEP_S", 30),
            handoff_max_queued_guests=_int(env, "HANDOFF_MAX_QUEUED_GUESTS", 20),
            handoff_max_queued=_int(env, "HANDOFF_MAX_QUEUED", 500),
            handoff_guest_requests_per_hour=_int(env, "HANDOFF_GUEST_REQUESTS_PER_HOUR", 3),
            tone_experiment=env.get("TONE_EXPERIMENT", cls.tone_experiment),
            widget_token_secret=env.get("WIDGET_TOKEN_SECRET") or cls.widget_token_secret,
            action_retry_seconds=_int(env, "ACTION_RETRY_SECONDS", 5),
            outbox_dir=Path(env.get("OUTBOX_DIR") or cls.outbox_dir),
            outbox_flush_s=_int(env, "OUTBOX_FLUSH_S", 5),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise SettingsError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}; got {self.environment!r}")
        if self.is_production and self.pii_hash_salt == "dev-only-salt":
            raise SettingsError(f"PII_HASH_SALT must be set to a secret value in {self.environment}")
        if self.is_production and self.pii_vault_key == "dev-only-vault-key":
            raise SettingsError(f"PII_VAULT_KEY must be set to a secret value in {self.environment}")
        if self.is_production and self.widget_token_secret == "dev-only-widget-secret":
            raise SettingsError(f"WIDGET_TOKEN_SECRET must be set to a secret value in {self.environment}")
        if self.is_production and not (self.rasa_token and self.action_server_token):
            raise SettingsError(f"RASA_AUTH_TOKEN and ACTION_SERVER_TOKEN must be set in {self.environment}")
        if self.is_production and "*" in self.forwarded_allow_ips:
            raise SettingsError("FORWARDED_ALLOW_IPS must name the proxy's address, not '*', in "
                                f"{self.environment}: anyone could claim any client address")
        if self.sentiment_backend not in {"lexicon", "transformers"}:
            raise SettingsError(
                f"SENTIMENT_BACKEND must be 'lexicon' or 'transformers', got {self.sentiment_backend!r}"
            )
        if self.wechat_mode not in {"plain", "compatible", "safe"}:
            raise SettingsError(f"WECHAT_MODE must be plain, compatible or safe, got {self.wechat_mode!r}")
        if self.wechat_mode != "plain" and self.wechat_token and (
            not self.wechat_aes_key or len(self.wechat_aes_key) != 43 or not self.wechat_app_id
        ):
            raise SettingsError("WECHAT_MODE compatible/safe needs WECHAT_AES_KEY (43 characters) and WECHAT_APP_ID")
        if not 500 <= self.wechat_reply_budget_ms <= 4900:
            raise SettingsError("WECHAT_REPLY_BUDGET_MS must be between 500 and 4900 (WeChat waits 5 s)")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
