"""The query subset of ``GET /ngsi-ld/v1/entities``, pure: parse once, then match entities in their
key-values form.

Supported (ETSI GS CIM 009, §4.9 query language, a subset):

* ``type=PointOfInterest,CrowdFlowObserved`` — short names or their IRIs; an unknown type matches
  nothing (not an error, as the standard says);
* ``id=urn:ngsi-ld:PointOfInterest:piscine-pontoise,...``;
* ``q=`` — terms joined by ``;`` (AND) or ``|`` (OR, lower precedence; no parentheses). A term is
  ``attr`` (the attribute exists) or ``attr OP value`` with ``OP`` one of ``== != > >= < <=``;
  ``attr[key]`` reads a key of a compound value (``address[postalCode]=="75005"``). A value is a
  JSON string (``"pool"``), a number, ``true``/``false``, a list ``"a","b"`` (== any / != all) or
  a range ``min..max`` (== within, bounds included). An array-valued attribute (``category``)
  matches when one of its items does;
* ``attrs=name,location`` — only these attributes (``id`` and ``type`` always);
* ``limit`` (0–1000, default 20), ``offset``, ``count=true`` (header ``NGSILD-Results-Count``),
  ``options=keyValues`` (or ``format=simplified``).

``idPattern``, geo-queries (``georel``), ``scopeQ``, ``pick``/``omit`` and ``lang`` answer
OperationNotSupported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from api.ngsi_ld.entities import ENTITY_TYPES
from api.ngsi_ld.errors import BadRequestData, OperationNotSupported
from schemas.text import ascii_int

__all__ = [
    "MAX_LIMIT",
    "Query",
    "Term",
    "parse_q",
    "parse_query",
]

MAX_LIMIT: Final = 1000
DEFAULT_LIMIT: Final = 20
MAX_Q: Final = 500
UNSUPPORTED: Final = (
    "idPattern",
    "georel",
    "geometry",
    "coordinates",
    "geoproperty",
    "scopeQ",
    "csf",
    "pick",
    "omit",
    "lang",
)
_TERM = re.compile(
    r"^(?P<attr>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<key>[A-Za-z_][A-Za-z0-9_]*)\])?"
    r"(?:(?P<op>==|!=|>=|<=|>|<)(?P<value>.+))?$"
)
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"^[A-Za-z_@][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Term:
    attr: str
    key: str | None = None
    op: str | None = None
    values: tuple[Any, ...] = ()
    low: Any = None
    high: Any = None

    def _read(self, entity: Mapping[str, Any]) -> tuple[bool, Any]:
        if self.attr not in entity:
            return False, None
        value = entity[self.attr]
        if self.key is not None:
            if not isinstance(value, Mapping) or self.key not in value:
                return False, None
            value = value[self.key]
        return True, value

    def matches(self, entity: Mapping[str, Any]) -> bool:
        present, value = self._read(entity)
        if not present:
            return False
        if self.op is None:
            return True
        candidates = value if isinstance(value, list) else [value]
        if self.op == "!=":
            return all(not _equal(c, v) for c in candidates for v in self.values)
        return any(self._compare(c) for c in candidates)

    def _compare(self, value: Any) -> bool:
        if self.op == "==":
            if self.low is not None:
                return _ordered(value, self.low, ">=") and _ordered(value, self.high, "<=")
            return any(_equal(value, v) for v in self.values)
        assert self.op is not None
        return _ordered(value, self.values[0], self.op)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return bool(left == right)


def _ordered(left: Any, right: Any, op: str) -> bool:
    comparable = (
        isinstance(left, (int, float))
        and isinstance(right, (int, float))
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    ) or (isinstance(left, str) and isinstance(right, str))
    if not comparable:
        return False
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def _value(text: str) -> Any:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadRequestData(
            f"q: value {text[:40]!r} is not a JSON string, number or boolean"
        ) from None
    if not isinstance(value, (str, int, float)):
        raise BadRequestData("q: a value is a string, a number or a boolean")
    return value


def _split(text: str, separator: str) -> list[str]:
    """``text`` cut at ``separator`` outside quoted strings (``"a;b"`` stays whole)."""
    items: list[str] = []
    current = ""
    quoted = False
    for char in text:
        if char == '"' and not current.endswith("\\"):
            quoted = not quoted
        if char == separator and not quoted:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return items


def _term(text: str) -> Term:
    match = _TERM.match(text.strip())
    if match is None:
        raise BadRequestData(
            f"q: term {text[:60]!r} is not attr, attr OP value or attr[key] OP value"
        )
    attr, key, op, raw = match["attr"], match["key"], match["op"], match["value"]
    if op is None:
        return Term(attr, key)
    if ".." in raw and not raw.lstrip().startswith('"'):
        if op != "==":
            raise BadRequestData("q: a range min..max goes with ==")
        low, _, high = raw.partition("..")
        return Term(attr, key, op, (), _value(low), _value(high))
    values = tuple(_value(part) for part in _split(raw, ","))
    if len(values) > 1 and op not in ("==", "!="):
        raise BadRequestData("q: a list of values goes with == or !=")
    return Term(attr, key, op, values)


def parse_q(text: str) -> tuple[tuple[Term, ...], ...]:
    """``q`` as OR-ed groups of AND-ed terms."""
    if len(text) > MAX_Q:
        raise BadRequestData(f"q: at most {MAX_Q} characters")
    if any(char in _QUOTED.sub('""', text) for char in "()"):
        raise OperationNotSupported("q: parentheses are not supported; use ; (and) and | (or)")
    groups = []
    for group in _split(text, "|"):
        terms = tuple(_term(part) for part in _split(group, ";") if part.strip())
        if not terms:
            raise BadRequestData("q: empty term")
        groups.append(terms)
    return tuple(groups)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed ``GET /entities`` query."""

    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    q: tuple[tuple[Term, ...], ...] = ()
    attrs: frozenset[str] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False
    key_values: bool = False

    def wants_type(self, entity_type: str) -> bool:
        return self.types is None or entity_type in self.types

    def matches(self, simple: Mapping[str, Any]) -> bool:
        """Whether an entity, in key-values form, passes ``id`` and ``q``."""
        if self.ids is not None and simple["id"] not in self.ids:
            return False
        if not self.q:
            return True
        return any(all(term.matches(simple) for term in group) for group in self.q)

    def project(self, entity: dict[str, Any]) -> dict[str, Any]:
        if self.attrs is None:
            return entity
        return {
            k: v for k, v in entity.items() if k in ("id", "type", "@context") or k in self.attrs
        }


