"""The message catalogues and the template environment (api/i18n.py, locale/, babel.cfg)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from api import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/messages.po"))


def untranslated(po: Path) -> list[str]:
    """The msgids of ``po`` without a usable translation (empty, partly empty or fuzzy)."""
    with po.open("rb") as fp:
        catalogue = read_po(fp)
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else message.string
        if message.fuzzy or not strings or not all(s.strip() for s in strings):
            missing.append(str(message.id))
    return missing


def msgids(path: Path) -> set[str]:
    with path.open("rb") as fp:
        return {str(m.id) for m in read_po(fp) if m.id}


def clear_caches() -> None:
    i18n.translations.cache_clear()
    i18n.translator.cache_clear()
    i18n.environment.cache_clear()


@pytest.fixture
def fake_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Compiled catalogues with one known message, in place of the project's."""
    for lang, unknown in (
        ("fr", "Équipement inconnu : %(id)s"),
        ("en", "Unknown facility: %(id)s"),
    ):
        catalogue = Catalog(locale=lang, domain="messages")
        catalogue.add("Équipement inconnu : %(id)s", unknown, flags=["python-format"])
        catalogue.add("Ouvert", "Ouvert" if lang == "fr" else "Open")
        catalogue.add(
            ("%(num)d équipement", "%(num)d équipements"),
            ("%(num)d équipement", "%(num)d équipements")
            if lang == "fr"
            else ("%(num)d facility", "%(num)d facilities"),
        )
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        buffer = io.BytesIO()
        write_mo(buffer, catalogue)
        (folder / "messages.mo").write_bytes(buffer.getvalue())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    clear_caches()
    yield tmp_path
    clear_caches()


def test_there_is_a_catalogue_per_language() -> None:
    """locale/ holds one messages.po per language the site speaks, and the template."""
    assert {p.parts[-3] for p in CATALOGUES} == set(i18n.LANGUAGES)
    assert (LOCALE / "messages.pot").is_file()


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-3])
def test_every_message_is_translated(po: Path) -> None:
    """Every msgid has a non-empty, non-fuzzy translation in every catalogue."""
    assert untranslated(po) == []


FRENCH_ONLY = re.compile(
    r"\b(délais?|affluence|horaires?|fermée?s?|équipements?|démarches?|mairies?|réclamations?)\b",
    re.IGNORECASE,
)
"""The service's own French words: an English page that keeps one (« Processing délais »,
« What no source confirms (hours, capacities, délais) ») reads as a translation left half done."""


