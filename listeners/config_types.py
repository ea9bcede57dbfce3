"""Field types the sources' configuration sections share."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _http_base_url(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return url.rstrip("/")


# The base URL of an API or web site: http(s) only, without a trailing slash (paths are appended to it).
HttpBaseUrl = Annotated[str, AfterValidator(_http_base_url)]
