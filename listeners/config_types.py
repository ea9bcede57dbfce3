"""Field types the sources' configuration sections share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

if TYPE_CHECKING:
    from earful_listeners.ratelimit import RetryPolicy


def _http_base_url(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return url.rstrip("/")


# The base URL of an API or web site: http(s) only, without a trailing slash (paths are appended to it).
HttpBaseUrl = Annotated[str, AfterValidator(_http_base_url)]


class RetrySettings(BaseModel):
    """How an API source retries 5xx and timeouts and meets rate limits: the fields every API section (X,
    Reddit, Mastodon, Bluesky) has, with the same bounds."""

    retries: int = Field(default=2, ge=0, le=10, description="Retries of 5xx and timeouts.")
    backoff_seconds: float = Field(default=2.0, ge=0)
    on_rate_limit: Literal["wait", "defer"] = "wait"
    max_wait_seconds: float = Field(default=60.0, ge=0, description="Longest 429 wait; longer ones defer.")

    def retry_policy(self) -> RetryPolicy:
        """The listener's policy from these settings."""
        # Imported here: the settings load in every DAG file parse, the HTTP retry machinery need not.
        from earful_listeners.ratelimit import RetryPolicy

        return RetryPolicy(self.on_rate_limit, self.max_wait_seconds, self.retries, self.backoff_seconds)
