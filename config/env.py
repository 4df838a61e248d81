"""The only reader of os.environ: every setting comes through these typed helpers.

A `.env` file in the project directory (or the file named by ENV_FILE) is read once, at import,
when present: a variable set in the environment wins over the same name in the file. Values
are taken literally (no ${VAR} expansion), so a secret may hold any character. `.env.example`
lists every variable read here."""

import os
from pathlib import Path
from typing import overload

from django.core.exceptions import ImproperlyConfigured
from dotenv import dotenv_values

ENV_FILE = Path(os.environ.get("ENV_FILE") or Path(__file__).resolve().parent.parent / ".env")
# A name without "=" (a bare `NAME` line) reads as None in python-dotenv: not set.
_FILE = {
    name: value
    for name, value in (
        dotenv_values(ENV_FILE, interpolate=False) if ENV_FILE.is_file() else {}
    ).items()
    if value is not None
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _get(name: str) -> str | None:
    value = os.environ.get(name)
    return _FILE.get(name) if value is None else value


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = _get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    raw = _get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = _get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
