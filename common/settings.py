"""Settings: read once from the environment, typed, failing fast.

This is the only module that reads ``os.environ``. Each setting is declared once, as one field of
:class:`Settings`: its type, its environment variable, its default and what it means; one loop
(:meth:`Settings.from_env`) reads them all. The README's configuration table is generated from these
declarations (``scripts/settings_table.py --write``). Every variable has a safe embedded default
(SQLite, in-process stores) so ``make run`` works on a fresh machine; production switches by setting
variables only (see ``.env.example``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, get_type_hints

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


Derive = Callable[[Mapping[str, str]], Any]


def setting(env: str, default: Any, doc: str, *, derive: Derive | None = None, shown: str = "",
            keep_empty: bool = False) -> Any:
    """Declare one setting: read from ``env``; unset or empty gives ``default``.

    ``derive`` computes the default from other variables instead (e.g. ``RASA_URL`` from ``RASA_PORT``);
    ``shown`` is how the README shows such a default; ``keep_empty`` keeps an empty value instead of the default.
    """
    meta = {"env": env, "doc": doc, "derive": derive, "shown": shown, "keep_empty": keep_empty}
    return field(default=default, metadata=meta)


def _rasa_url(env: Mapping[str, str]) -> str:
    return f"http://127.0.0.1:{_int(env, 'RASA_PORT', 5005)}"


def _rasa_token(env: Mapping[str, str]) -> str | None:
    return env.get("RASA_TOKEN") or None


def _tracker_db_url(env: Mapping[str, str]) -> str:
    if env.get("TRACKER_DB"):
        return f"sqlite:///{Path(env['TRACKER_DB']).resolve()}"
    return f"sqlite:///{ROOT / 'var' / 'tracker.db'}"


def _wechat_mode(env: Mapping[str, str]) -> str:
    return "safe" if env.get("WECHAT_AES_KEY") else "plain"


def _secure_cookies(env: Mapping[str, str]) -> bool:
    return (env.get("ENVIRONMENT") or "development") in PRODUCTION_LIKE


_DEV = "(dev value)"


@dataclass(frozen=True)
class Settings:
    database_url: str = setting("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'assistant.db'}",
                                "application data (profiles, tickets, handoffs, feedback); PostgreSQL by URL")
    redis_url: str | None = setting("REDIS_URL", None, "shared store for rate limits and the WeChat token, dedup "
                                    "and window, and for the console replicas' live updates (pub/sub) and "
                                    "sign-in throttling; empty = in-process / the database")
    pii_hash_salt: str = setting("PII_HASH_SALT", "dev-only-salt", "salt of the hashed contact data (phone, e-mail, "
                                 "ID number kept only for lookup); required in production", shown=_DEV)
    environment: str = setting("ENVIRONMENT", "development", "one of development, test, staging, production "
                               "(anything else refuses to start); staging and production refuse default secrets")
    seed_demo_data: bool = setting("SEED_DEMO_DATA", True, "seed the demo customers and orders")
    sentiment_backend: str = setting("SENTIMENT_BACKEND", "transformers", "`transformers` (the model in "
                                     "SENTIMENT_MODEL + n-gram fusion + lexicon cues) or `lexicon` (cue lists only)")
    sentiment_model: str = setting("SENTIMENT_MODEL", str(ROOT / "sentiment" / "model"),
                                   "model directory or Hugging Face hub id")
    sentiment_max_tokens: int = setting("SENTIMENT_MAX_TOKENS", 128, "longer texts keep their start and end")
    sentiment_teacher: str = setting("SENTIMENT_TEACHER", "unsure", "`unsure` (the 12-layer teacher re-reads the "
                                     "messages the shipped model is unsure of) or `off` (the shipped model alone)")
    handoff_wait_minutes_per_position: int = setting("HANDOFF_WAIT_MINUTES_PER_POSITION", 3,
                                                     "wait estimate told to the customer")
    repeat_contact_window_days: int = setting("REPEAT_CONTACT_WINDOW_DAYS", 30,
                                              "window of \"third contact about this in 30 days\"")
    low_csat_threshold: int = setting("LOW_CSAT_THRESHOLD", 2, "a score ≤ this opens a follow-up")
    followup_due_hours: int = setting("FOLLOWUP_DUE_HOURS", 24, "the follow-up of a low score is due in this many hours")
    segments_file: Path = setting("SEGMENTS_FILE", ROOT / "profiles" / "segments.yml", "RFM / lifecycle thresholds")
    offers_file: Path = setting("OFFERS_FILE", ROOT / "profiles" / "offers.yml", "offer rules, amounts and their A/B arms")
    forbidden_words_file: Path = setting("FORBIDDEN_WORDS_FILE", ROOT / "bot" / "forbidden_words.yml",
                                         "words no response may use (relative paths from the repository root)")
    log_level: str = setting("LOG_LEVEL", "INFO", "log level of our processes")
    wechat_token: str | None = setting("WECHAT_TOKEN", None, "WeChat Official Account token; the channel "
                                       "(`bot/connectors/wechat.py`, `docs/wechat.md`) is off while it is empty")
    wechat_aes_key: str | None = setting("WECHAT_AES_KEY", None, "EncodingAESKey, 43 characters (compatible and safe "
                                         "mode)")
    wechat_app_id: str | None = setting("WECHAT_APP_ID", None, "the Official Account's AppID")
    wechat_app_secret: str | None = setting("WECHAT_APP_SECRET", None, "the Official Account's AppSecret")
    wechat_mode: str = setting("WECHAT_MODE", "plain", "plain, compatible or safe", derive=_wechat_mode,
                               shown="plain; safe when WECHAT_AES_KEY is set")
    wechat_api_base: str = setting("WECHAT_API_BASE", "https://api.weixin.qq.com", "WeChat API address")
    wechat_reply_budget_ms: int = setting("WECHAT_REPLY_BUDGET_MS", 4500, "answer passively within this (500-4900), "
                                          "else \"success\" + the customer-service API")
    wechat_max_skew_s: int = setting("WECHAT_MAX_SKEW_S", 300, "older or newer signed timestamps are refused (403)")
    wechat_max_body_bytes: int = setting("WECHAT_MAX_BODY_BYTES", 65536, "larger request bodies are refused (413)")
    wechat_window_hours: int = setting("WECHAT_WINDOW_HOURS", 48, "customer-service messages allowed this long "
                                       "after the customer's last message")
    wechat_window_messages: int = setting("WECHAT_WINDOW_MESSAGES", 5, "... and at most this many of them")
    wechat_menu_file: Path = setting("WECHAT_MENU_FILE", ROOT / "bot" / "connectors" / "wechat_menu.yml",
                                     "the Official Account's menu buttons")
    rasa_url: str = setting("RASA_URL", "http://127.0.0.1:5005", "the Rasa server the console talks to",
                            derive=_rasa_url, shown="`http://127.0.0.1:$RASA_PORT`")
    rasa_token: str | None = setting("RASA_AUTH_TOKEN", None, "Rasa's --auth-token (or RASA_TOKEN): every API call "
                                     "but the channels' webhooks needs it; required in production",
                                     derive=_rasa_token, shown="generated into `var/local_secrets.env`")
    action_server_token: str | None = setting("ACTION_SERVER_TOKEN", None, "shared secret Rasa sends to the action "
                                              "server (`X-Action-Token`); required in production",
                                              shown="generated into `var/local_secrets.env`")
    action_host: str = setting("ACTION_HOST", "127.0.0.1", "where the action server listens (it answers Rasa only)")
    tracker_db_url: str = setting("TRACKER_DB_URL", f"sqlite:///{ROOT / 'var' / 'tracker.db'}",
                                  "Rasa's tracker database, for privacy export/erasure and retention",
                                  derive=_tracker_db_url, shown="`sqlite:///$TRACKER_DB` (`var/tracker.db`)")
    rate_limit_per_minute: int = setting("RATE_LIMIT_PER_MINUTE", 60, "customer lines per sender: a token bucket "
                                         "refilled at this rate (0 = off)")
    rate_limit_burst: int = setting("RATE_LIMIT_BURST", 20, "... holding this many")
    max_body_bytes: int = setting("MAX_BODY_BYTES", 65536, "larger request bodies are refused (413): Rasa REST "
                                  "channel, console")
    transcript_retention_days: int = setting("TRANSCRIPT_RETENTION_DAYS", 0, "`make retention` deletes "
                                             "transcripts older than this (compose: 365); 0 = keep")
    console_host: str = setting("CONSOLE_HOST", "127.0.0.1", "where the console listens; more in "
                                "`desk/console/README.md`")
    console_port: int = setting("CONSOLE_PORT", 8000, "the console's port")
    console_session_hours: int = setting("CONSOLE_SESSION_HOURS", 8, "console sign-in lasts this long")
    forwarded_allow_ips: str = setting("FORWARDED_ALLOW_IPS", "127.0.0.1", "comma-separated proxies whose "
                                       "X-Forwarded-For gives the client address; `*` refused in production")
    login_max_failures_per_user: int = setting("LOGIN_MAX_FAILURES_PER_USER", 5, "failed sign-ins of one user "
                                               "within the window before sign-in answers 429; 0 = off")
    login_max_failures_per_ip: int = setting("LOGIN_MAX_FAILURES_PER_IP", 20, "... of one address")
    login_failure_window_minutes: int = setting("LOGIN_FAILURE_WINDOW_MINUTES", 15, "the window of failed sign-ins")
    console_secure_cookies: bool = setting("CONSOLE_SECURE_COOKIES", False, "Secure cookies (HTTPS only)",
                                           derive=_secure_cookies, shown="false; true in staging and production")
    console_queue_poll_ms: int = setting("CONSOLE_QUEUE_POLL_MS", 500, "how often the console looks for handoffs "
                                         "queued by the action server")
    console_transcript_poll_ms: int = setting("CONSOLE_TRANSCRIPT_POLL_MS", 2000, "the same for channels the "
                                              "console does not carry itself (WeChat, REST)")
    pii_vault_key: str = setting("PII_VAULT_KEY", "dev-only-vault-key", "key of the sealed phone/ID numbers for "
                                 "supervisors' audited reveals; required in production", shown=_DEV)
    handoff_timeout_minutes: int = setting("HANDOFF_TIMEOUT_MINUTES", 5, "queued handoffs nobody claims within this "
                                           "time out (callback ticket + polite notice); 0 = never")
    handoff_abandon_minutes: int = setting("HANDOFF_ABANDON_MINUTES", 2, "a queued customer silent this long with no "
                                           "chat window open has left (abandoned); 0 = never")
    queue_sweep_s: int = setting("QUEUE_SWEEP_S", 30, "how often the console looks for timed-out and abandoned "
                                 "handoffs")
    handoff_max_queued_guests: int = setting("HANDOFF_MAX_QUEUED_GUESTS", 20, "guests waiting at once; past a bound "
                                             "the customer is told politely and stays with the bot")
    handoff_max_queued: int = setting("HANDOFF_MAX_QUEUED", 500, "handoffs waiting at once, everyone together")
    handoff_guest_requests_per_hour: int = setting("HANDOFF_GUEST_REQUESTS_PER_HOUR", 3, "handoffs one guest "
                                                   "conversation opens in an hour")
    tone_experiment: str = setting("TONE_EXPERIMENT", "", "tone A/B test, e.g. `tone-2026:adaptive,neutral` "
                                   "(empty = off); the arm is a hash of the name and conversation id",
                                   keep_empty=True, shown="(off)")
    widget_token_secret: str = setting("WIDGET_TOKEN_SECRET", "dev-only-widget-secret", "HMAC-SHA256 key shared "
                                       "with the shop for signed customer tokens; required in production", shown=_DEV)
    action_retry_seconds: int = setting("ACTION_RETRY_SECONDS", 5, "Rasa retries an unreachable action server this "
                                        "long, then answers `utter_please_hold` (`bot/action_hold.py`)")
    outbox_dir: Path = setting("OUTBOX_DIR", ROOT / "var" / "outbox", "callback tickets promised while the database "
                               "is down wait here (`desk/outbox.py`)")
    outbox_flush_s: int = setting("OUTBOX_FLUSH_S", 5, "... and are written every this many seconds when it is back")
    care_interval_s: int = setting("CARE_INTERVAL_S", 300, "how often the proactive-care scheduler looks for "
                                   "delayed orders, closed complaints and birthdays (`desk/care.py`)")
    care_quiet_hours: str = setting("CARE_QUIET_HOURS", "22:00-08:00", "no proactive message in these hours of "
                                    "the customer's time (HH:MM-HH:MM); it waits until they end")
    care_timezone: str = setting("CARE_TIMEZONE", "Asia/Shanghai", "the customers' time zone for quiet hours "
                                 "and birthdays")
    care_daily_cap: int = setting("CARE_DAILY_CAP", 1, "proactive messages one customer gets in 24 hours at most")
    care_weekly_cap: int = setting("CARE_WEEKLY_CAP", 3, "... and in 7 days")
    care_web_poll_s: int = setting("CARE_WEB_POLL_S", 5, "how often the console hands waiting proactive messages "
                                   "to connected widgets")
    search_index_s: int = setting("SEARCH_INDEX_S", 30, "how often the console indexes changed transcripts for "
                                  "search in the background (0 = a search reads the changed trackers itself)")

    @property
    def is_production(self) -> bool:
        """Production-like (staging, production): real secrets, Secure cookies, no development pages."""
        return self.environment in PRODUCTION_LIKE

    @property
    def is_development(self) -> bool:
        """A developer's machine: demo users and their published passwords are allowed here only."""
        return self.environment == "development"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        values = {f.name: _read(f, hints[f.name], env) for hints in [_hints()] for f in fields(cls)}
        settings = cls(**values)
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
        if self.sentiment_teacher not in {"unsure", "off"}:
            raise SettingsError(f"SENTIMENT_TEACHER must be 'unsure' or 'off', got {self.sentiment_teacher!r}")
        if self.wechat_mode not in {"plain", "compatible", "safe"}:
            raise SettingsError(f"WECHAT_MODE must be plain, compatible or safe, got {self.wechat_mode!r}")
        if self.wechat_mode != "plain" and self.wechat_token and (
            not self.wechat_aes_key or len(self.wechat_aes_key) != 43 or not self.wechat_app_id
        ):
            raise SettingsError("WECHAT_MODE compatible/safe needs WECHAT_AES_KEY (43 characters) and WECHAT_APP_ID")
        if not 500 <= self.wechat_reply_budget_ms <= 4900:
            raise SettingsError("WECHAT_REPLY_BUDGET_MS must be between 500 and 4900 (WeChat waits 5 s)")


