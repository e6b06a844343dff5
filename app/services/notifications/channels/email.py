"""E-mail over SMTP: plain, STARTTLS or implicit TLS, as the settings say."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from app.config import Settings
from app.services.notifications.channels import DeliveryError


def message_id_header(message_id: str, sender: str) -> str:
    """The same Message-ID on every retry, so mail systems and clients drop a duplicate."""
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "civicloop"
    return f"<{message_id}@{domain}>"


def build(
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    message_id: str,
    unsubscribe_url: str | None,
    reply_to: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id_header(message_id, settings.smtp_from)
    message["Auto-Submitted"] = "auto-generated"
    if reply_to:
        message["Reply-To"] = reply_to
    if unsubscribe_url:
        # RFC 8058 one-click: mail clients POST to it with no login.
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, charset="utf-8")
    return message


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.smtp_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return context


def send(settings: Settings, message: EmailMessage) -> None:
    """Hand the message to the configured SMTP server; 5xx answers are permanent failures."""
    if not settings.smtp_host:
        raise DeliveryError("e-mail is not configured: set CIVICLOOP_SMTP_HOST", permanent=True)
    timeout = settings.smtp_timeout_seconds
    try:
        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=_tls_context(settings),
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=_tls_context(settings))
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(
            f"recipient refused: {exc.recipients}", permanent=all(c >= 500 for c in codes)
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP server unreachable: {exc}") from None
