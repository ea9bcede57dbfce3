"""Time helpers: the register stores and hashes every timestamp in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
@overload
def utc(value: datetime | None) -> datetime | None: ...
def utc(value: datetime | None) -> datetime | None:
    """The same instant in UTC; naive values (SQLite hands them back) are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now_utc() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and a Z, the one form used in events and hashes."""
    value = utc(value)
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jsonable(value: object) -> object:
    """A column value as it is written into an event (datetimes as ISO strings)."""
    if isinstance(value, datetime):
        return iso(value)
    return value
