"""The errors of the feedback family, each answered in the API's one error shape.

::

    ApiError (api.errors)
    ├── InvalidInput     422 invalid_input   a body the route cannot use; ``fields`` names each bad field
    ├── TooLarge         413 too_large       a body past :data:`api.feedback.body.MAX_BODY`
    ├── ComplaintGone    404 unknown_complaint  no complaint has this reference
    └── Conflict         409 conflict        a transition the case record refuses (answered twice)
"""

from __future__ import annotations

from api.errors import ApiError
from api.i18n import LANGUAGES, Lang, bilingual, translator

__all__ = [
    "ComplaintGone",
    "Conflict",
    "InvalidInput",
    "TooLarge",
    "in_language",
]

MAX_BODY = 16 * 1024
"""Bytes a feedback or complaint body may have (413 above)."""


class InvalidInput(ApiError):
    """A body the route cannot use; ``fields`` maps each bad field to its message."""

    status = 422
    code = "invalid_input"

    def __init__(self, fields: dict[str, str]) -> None:
        halves = {name: _fr_en(text) for name, text in fields.items()}
        self.texts = {
            lang: _summary(lang, {name: pair[i] for name, pair in halves.items()})
            for i, lang in enumerate(LANGUAGES)
        }
        super().__init__(" / ".join(message for message, _ in self.texts.values()))
        self.fields = fields

    def in_language(self, lang: Lang) -> tuple[str, dict[str, str]]:
        """The message and the field messages in ``lang`` only (what a page shows)."""
        return self.texts[lang]


def _summary(lang: Lang, fields: dict[str, str]) -> tuple[str, dict[str, str]]:
    tr = translator(lang)
    listed = "; ".join(
        tr.gettext("%(name)s : %(message)s", name=name, message=text)
        for name, text in fields.items()
    )
    return tr.gettext("Saisie invalide — %(fields)s", fields=listed), fields


def in_language(exc: ApiError, lang: Lang) -> tuple[str, dict[str, str]]:
    """The message of ``exc`` in ``lang`` only, with its field messages (none but on an
    :class:`InvalidInput`): the half of the « français / English » message a page shows."""
    if isinstance(exc, InvalidInput):
        return exc.in_language(lang)
    return _fr_en(exc.message)[LANGUAGES.index(lang)], {}


def _fr_en(text: str) -> tuple[str, str]:
    """The French and English halves of a « fr / en » field message (the same text twice when it
    has no English half)."""
    fr, sep, en = text.partition(" / ")
    return (fr, en) if sep else (text, text)


class TooLarge(ApiError):
    status = 413
    code = "too_large"

    def __init__(self) -> None:
        super().__init__(
            bilingual("Contenu trop volumineux (au plus %(kb)s ko)", kb=MAX_BODY // 1024)
        )


class ComplaintGone(ApiError):
    status = 404
    code = "unknown_complaint"

    def __init__(self) -> None:
        super().__init__(bilingual("Réclamation inconnue"))


class Conflict(ApiError):
    status = 409
    code = "conflict"
