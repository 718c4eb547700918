import pytest

from newsroom.email_url import email_settings_from_url


def test_smtp_with_starttls_and_credentials() -> None:
    settings = email_settings_from_url("smtp+tls://user%40x:p%2Fw@mail.example.org:2525")
    assert settings["EMAIL_BACKEND"] == "newsroom.smtp.backend.SMTPBackend"
    assert (settings["EMAIL_HOST"], settings["EMAIL_PORT"]) == ("mail.example.org", 2525)
    assert (settings["EMAIL_HOST_USER"], settings["EMAIL_HOST_PASSWORD"]) == ("user@x", "p/w")
    assert settings["EMAIL_USE_TLS"]
    assert not settings["EMAIL_USE_SSL"]


def test_anymail_esp_from_scheme_key_and_options() -> None:
    settings = email_settings_from_url("mailgun://key-123@?sender_domain=mg.example.org")
    assert settings["EMAIL_BACKEND"] == "anymail.backends.mailgun.EmailBackend"
    assert settings["ANYMAIL"] == {
        "MAILGUN_API_KEY": "key-123",
        "MAILGUN_SENDER_DOMAIN": "mg.example.org",
    }


def test_postmark_token_goes_where_anymail_reads_it() -> None:
    settings = email_settings_from_url("postmark://server-token@")
    assert settings["ANYMAIL"] == {"POSTMARK_SERVER_TOKEN": "server-token"}


def test_file_backend_writes_where_the_url_says() -> None:
    settings = email_settings_from_url("file:///srv/mail")
    assert settings["EMAIL_FILE_PATH"] == "/srv/mail"


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scheme"):
        email_settings_from_url("gopher+x://host")
