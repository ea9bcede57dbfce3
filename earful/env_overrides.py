"""Environment overrides (`EARFUL_<SECTION>__<KEY>`) checked as strictly as the file: a misspelt variable is an
error, not silently ignored, and a bad value is blamed on the variable that carried it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

PREFIX = "EARFUL_"
# The project's variables that are not settings (read by the DAGs, the complaints CLI, the config lookup).
NOT_SETTINGS = frozenset(
    {
        "EARFUL_CONFIG",
        "EARFUL_COMPLAINTS_ACTOR",
        "EARFUL_COMPLAINTS_PASSWORD",
        "EARFUL_LISTENING_INTERVAL_MINUTES",
        "EARFUL_SOURCE_CONCURRENCY",
        "EARFUL_TASK_RETRIES",
        "EARFUL_REPORT_SCHEDULE",
        "EARFUL_HOUSEKEEPING_SCHEDULE",
    }
)


def setting_path(name: str) -> tuple[str, ...] | None:
    """The key path an EARFUL_ variable overrides (EARFUL_SOURCES__RSS__READ_TIMEOUT -> sources.rss.read_timeout)."""
    if not name.upper().startswith(PREFIX) or name.upper() in NOT_SETTINGS:
        return None
    return tuple(part for part in name[len(PREFIX) :].lower().split("__"))


def _is_setting(model: type[BaseModel], path: tuple[str, ...]) -> bool:
    """Whether `path` names a field of `model` (below a field that is not a model, any key is accepted)."""
    current: Any = model
    for part in path:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return True  # a mapping or list field (e.g. alerts.channels.<name>): its keys are free
        field = current.model_fields.get(part)
        if field is None:
            return False
        current = field.annotation
        for candidate in getattr(current, "__args__", ()) or ():  # Optional[Model], Model | None
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                current = candidate
    return True


def misspelt_variables(settings_model: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """One line per EARFUL_ variable that looks like a setting but matches none (a section with one underscore
    after it, e.g. EARFUL_PRIVACY_AUTHOR_SECRET), with the variable it was probably meant to be."""
    sections = settings_model.model_fields
    problems = []
    for name in sorted(environ):
        path = setting_path(name)
        if path is None or len(path) != 1 or path[0] in sections:
            continue  # not ours, a top-level setting, or nested with "__" (checked by validation, key by key)
        section = next((s for s in sorted(sections, key=len, reverse=True) if path[0].startswith(f"{s}_")), None)
        if section is None:
            continue  # EARFUL_SOMETHING_ELSE: not shaped like a setting (e.g. a test's own variable)
        meant = f"{PREFIX}{section.upper()}__{path[0][len(section) + 1 :].upper()}"
        hint = (
            f"did you mean {meant}? (two underscores between section and key)"
            if _is_setting(settings_model, setting_path(meant) or ())
            else f"sections and keys are separated by two underscores, e.g. {PREFIX}{section.upper()}__KEY"
        )
        problems.append(f"environment variable {name} is not an earful setting; {hint}")
    return problems


def env_paths(environ: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Key path -> the EARFUL_ variable that sets it, for every override in `environ`."""
    return {path: name for name in environ if (path := setting_path(name)) is not None}


def blame(loc: tuple[Any, ...], environ: Mapping[str, str]) -> str | None:
    """The environment variable whose value a validation error at `loc` comes from, or None (the file)."""
    keys = tuple(str(part).lower() for part in loc if not isinstance(part, int))
    for path, name in sorted(env_paths(environ).items(), key=lambda item: -len(item[0])):
        if keys[: len(path)] == path:
            return name
    return None


def parse_error_line(field: str, environ: Mapping[str, str]) -> str:
    """The message for a variable whose value could not be decoded (pydantic-settings' SettingsError)."""
    names = [name for path, name in env_paths(environ).items() if path and path[0] == field]
    name = names[0] if names else f"{PREFIX}{field.upper()}"
    try:
        json.loads(environ.get(name, ""))
        reason = "its value does not fit this setting"
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON ({exc.msg} at position {exc.pos}); a list or mapping setting takes JSON"
    return f"environment variable {name}: {reason}"
