"""Any other service apprise supports, by apprise URL. apprise reports only success or failure, so every failure
is treated as temporary and retried with backoff until the delivery is parked."""

from __future__ import annotations

from pydantic import SecretStr

from earful_alerts.channels.base import Outcome
from earful_alerts.message import AlertMessage
from earful_alerts.render import clean, plain_text


class AppriseChannel:
    def __init__(self, name: str, url: SecretStr | None, timeout: float) -> None:
        self.name, self._url, self._timeout = name, url, timeout

    def send(self, message: AlertMessage) -> Outcome:
        import apprise

        if self._url is None:
            return Outcome(ok=False, error=f"channel {self.name}: no apprise url configured", permanent=True)
        notifier = apprise.Apprise()
        if not notifier.add(self._url.get_secret_value()):
            return Outcome(ok=False, error=f"channel {self.name}: apprise does not understand the url", permanent=True)
        ok = notifier.notify(
            body=plain_text(message), title=clean(message.title, 200), body_format=apprise.NotifyFormat.TEXT
        )
        return Outcome(ok=True) if ok else Outcome(ok=False, error="apprise reported a failed notification")
