"""Text from outside — HTTP bodies, event fields, query strings, path ids — validated in one place.

PostgreSQL ``text`` cannot hold a NUL byte, terminals and logs misbehave on other control
characters, and an unbounded string is a memory attack. Every string that crosses the platform's
edge is one of the types below, so the rule is written once:

* :data:`Line` — one line (identifiers, names, ids from devices): no control character at all;
* :data:`Text` — free text a person typed (complaints, messages): line breaks and tabs kept,
  every other control character (NUL included) refused.

Refusing, not stripping, is the documented rule: the sender learns which field was wrong (HTTP
422 naming the field, a dead letter with ``reason: invalid_value`` and the field path) instead of
having text silently changed. Lengths are always bounded; the aliases carry a default bound and
:func:`line` / :func:`text` make other ones.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeAlias

from pydantic import AfterValidator, Field, StringConstraints

LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""No C0 control character and no DEL (JSON Schema / OpenAPI form of the :data:`Line` rule)."""
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Tab, line feed and carriage return allowed; every other C0 control character and DEL refused."""

_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CONTROL_CHARACTER_MESSAGE = (
    "caractère de contrôle interdit (U+{code:04X}) / control character not allowed (U+{code:04X})"
)


def find_control_character(value: str, *, multiline: bool = False) -> int | None:
    """The code point of the first forbidden control character of ``value``, or ``None``."""
    found = (_TEXT_FORBIDDEN if multiline else _LINE_FORBIDDEN).search(value)
    return ord(found.group()) if found else None


_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def ascii_int(value: str) -> int | None:
    """``value`` as a non-negative integer when it is 1 to 18 ASCII digits, else ``None``.

    ``str.isdigit()`` is true for « ² » or « ³ », which ``int()`` refuses (a ``ValueError`` where a
    4xx was meant), and ``int()`` reads « ３ » or « ٣ », which no form, device or URL of the
    platform writes: a number from outside is checked here, never with ``isdigit()``.
    """
    return int(value) if _ASCII_DIGITS.fullmatch(value) else None


def _refuse_line(value: str) -> str:
    code = find_control_character(value)
    if code is not None:
        raise ValueError(CONTROL_CHARACTER_MESSAGE.format(code=code))
    return value


def _refuse_text(value: str) -> str:
    code = find_control_character(value, multiline=True)
    if code is not None:
        raise ValueError(CONTROL_CHARACTER_MESSAGE.format(code=code))
    return value


def line(max_length: int, *, min_length: int = 1) -> Any:
    """A one-line string type of at most ``max_length`` characters (no control character)."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_refuse_line),
        Field(json_schema_extra={"pattern": LINE_PATTERN}),
    ]


def text(max_length: int, *, min_length: int = 1) -> Any:
    """A free-text type of at most ``max_length`` characters (line breaks and tabs allowed)."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_refuse_text),
        Field(json_schema_extra={"pattern": TEXT_PATTERN}),
    ]


Line: TypeAlias = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_refuse_line),
    Field(json_schema_extra={"pattern": LINE_PATTERN}),
]
"""One line of at most 200 characters: ids, names, device identifiers."""

Text: TypeAlias = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000),
    AfterValidator(_refuse_text),
    Field(json_schema_extra={"pattern": TEXT_PATTERN}),
]
"""Free text of at most 2,000 characters (line breaks allowed)."""