def test_the_english_catalogue_keeps_no_french_word_of_the_service() -> None:
    """No English translation keeps « délai », « affluence », « horaires », « fermé »,
    « équipement », « démarche », « mairie » or « réclamation » (proper names such as the
    « Licence Ouverte » stay French)."""
    with (LOCALE / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalogue = read_po(fp)
    left = [
        text
        for message in catalogue
        if message.id
        for text in ([message.string] if isinstance(message.string, str) else message.string)
        if FRENCH_ONLY.search(text)
    ]
    assert left == []


def test_a_missing_translation_is_caught(tmp_path: Path) -> None:
    """A broken copy of the English catalogue (one empty, one fuzzy, one partly empty plural
    translation) is reported message by message."""
    broken = tmp_path / "messages.po"
    shutil.copy(LOCALE / "en" / "LC_MESSAGES" / "messages.po", broken)
    with broken.open("a", encoding="utf-8") as fp:
        fp.write(
            '\nmsgid "Message sans traduction"\nmsgstr ""\n'
            '\n#, fuzzy\nmsgid "Traduction à revoir"\nmsgstr "Translation to review"\n'
            '\nmsgid "%(num)d ticket"\nmsgid_plural "%(num)d tickets"\n'
            'msgstr[0] "%(num)d ticket"\nmsgstr[1] ""\n'
        )
    before = set(untranslated(LOCALE / "en" / "LC_MESSAGES" / "messages.po"))
    assert set(untranslated(broken)) - before == {
        "Message sans traduction",
        "Traduction à revoir",
        "('%(num)d ticket', '%(num)d tickets')",
    }


def test_catalogues_are_up_to_date_with_the_sources(tmp_path: Path) -> None:
    """The messages extracted from the code and the templates now are those of the checked-in
    template and catalogues (run scripts/i18n.sh extract && scripts/i18n.sh update otherwise)."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        ["bash", "scripts/i18n.sh", "extract", str(fresh)], cwd=ROOT, check=True, timeout=120
    )
    extracted = msgids(fresh)
    assert extracted == msgids(LOCALE / "messages.pot"), "run scripts/i18n.sh extract"
    for po in CATALOGUES:
        assert msgids(po) == extracted, f"run scripts/i18n.sh update ({po.parts[-3]})"


def test_a_missing_compiled_catalogue_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its .mo the loader says which file is missing and how to build it."""
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    clear_caches()
    try:
        with pytest.raises(i18n.CatalogueMissing, match=r"en/LC_MESSAGES/messages\.mo.*compile"):
            i18n.translations("en")
    finally:
        clear_caches()


def test_the_project_catalogues_load() -> None:
    """The compiled catalogues of every language load (the build compiled them)."""
    clear_caches()
    for lang in i18n.LANGUAGES:
        assert i18n.translator(lang).lang == lang


def test_bilingual_keeps_the_error_message_shape(fake_locale: Path) -> None:
    """One msgid gives « français / English », the shape of the API's error messages."""
    assert (
        i18n.bilingual("Équipement inconnu : %(id)s", id="xyz")
        == "Équipement inconnu : xyz / Unknown facility: xyz"
    )
    assert i18n.localized("Ouvert") == {"fr": "Ouvert", "en": "Open"}


def test_translator_formats_parameters_and_plurals(fake_locale: Path) -> None:
    """gettext formats %(name)s parameters; ngettext picks the plural and passes num."""
    en = i18n.translator("en")
    assert en.gettext("Équipement inconnu : %(id)s", id="a") == "Unknown facility: a"
    assert en.ngettext("%(num)d équipement", "%(num)d équipements", 1) == "1 facility"
    assert en.ngettext("%(num)d équipement", "%(num)d équipements", 6) == "6 facilities"
    assert i18n.translator("fr").ngettext("%(num)d équipement", "%(num)d équipements", 0) == (
        "0 équipement"
    )
    assert en.gettext("Pas dans le catalogue") == "Pas dans le catalogue"


def test_templates_autoescape_and_translate(fake_locale: Path) -> None:
    """.html templates are autoescaped, and so are the parameters of translated messages."""
    env = i18n.environment("en")
    assert env.autoescape("templates/layout.html") is True  # type: ignore[operator]
    page = env.from_string(
        '{{ value }} {{ _("Ouvert") }} {{ _("Équipement inconnu : %(id)s", id=value) }} '
        "{% trans n=6 %}{{ n }} équipement{% pluralize %}{{ n }} équipements{% endtrans %}"
    )
    assert page.render(value="<b>") == (
        "&lt;b&gt; Open Unknown facility: &lt;b&gt; 6 équipements"  # not in the fake catalogue
    )
    assert env.globals["lang"] == "en"


def test_templates_refuse_undefined_variables(fake_locale: Path) -> None:
    """A variable a view forgot to pass is an error, not an empty string."""
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        i18n.environment("fr").from_string("{{ missing }}").render()


def test_language_defaults_to_french() -> None:
    """Only ``en`` switches to English; anything else is French."""
    assert [i18n.language(v) for v in ("en", "fr", None, "de")] == ["en", "fr", "fr", "fr"]


def test_in_language_picks_the_text_of_a_bilingual_value() -> None:
    """{fr, en?} mappings and fr/en objects give the text of the language, French without one."""
    from schemas.catalogue import TYPE_LABELS

    assert i18n.in_language({"fr": "Fermé", "en": "Closed"}, "en") == "Closed"
    assert i18n.in_language({"fr": "Fermé"}, "en") == "Fermé"
    assert i18n.in_language({"fr": "Fermé", "en": None}, "en") == "Fermé"
    assert i18n.in_language(TYPE_LABELS["pool"], "en") == "Swimming pool"
    assert i18n.in_language(TYPE_LABELS["pool"], "fr") == "Piscine"
