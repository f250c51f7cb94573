"""Query strings and path ids from outside: the :mod:`schemas.text` rule applied to every route.

Bodies are validated by their models (fields typed with :data:`schemas.text.Line` /
:data:`~schemas.text.Text`); query parameters and path parameters of every route go through
:func:`refuse_control_characters`, installed once as an application dependency, so that a NUL or
another control character in ``?q=`` or in a closure id answers **422 naming the parameter**
instead of reaching PostgreSQL (which cannot hold a NUL) or a log line.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Final

from starlette.requests import HTTPConnection

from api.errors import InvalidParameter
from api.i18n import bilingual
from schemas.text import find_control_character, line, text

__all__ = [
    "YEARS",
    "AnswerText",
    "ClosureMessage",
    "ComplaintText",
    "Contact",
    "Honeypot",
    "ShortText",
    "Topic",
    "in_years",
    "refuse_control_characters",
]

YEARS: Final = (2000, 2100)
"""Dates and instants from outside (``from``, ``to``, cursors, Open311's ``start_date`` /
``end_date``) outside these years (inclusive) are refused: the platform holds nothing older, Paris'
local mean time (+00:09:21) is no valid RFC 3339 offset, and a day or a window added to year 1 or
9999 overflows ``datetime`` (an ``OverflowError`` where a 4xx was meant)."""


def in_years(value: date | None, name: str) -> None:
    """422 ``invalid_range`` when ``value`` (a date or a datetime) is outside :data:`YEARS`."""
    first, last = YEARS
    if value is not None and not first <= value.year <= last:
        raise InvalidParameter(
            bilingual(
                "« %(name)s » doit être entre %(first)s et %(last)s",
                name=name,
                first=first,
                last=last,
            ),
            code="invalid_range",
        )


# The bounds of the bodies' fields, as schemas.text types (mypy sees ``str``: the types are made
# by a function, which a static checker cannot read as an alias).
if TYPE_CHECKING:
    ShortText = str
    ComplaintText = str
    Contact = str
    Topic = str
    Honeypot = str
    AnswerText = str
    ClosureMessage = str
else:
    ShortText = text(1000)
    """Survey free text (liked, to improve, went wrong)."""
    ComplaintText = text(4000, min_length=10)
    """What happened, in a complaint."""
    Contact = text(320, min_length=5)
    """An e-mail address, a phone number or a postal address (line breaks allowed)."""
    Topic = line(40)
    Honeypot = line(200)
    """The anti-spam field a person never sees."""
    AnswerText = text(2000)
    """A service's answer to a complaint, per language."""
    ClosureMessage = text(500)
    """A closure message, per language."""


def _refused(where: str, code: int) -> InvalidParameter:
    return InvalidParameter(
        bilingual(
            "Paramètre invalide — %(where)s : caractère de contrôle interdit (U+%(code)s)",
            where=where,
            code=format(code, "04X"),
        )
    )


async def refuse_control_characters(connection: HTTPConnection) -> None:
    """422 when a path or query parameter (name or value) holds a control character."""
    for name, value in connection.path_params.items():
        code = find_control_character(str(value))
        if code is not None:
            raise _refused(f"path.{name}", code)
    for name, value in connection.query_params.multi_items():
        shown = name.encode("unicode_escape").decode("ascii")  # never echo a control character
        code = find_control_character(name)
        if code is None:
            code = find_control_character(value)
        if code is not None:
            raise _refused(f"query.{shown}", code)
