from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import ROOT, SPECS, Secret, Settings, SettingsError, read_env_file


def test_defaults_are_valid() -> None:
    s = Settings.from_mapping({})
    assert s.retention_months == 12
    assert s.retention_days == 365
    assert s.database_path == ROOT / "var" / "relais.sqlite3"


@pytest.mark.parametrize(("name", "value"), [("RETENTION_MONTHS", "soon"),
                                             ("RETENTION_MONTHS", "0"),
                                             ("SQLITE_SYNCHRONOUS", "SOMETIMES"),
                                             ("LOG_LEVEL", "LOUD"), ("DATABASE_PATH", " ")])
def test_a_malformed_value_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_mapping({name: value})


def test_environment_wins_over_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("# comment\nRETENTION_MONTHS=6\nLOG_LEVEL='debug'\n", encoding="utf-8")
    monkeypatch.setenv("RETENTION_MONTHS", "3")
    s = Settings.load(env)
    assert s.retention_months == 3
    assert s.log_level == "DEBUG"


def test_a_broken_env_file_line_is_reported(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RETENTION_MONTHS 6\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=":1:"):
        read_env_file(env)


def test_env_example_documents_every_setting_with_its_default() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^([A-Z_]+)=(.*)$", text, flags=re.MULTILINE))
    assert set(documented) == set(SPECS)
    for name, spec in SPECS.items():
        assert documented[name] == spec.default, name


def test_secrets_do_not_print() -> None:
    assert "hunter2" not in repr(Secret("hunter2"))
    assert Secret("hunter2") == "hunter2"


def test_whatsapp_needs_its_secrets_together() -> None:
    token = {"WHATSAPP_TOKEN": "EAAG-test"}
    with pytest.raises(SettingsError, match="WHATSAPP_PHONE_NUMBER_ID"):
        Settings.from_mapping(token).check_channels()
    with pytest.raises(SettingsError, match="WHATSAPP_APP_SECRET"):
        Settings.from_mapping({**token, "WHATSAPP_PHONE_NUMBER_ID": "1234"}).check_channels()
    complete = Settings.from_mapping({**token, "WHATSAPP_PHONE_NUMBER_ID": "1234",
                                      "WHATSAPP_APP_SECRET": "app-secret",
                                      "WHATSAPP_VERIFY_TOKEN": "verify-me"})
    complete.check_channels()
    assert "app-secret" not in repr(complete)
    assert complete.whatsapp_template_locales == ("fr", "fa_AF", "ar", "en")


@pytest.mark.parametrize(("name", "value"), [("WHATSAPP_PHONE_NUMBER_ID", "+33 6 12"),
                                             ("WHATSAPP_TEMPLATE_LOCALES", "fr,prs"),
                                             ("WHATSAPP_API_BASE", "graph.facebook.com")])
def test_malformed_whatsapp_settings_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_mapping({name: value})


def test_e_mail_and_staff_group_settings() -> None:
    with pytest.raises(SettingsError, match="SMTP_FROM is required"):
        Settings.from_mapping({"SMTP_HOST": "smtp.example.org"}).check_channels()
    with pytest.raises(SettingsError, match="STAFF_TELEGRAM_CHAT_ID needs TELEGRAM_BOT_TOKEN"):
        Settings.from_mapping({"STAFF_TELEGRAM_CHAT_ID": "-100123"}).check_channels()
    with pytest.raises(SettingsError, match="SMTP_TLS"):
        Settings.from_mapping({"SMTP_TLS": "yes"})
    with pytest.raises(SettingsError, match="STAFF_TELEGRAM_CHAT_ID"):
        Settings.from_mapping({"STAFF_TELEGRAM_CHAT_ID": "@staff"})
    mail = Settings.from_mapping({"SMTP_HOST": "smtp.example.org", "SMTP_FROM": "r@a.org",
                                  "SMTP_PASSWORD": "hunter2-long", "SMTP_TLS": "SSL"})
    mail.check_channels()
    assert (mail.smtp_port, mail.smtp_tls) == (587, "ssl")
    assert "hunter2-long" not in repr(mail)
    assert mail.inbox_url == "http://127.0.0.1:8080/inbox"
    public = Settings.from_mapping({"PUBLIC_URL": "https://relais.example.org/"})
    assert public.inbox_url == "https://relais.example.org/inbox"
