"""Reading demo content files: TOML tables into the frozen dataclasses of the demo's schema.

Every key, type and choice is checked, and a mistake raises ContentError naming the file and
the field, e.g. `.../acme/catalog.toml: courses[0].modules[1].lessons[2].kind: 'vidoe' is not
one of video, text, ...`. Prose fields are never inline: `body_file = "<path>"` names a
Markdown file relative to the TOML file's folder.
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, fields
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

FILE_FIELDS = {"body", "description"}  # given as `<field>_file = "<path>"`


class ContentError(ValueError):
    """A demo content file is wrong; the message names the file, the field and the fix."""


class LazyContent(Mapping):
    """{tenant slug: spec}, each read from its files on first use (not at import), so a broken
    file is an error of `seed_demo` (a sentence) rather than of importing the module."""

    def __init__(self, slugs, load) -> None:
        self._slugs, self._load = tuple(slugs), load
        self._loaded: dict[str, object] = {}

    def __getitem__(self, slug):
        if slug not in self._slugs:
            raise KeyError(slug)
        if slug not in self._loaded:
            self._loaded[slug] = self._load(slug)
        return self._loaded[slug]

    def __iter__(self):
        return iter(self._slugs)

    def __len__(self) -> int:
        return len(self._slugs)


def load_toml(path: Path) -> dict[str, Any]:
    """The TOML file at `path` as a dict; ContentError if it is missing or not TOML."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path}: not valid TOML: {exc}") from None


def build(cls: type, data: Any, *, path: Path, where: str = "") -> Any:
    """`cls` made from the TOML table `data`; prose fields are read from their `<field>_file`."""
    if not isinstance(data, dict):
        _fail(path, where or "top level", "a table", data)
    hints = typing.get_type_hints(cls)
    keys = {f"{f.name}_file" if f.name in FILE_FIELDS else f.name: f for f in fields(cls)}
    if unknown := sorted(set(data) - set(keys)):
        dot = "." if where else ""
        raise ContentError(
            f"{path}: {where}{dot}{unknown[0]}: unknown key (expected one of {', '.join(keys)})"
        )
    values = {}
    for key, field in keys.items():
        here = f"{where}.{key}" if where else key
        if key not in data:
            if field.default is MISSING and field.default_factory is MISSING:
                raise ContentError(f"{path}: {here}: missing")
        elif field.name in FILE_FIELDS:
            values[field.name] = _read(path, data[key], here)
        else:
            values[field.name] = _value(hints[field.name], data[key], path=path, where=here)
    try:
        return cls(**values)
    except ContentError as exc:
        raise ContentError(f"{path}: {where or 'top level'}: {exc}") from None


def _read(path: Path, name: Any, where: str) -> str:
    target = (path.parent / str(name)).resolve()
    if not isinstance(name, str) or not target.is_relative_to(path.parent.resolve()):
        raise ContentError(f"{path}: {where}: {name!r} is not a file name inside {path.parent}")
    if not target.is_file():
        raise ContentError(f"{path}: {where}: no file {target}")
    return target.read_text(encoding="utf-8").strip() + "\n"


def _value(hint: Any, value: Any, *, path: Path, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # X | None: TOML has no null, so absent means None
        return _value(next(a for a in args if a is not type(None)), value, path=path, where=where)
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ContentError(f"{path}: {where}: expected a list, got {value!r}")
        items = [_value(args[0], item, path=path, where=f"{where}[{n}]") for n, item in enumerate(value)]
        return origin(items)
    if isinstance(hint, type) and issubclass(hint, Enum):
        if value not in [choice.value for choice in hint]:
            allowed = ", ".join(choice.value for choice in hint)
            raise ContentError(f"{path}: {where}: {value!r} is not one of {allowed}")
        return hint(value)
    if hint is Decimal:  # written as a string: a TOML float would round
        try:
            return Decimal(value if isinstance(value, str) else "not a string")
        except InvalidOperation:
            _fail(path, where, "a decimal written as a string", value)
    if hint in (str, int, bool):
        if type(value) is not hint:
            _fail(path, where, hint.__name__, value)
        return value
    return build(hint, value, path=path, where=where)


def _fail(path: Path, where: str, expected: str, value: Any) -> typing.NoReturn:
    raise ContentError(f"{path}: {where}: expected {expected}, got {value!r}")
