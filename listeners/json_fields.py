"""Typed reads of the platforms' JSON: a field of the expected type, else an empty value (never an error)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dict_at(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`obj[key]` when it is an object, else {}."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def list_at(obj: Mapping[str, Any], key: str) -> list[Any]:
    """`obj[key]` when it is an array, else []."""
    value = obj.get(key)
    return value if isinstance(value, list) else []


def str_at(obj: Mapping[str, Any], key: str) -> str | None:
    """`obj[key]` when it is a string, else None."""
    value = obj.get(key)
    return value if isinstance(value, str) else None
