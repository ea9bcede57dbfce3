"""Alert channels: console, Slack, Microsoft Teams (Workflows), signed JSON webhook, SMTP e-mail, apprise."""

from __future__ import annotations

import logging
import ssl

from rich.console import Console

from earful_alerts.channels.base import Channel, Outcome
from earful_alerts.config import AlertsSettings, ChannelSettings

log = logging.getLogger(__name__)


def build_channel(
    name: str, settings: ChannelSettings, console: Console | None, ssl_context: ssl.SSLContext | None = None
) -> Channel:
    """The channel object for one configured channel."""
    from earful_alerts import config as c
    from earful_alerts.channels import apprise_channel, http, smtp
    from earful_alerts.channels import console as console_mod

    if isinstance(settings, c.ConsoleChannel):
        return console_mod.ConsoleChannel(name, console if console is not None else Console(quiet=True))
    if isinstance(settings, c.SlackChannel):
        return http.SlackChannel(name, settings.url, settings.timeout, settings.mention_channel)
    if isinstance(settings, c.TeamsChannel):
        return http.TeamsChannel(name, settings.url, settings.timeout)
    if isinstance(settings, c.WebhookChannel):
        if settings.secret is None:
            warning = (
                f"alerts: channel {name} sends unsigned webhooks, so receivers cannot tell its alerts from "
                f"forged ones; set EARFUL_ALERTS__CHANNELS__{name.upper()}__SECRET"
            )
            log.warning(warning)
            if console is not None:
                console.print(f"[yellow]{warning}[/]", highlight=False)
        return http.WebhookChannel(
            name, settings.url, settings.secret, settings.timeout, settings.headers, settings.max_body_bytes
        )
    if isinstance(settings, c.EmailChannel):
        return smtp.EmailChannel(name, settings, ssl_context)
    if isinstance(settings, c.AppriseChannel):
        return apprise_channel.AppriseChannel(name, settings.url, settings.timeout)
    raise TypeError(f"unknown channel settings {type(settings).__name__}")


def build_channels(settings: AlertsSettings, console: Console) -> dict[str, Channel]:
    """Every configured channel by name."""
    return {name: build_channel(name, cfg, console) for name, cfg in settings.channels.items()}


__all__ = ["Channel", "Outcome", "build_channel", "build_channels"]
