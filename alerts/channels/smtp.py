"""E-mail over SMTP with smtplib: STARTTLS or implicit TLS, optional login, multipart plain + HTML.

smtplib rather than apprise's mailto: the sender needs the SMTP reply code (4xx: try again later, 5xx: park) and
the plain-text and HTML alternatives of one message, which apprise does not expose.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from earful_alerts.channels.base import Outcome
from earful_alerts.config import EmailChannel as EmailSettings
from earful_alerts.message import AlertMessage
from earful_alerts.render import email_subject, html_body, plain_text


def build_email(message: AlertMessage, settings: EmailSettings) -> EmailMessage:
    """The e-mail: escaped subject, plain-text part and HTML alternative."""
    mail = EmailMessage()
    mail["Subject"] = email_subject(message, settings.subject_prefix)
    mail["From"] = settings.sender
    mail["To"] = ", ".join(settings.to)
    mail["Message-ID"] = make_msgid(idstring=message.id)
    mail["X-Earful-Alert-Id"] = message.id
    mail.set_content(plain_text(message))
    mail.add_alternative(html_body(message), subtype="html")
    return mail


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in with one mechanism (PLAIN, else LOGIN): smtplib's login() tries every mechanism in turn after a
    refusal, which some servers answer by hanging, turning a wrong password into a retried timeout."""
    mechanisms = client.esmtp_features.get("auth", "").upper().split()
    client.user, client.password = username, password
    if "PLAIN" in mechanisms:
        client.auth("PLAIN", client.auth_plain)
    elif "LOGIN" in mechanisms:
        client.auth("LOGIN", client.auth_login)
    else:
        client.login(username, password)


class EmailChannel:
    """Sends one e-mail per alert (or digest) to the configured recipients."""

    def __init__(self, name: str, settings: EmailSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.name, self._settings = name, settings
        self._ssl = ssl_context  # tests pass a context trusting their own certificate

    def send(self, message: AlertMessage) -> Outcome:
        s = self._settings
        if not s.to:
            return Outcome(ok=False, error=f"channel {self.name}: no recipients ('to') configured", permanent=True)
        return deliver(build_email(message, s), s, self._ssl)


def plain_email(
    settings: EmailSettings, to: str, subject: str, text: str, *, message_id: str | None = None
) -> EmailMessage:
    """A plain-text e-mail from the channel's sender to one recipient (the complaint register writes to
    complainants through the same configured server)."""
    mail = EmailMessage()
    mail["Subject"] = " ".join(subject.split())  # no header injection through line breaks
    mail["From"] = settings.sender
    mail["To"] = to
    mail["Message-ID"] = make_msgid(idstring=message_id)
    mail.set_content(text)
    return mail


def deliver(mail: EmailMessage, s: EmailSettings, ssl_context: ssl.SSLContext | None = None) -> Outcome:
    """Send one e-mail through the configured SMTP server; never raises for delivery problems."""
    context = ssl_context or ssl.create_default_context()
    try:
        if s.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with client:
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if s.username is not None and s.password is not None:
                _login(client, s.username, s.password.get_secret_value())
            client.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        return Outcome(
            ok=False, status_code=exc.smtp_code, error=f"SMTP login refused ({exc.smtp_code})", permanent=True
        )
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        return Outcome(
            ok=False,
            status_code=codes[0] if codes else None,
            error=f"SMTP recipients refused ({', '.join(map(str, codes))})",
            permanent=all(code >= 500 for code in codes),
        )
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return Outcome(
            ok=False,
            status_code=exc.smtp_code,
            error=f"SMTP {exc.smtp_code}: {text[:200]}",
            permanent=exc.smtp_code >= 500,
        )
    except smtplib.SMTPNotSupportedError as exc:
        return Outcome(ok=False, error=f"SMTP server does not support this ({exc})", permanent=True)
    except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, TLS failure
        return Outcome(ok=False, error=f"SMTP {type(exc).__name__}: {str(exc)[:200]}")
    return Outcome(ok=True, status_code=250)
