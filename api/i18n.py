"""Message catalogues and page templates, one language at a time.

The msgids are the **French** source text (the site is French first); ``locale/fr`` repeats them
(a translator may reword one there), ``locale/en`` translates them. ``locale/README.md`` has the
extract → update → compile commands; the ``.mo`` files are compiled at build time, never checked
in, and a missing one is an error that says how to build it.

In Python, messages go through a :class:`Translator` (its ``gettext`` / ``ngettext`` calls are
what Babel extracts) or, for module-level tables, are marked with :func:`N_` and translated where
they are shown. Parameters are ``%(name)s`` placeholders, as in the templates' newstyle gettext::

    tr = translator(lang)
    tr.gettext("Équipement inconnu : %(id)s", id=facility_id)
    bilingual("Équipement inconnu : %(id)s", id=facility_id)
    # → "Équipement inconnu : xyz / Unknown facility: xyz" (the API's error messages)
    localized("Réouverture prévue à %(at)s.", at="14:00")
    # → {"fr": "Réouverture prévue à 14:00.", "en": "Expected to reopen at 14:00."} (events)

Pages are Jinja2 templates under ``dashboards/`` rendered by :func:`render` with the
environment of the language: autoescape on for ``.html``, ``jinja2.ext.i18n`` with newstyle
gettext (``{% trans %}``, ``_()``, ``ngettext()``), undefined variables are errors; ``lang`` is
a global and ``in_lang`` a filter picking a bilingual value's text (:func:`in_language`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, Final, Literal

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "N_",
    "CatalogueMissing",
    "Lang",
    "Translator",
    "bilingual",
    "environment",
    "in_language",
    "language",
    "localized",
    "render",
    "translations",
    "translator",
]

ROOT: Final = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "locale"
"""``<lang>/LC_MESSAGES/messages.mo`` under it (compiled from the ``.po`` next to it)."""
TEMPLATE_DIR = ROOT / "dashboards"
"""Template names are relative to it: ``templates/layout.html``, ``feedback/survey.html``."""
DOMAIN: Final = "messages"
Lang = Literal["fr", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("fr", "en")


class CatalogueMissing(RuntimeError):
    """A compiled message catalogue is not where the application reads it."""


def language(value: str | None) -> Lang:
    """The language of a ``lang`` parameter: ``en`` when asked for, French otherwise."""
    return "en" if value == "en" else "fr"


def N_(message: str) -> str:
    """Marks a message for extraction where it cannot be translated yet (a module-level table);
    translate it where it is shown, with ``translator(lang).gettext(message)``."""
    return message


@cache
def translations(lang: Lang) -> Translations:
    """The compiled catalogue of ``lang`` (read once per process)."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for language {lang!r} (known: {', '.join(LANGUAGES)})")
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():
        raise CatalogueMissing(
            f"message catalogue {path} is missing: compile the catalogues with "
            "`scripts/i18n.sh compile` (scripts/bootstrap.sh and the Docker build run it)"
        )
    with path.open("rb") as fp:
        return Translations(fp, domain=DOMAIN)


@dataclass(frozen=True, slots=True)
class Translator:
    """``gettext`` / ``ngettext`` of one language, formatting ``%(name)s`` parameters."""

    lang: Lang
    catalogue: Translations

    def gettext(self, message: str, /, **params: object) -> str:
        text = self.catalogue.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """As the templates' ``ngettext``: ``%(num)d`` is ``n``."""
        return self.catalogue.ngettext(singular, plural, n) % {"num": n, **params}


@cache
def translator(lang: Lang) -> Translator:
    return Translator(lang, translations(lang))


def localized(message: str, /, **params: object) -> dict[Lang, str]:
    """``{"fr": ..., "en": ...}``: one message looked up in both catalogues (events carry both)."""
    return {lang: translator(lang).gettext(message, **params) for lang in LANGUAGES}


def bilingual(message: str, /, **params: object) -> str:
    """« français / English » in one string, the shape of the API's error messages."""
    texts = localized(message, **params)
    return f"{texts['fr']} / {texts['en']}"


def in_language(value: object, lang: Lang) -> str:
    """The ``lang`` text of a bilingual value — a ``{"fr": …, "en": …}`` mapping (what events
    carry) or an object with ``fr`` / ``en`` attributes (the catalogue's) — French when it has
    none in ``lang``. Templates have it as the ``in_lang`` filter."""
    if isinstance(value, Mapping):
        text = value.get(lang) or value.get("fr")
    else:
        text = getattr(value, lang, None) or getattr(value, "fr", None)
    return "" if text is None else str(text)


@cache
def environment(lang: Lang) -> Environment:
    """The Jinja2 environment of ``lang`` (templates re-read when they change on disk)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        auto_reload=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg: {% trans %} whitespace collapsed
    # Added by the i18n extension, hence unknown to the type checker.
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.filters["in_lang"] = partial(in_language, lang=lang)
    return env


def render(lang: Lang, name: str, /, **context: Any) -> str:
    """Template ``name`` (relative to ``dashboards/``) rendered in ``lang``."""
    return environment(lang).get_template(name).render(**context)
