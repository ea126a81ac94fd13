"""The one place that reads configuration: the environment, then a `.env` file, then defaults.

Every setting is declared once below with its parser and default; `.env.example` documents the
same list (a test keeps the two in step). A missing or malformed value stops start-up with the
setting's name. Secrets print masked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.dates.office import OfficeHours
from bot.core.exceptions import RelaisError
from bot.core.model import LOCALES

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RelaisError, ValueError):
    """A setting is missing or malformed. The message names it and says what is expected."""


class Secret(str):
    """A string that does not show itself in logs or reprs."""

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().upper() if allowed[0].isupper() else raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be a time zone name such as Europe/Paris") from exc


def _clock_time(raw: str) -> time:
    try:
        return time.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValueError("must be a time of day such as 10:00") from exc


def _time_range(raw: str) -> tuple[time, time]:
    start, sep, end = raw.partition("-")
    if not sep:
        raise ValueError("must be two times such as 20:00-09:00")
    return _clock_time(start), _clock_time(end)


def _secret(raw: str) -> Secret:
    return Secret(raw.strip())


def _database_url(raw: str) -> Secret:
    """A PostgreSQL URL or nothing; kept secret (it may hold a password)."""
    url = raw.strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("a PostgreSQL URL starts with postgresql://")
    return Secret(url)


def _url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


def _digits(raw: str) -> str:
    value = raw.strip()
    if value and not (value.isascii() and value.isdigit()):
        raise ValueError("must be digits only (WhatsApp Manager shows it)")
    return value


def _locales(raw: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    unknown = [v for v in values if v not in LOCALES]
    if unknown:
        raise ValueError(f"unknown locale {unknown[0]!r}: use some of {', '.join(LOCALES)}")
    return values


def _office_hours(raw: str) -> OfficeHours:
    try:
        return OfficeHours.parse(raw.strip())
    except ValueError as exc:
        raise ValueError(str(exc)) from exc


def _org_code(raw: str) -> str:
    code = raw.strip()
    if code and not all(ch.isalnum() or ch in "-_" for ch in code):
        raise ValueError(f"{raw!r}: an organisation code is letters, digits, - and _")
    return code


def _chat_id(raw: str) -> str:
    value = raw.strip()
    if value and not (value.lstrip("-").isascii() and value.lstrip("-").isdigit()):
        raise ValueError("must be a Telegram chat id such as -1001234567890")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be a port number (1-65535)")
    return value


def _path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("must not be empty")
    path = Path(raw.strip()).expanduser()
    return path if path.is_absolute() else ROOT / path


@dataclass(frozen=True)
class Spec:
    parse: Callable[[str], Any]
    default: str | None  # None: required
    help: str


SPECS: dict[str, Spec] = {
    "DATABASE_PATH": Spec(_path, "var/relais.sqlite3",
                          "SQLite database file (created with its folder if missing)."),
    "DATABASE_URL": Spec(_database_url, "",
                         "PostgreSQL (postgresql://user:password@host/db) for several "
                         "instances on one database; empty: SQLite at DATABASE_PATH."),
    "SQLITE_SYNCHRONOUS": Spec(_choice("FULL", "NORMAL"), "FULL",
                               "FULL survives power loss; NORMAL is faster and survives crashes."),
    "RETENTION_MONTHS": Spec(_positive_int, "12",
                             "A user who sends nothing for this many months is erased."),
    "TIMEZONE": Spec(_timezone, "Europe/Paris",
                     "Where the association is: today's date, days left and office hours."),
    "REMINDER_HOUR": Spec(_clock_time, "10:00",
                          "Local time at which date reminders go out on their day."),
    "QUIET_HOURS": Spec(_time_range, "20:00-09:00",
                        "No reminder in this local time range; one due then waits for its end."),
    "TELEGRAM_BOT_TOKEN": Spec(_secret, "",
                               "The bot's token from BotFather. Empty: no Telegram."),
    "TELEGRAM_API_BASE": Spec(_url, "https://api.telegram.org",
                              "The Bot API server (tests point it at a local one)."),
    "TELEGRAM_MODE": Spec(_choice("polling", "webhook"), "polling",
                          "polling (no public address needed) or webhook."),
    "TELEGRAM_WEBHOOK_URL": Spec(_url, "",
                                 "Public HTTPS address of /telegram/webhook (webhook mode)."),
    "TELEGRAM_WEBHOOK_SECRET": Spec(_secret, "",
                                    "Secret Telegram sends with each webhook call."),
    "TELEGRAM_RATE_PER_SECOND": Spec(_positive_float, "30",
                                     "Messages per second to Telegram, all chats together."),
    "TELEGRAM_CHAT_INTERVAL": Spec(_positive_float, "1",
                                   "Seconds between two messages to the same Telegram chat."),
    "WHATSAPP_TOKEN": Spec(_secret, "",
                           "Access token of the WhatsApp Cloud API. Empty: no WhatsApp."),
    "WHATSAPP_PHONE_NUMBER_ID": Spec(_digits, "",
                                     "Id of the sending phone number (WhatsApp Manager)."),
    "WHATSAPP_APP_SECRET": Spec(_secret, "",
                                "The Meta app's secret: proves webhook calls come from Meta."),
    "WHATSAPP_VERIFY_TOKEN": Spec(_secret, "",
                                  "Any long random string, typed again in the webhook settings."),
    "WHATSAPP_API_BASE": Spec(_url, "https://graph.facebook.com/v25.0",
                              "The Graph API with its version (tests point it at a local one)."),
    "WHATSAPP_RATE_PER_SECOND": Spec(_positive_float, "20",
                                     "Messages per second to WhatsApp, all users together."),
    "WHATSAPP_CHAT_INTERVAL": Spec(_positive_float, "1",
                                   "Seconds between two messages to the same WhatsApp user."),
    "WHATSAPP_TEMPLATE_LOCALES": Spec(_locales, "fr,fa_AF,ar,en",
                                      "Locales whose reminder templates Meta approved."),
    "WHATSAPP_TEMPLATES_DIR": Spec(_path, "whatsapp/templates",
                                   "The reminder templates (python -m bot whatsapp templates)."),
    "OFFICE_HOURS": Spec(_office_hours, "mon-fri 09:00-17:00",
                         "When caseworkers answer (French public holidays are closed); "
                         "users who ask for a person are told when to expect an answer."),
    "DEFAULT_ORGANISATION": Spec(_org_code, "",
                                 "Code of the organisation that gets the cases of people who "
                                 "came through no association's link; when set, it wins over "
                                 "the default stored by python -m bot setup. Empty: that one."),
    "PUBLIC_URL": Spec(_url, "",
                       "The server's public address (https://...), for links in e-mails "
                       "to caseworkers. Empty: http://WEB_HOST:WEB_PORT."),
    "SMTP_HOST": Spec(str.strip, "",
                      "SMTP server for e-mails to caseworkers about new cases. Empty: none."),
    "SMTP_PORT": Spec(_port, "587", "Port of the SMTP server (587 starttls, 465 ssl)."),
    "SMTP_USER": Spec(str.strip, "", "SMTP login. Empty: no login."),
    "SMTP_PASSWORD": Spec(_secret, "", "SMTP password."),
    "SMTP_FROM": Spec(str.strip, "", "Sender address of the e-mails (required with SMTP_HOST)."),
    "SMTP_TLS": Spec(_choice("starttls", "ssl", "none"), "starttls",
                     "starttls, ssl (implicit TLS) or none (a local relay only)."),
    "STAFF_TELEGRAM_CHAT_ID": Spec(_chat_id, "",
                                   "Telegram group of the caseworkers told about new cases "
                                   "(needs TELEGRAM_BOT_TOKEN). Empty: none."),
    "WEB_HOST": Spec(str.strip, "127.0.0.1", "Address the web server listens on."),
    "WEB_PORT": Spec(_port, "8080", "Port of the web server (web chat, webhooks, health)."),
    "FLOWS_DIR": Spec(_path, "flows", "Folder of the conversation flows (YAML)."),
    "LOCALES_DIR": Spec(_path, "locales", "Folder of the translation catalogs."),
    "LOG_LEVEL": Spec(_choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Logging level."),
}


@dataclass(frozen=True)
class Settings:
    database_path: Path
    database_url: Secret
    sqlite_synchronous: str
    retention_months: int
    timezone: ZoneInfo
    reminder_hour: time
    quiet_hours: tuple[time, time]
    telegram_bot_token: Secret
    telegram_api_base: str
    telegram_mode: str
    telegram_webhook_url: str
    telegram_webhook_secret: Secret
    telegram_rate_per_second: float
    telegram_chat_interval: float
    whatsapp_token: Secret
    whatsapp_phone_number_id: str
    whatsapp_app_secret: Secret
    whatsapp_verify_token: Secret
    whatsapp_api_base: str
    whatsapp_rate_per_second: float
    whatsapp_chat_interval: float
    whatsapp_template_locales: tuple[str, ...]
    whatsapp_templates_dir: Path
    office_hours: OfficeHours
    default_organisation: str
    public_url: str
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: Secret
    smtp_from: str
    smtp_tls: str
    staff_telegram_chat_id: str
    web_host: str
    web_port: int
    flows_dir: Path
    locales_dir: Path
    log_level: str

    def check_channels(self) -> None:
        """Settings that only make sense together."""
        if self.telegram_bot_token and self.telegram_mode == "webhook":
            if not self.telegram_webhook_url:
                raise SettingsError("TELEGRAM_WEBHOOK_URL is required when TELEGRAM_MODE=webhook")
            if not self.telegram_webhook_secret:
                raise SettingsError("TELEGRAM_WEBHOOK_SECRET is required when "
                                    "TELEGRAM_MODE=webhook: it proves calls come from Telegram")
        if self.smtp_host and "@" not in self.smtp_from:
            raise SettingsError("SMTP_FROM is required with SMTP_HOST: the sender's address")
        if self.staff_telegram_chat_id and not self.telegram_bot_token:
            raise SettingsError("STAFF_TELEGRAM_CHAT_ID needs TELEGRAM_BOT_TOKEN")
        if self.whatsapp_token:
            for name in ("WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET",
                         "WHATSAPP_VERIFY_TOKEN"):
                if not getattr(self, name.lower()):
                    raise SettingsError(f"{name} is required with WHATSAPP_TOKEN: "
                                        f"{SPECS[name].help}")

    @property
    def inbox_url(self) -> str:
        base = self.public_url or f"http://{self.web_host}:{self.web_port}"
        return f"{base}/inbox"

    @property
    def retention_days(self) -> int:
        return round(self.retention_months * 365 / 12)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        parsed = {}
        for f in fields(cls):
            name = f.name.upper()
            spec = SPECS[name]
            raw = values.get(name, spec.default)
            if raw is None:
                raise SettingsError(f"{name} is required: {spec.help}")
            try:
                parsed[f.name] = spec.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r} is not valid: {exc}") from exc
        return cls(**parsed)

    @classmethod
    def load(cls, env_file: Path | None = None) -> Settings:
        """Environment variables win over the `.env` file, which wins over the defaults."""
        values = read_env_file(env_file or ROOT / ".env")
        values.update({k: v for k, v in os.environ.items() if k in SPECS})
        return cls.from_mapping(values)


def read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise SettingsError(f"{path}:{number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values