def _list(value: str | None, what: str) -> list[str] | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise BadRequestData(f"{what}: empty list")
    if len(items) > 100:
        raise BadRequestData(f"{what}: at most 100 items")
    return items


def _int(value: str | None, name: str, default: int, high: int) -> int:
    if value is None:
        return default
    number = ascii_int(value)
    if number is None or number > high:
        raise BadRequestData(f"{name}: an integer from 0 to {high}")
    return number


def _short_type(name: str) -> str:
    for short, iri in ENTITY_TYPES.items():
        if name == iri:
            return short
    return name


def parse_query(params: Mapping[str, str], present: Sequence[str]) -> Query:
    """The query of a request's parameters (``present``: every parameter name given)."""
    for name in UNSUPPORTED:
        if name in present:
            raise OperationNotSupported(f"{name} is not supported by this read-only endpoint")
    types = _list(params.get("type"), "type")
    if types is not None and any(not re.fullmatch(r"[\w:/.#-]{1,256}", t) for t in types):
        raise BadRequestData("type: names or IRIs")
    ids = _list(params.get("id"), "id")
    if ids is not None and any(":" not in i or len(i) > 256 for i in ids):
        raise BadRequestData("id: URIs (urn:ngsi-ld:...)")
    attrs = _list(params.get("attrs"), "attrs")
    if attrs is not None and any(not _NAME.match(a) for a in attrs):
        raise BadRequestData("attrs: attribute names")
    options = set(_list(params.get("options"), "options") or [])
    if not options <= {"keyValues", "sysAttrs", "normalized", "count"}:
        raise BadRequestData("options: keyValues, normalized, sysAttrs or count")
    fmt = params.get("format")
    if fmt is not None and fmt not in ("simplified", "keyValues", "normalized"):
        raise BadRequestData("format: simplified or normalized")
    count = params.get("count")
    if count not in (None, "true", "false"):
        raise BadRequestData("count: true or false")
    return Query(
        types=None if types is None else frozenset(_short_type(t) for t in types),
        ids=None if ids is None else frozenset(ids),
        q=parse_q(params["q"]) if params.get("q") else (),
        attrs=None if attrs is None else frozenset(attrs),
        limit=_int(params.get("limit"), "limit", DEFAULT_LIMIT, MAX_LIMIT),
        offset=_int(params.get("offset"), "offset", 0, 10**6),
        count=count == "true" or "count" in options,
        key_values="keyValues" in options or fmt in ("simplified", "keyValues"),
    )
