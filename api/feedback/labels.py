"""How a citizen reads the feedback family's codes: golden rules, complaint states, the aspects of
the satisfaction figures, the mediator. Each is a msgid (French), translated where it is shown
(:func:`api.i18n.translator`) or given in both languages (:func:`api.i18n.localized`)."""

from __future__ import annotations

from api.i18n import N_, localized

__all__ = ["ASPECT_LABELS", "MEDIATOR_NAME", "RULE_LABELS", "STATUS_WORDS", "mediator"]

RULE_LABELS: dict[str, str] = {
    "information": N_("Information en temps réel sur l'accès"),
    "delays": N_("Délais annoncés (attente, rendez-vous)"),
    "orientation": N_("Orientation vers le bon service"),
    "welcome": N_("Qualité de l'accueil"),
}
"""How a citizen reads each golden rule."""

ASPECT_LABELS: dict[str, str] = {"overall": N_("Satisfaction globale")} | RULE_LABELS
"""The aspects of the satisfaction figures: overall, then each golden rule."""

STATUS_WORDS: dict[str, str] = {
    "received": N_("Reçue"),
    "acknowledged": N_("Prise en charge"),
    "answered": N_("Répondue"),
}
"""A complaint's states, in order."""

MEDIATOR_NAME = "Médiateur de la Ville de Paris"
"""A proper name: the same in every language."""
_MEDIATOR_TEXT = N_(
    "Si la réponse du service ne vous satisfait pas, ou sans réponse dans le délai annoncé, "
    "vous pouvez saisir gratuitement le Médiateur de la Ville de Paris, autorité indépendante "
    "qui règle à l'amiable les litiges entre les usagers et l'administration parisienne. "
    "Joignez la référence de votre réclamation (REC-…). Saisine en ligne sur paris.fr "
    "(rubrique « Médiateur de la Ville de Paris ») ou par courrier."
)


def mediator() -> dict[str, str]:
    """Where a citizen turns when the answer does not satisfy them (``name, fr, en, url``)."""
    text = localized(_MEDIATOR_TEXT)
    return {
        "name": MEDIATOR_NAME,
        "fr": text["fr"],
        "en": text["en"],
        "url": "https://www.paris.fr/",
    }