@lru_cache(maxsize=1)
def _hints() -> dict:
    return get_type_hints(Settings)


def _read(spec: Any, kind: Any, env: Mapping[str, str]) -> Any:
    """One setting's value from ``env``, by its declaration."""
    meta = spec.metadata
    key = meta["env"]
    raw = env.get(key)
    if raw is None or (raw == "" and not meta["keep_empty"]):
        return meta["derive"](env) if meta["derive"] else spec.default
    if kind is int:
        return _int(env, key, 0)
    if kind is bool:
        return _bool(env, key, False)
    if kind is Path:
        return Path(raw)
    return raw


def declarations() -> list:
    """``(env, type name, default as shown, doc)`` of every setting, in declaration order (the README table)."""
    rows = []
    for spec in fields(Settings):
        meta = spec.metadata
        default = spec.default
        if meta["shown"]:
            shown = meta["shown"]
        elif default is None or default == "":
            shown = "(empty)"
        elif isinstance(default, bool):
            shown = str(default).lower()
        elif isinstance(default, (str, Path)) and str(ROOT) in str(default):
            shown = "`" + str(default).replace(str(ROOT) + "/", "") + "`"
        else:
            shown = f"`{default}`" if isinstance(default, str) and ("/" in default or ":" in default) else str(default)
        rows.append((meta["env"], _type_name(_hints()[spec.name]), shown, meta["doc"]))
    return rows


def _type_name(kind: Any) -> str:
    if kind in (int, bool, str):
        return kind.__name__
    if kind is Path:
        return "path"
    return "str (optional)"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
