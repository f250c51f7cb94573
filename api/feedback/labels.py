"""How a citizen reads the feedback family's codes: golden rules, complaint states, the aspects of
the satisfaction figures, the mediator. Each is a msgid (French), translated where it is shown
(:func:`api.i18n.translator`) or given in both languages (:func:`api.i18n.localized`)."""

from __future__ import annotations

from api.i18n import N_, Lang, in_language, localized, translator
from schemas.routing import load_routing

__all__ = [
    "ASPECT_LABELS",
    "DIRECTIONS",
    "FIELD_LABELS",
    "MEDIATOR_NAME",
    "RULE_LABELS",
    "STATUS_WORDS",
    "ServiceNames",
    "mediator",
    "service_name",
]

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


FIELD_LABELS: dict[str, str] = {
    "facility_id": N_("Équipement concerné"),
    "procedure_id": N_("Démarche concernée"),
    "rule": N_("Engagement non tenu"),
    "topic": N_("Nature"),
    "text": N_("Que s’est-il passé ?"),
    "contact": N_("Vos coordonnées pour la réponse"),
    "rating": N_("Satisfaction globale"),
    "comment": N_("Commentaire"),
    "service_id": N_("Service concerné"),
} | {f"rule_ratings.{rule}": label for rule, label in RULE_LABELS.items()}
"""How a citizen reads each field of the forms (the no-JavaScript error page names them so)."""

DIRECTIONS: dict[str, str] = {
    "DAC": N_("Direction des Affaires Culturelles"),
    "DDCT": N_("Direction de la Démocratie, des Citoyen·nes et des Territoires"),
    "DICOM": N_("Direction de l'Information et de la Communication"),
    "DJS": N_("Direction de la Jeunesse et des Sports"),
    "DLH": N_("Direction du Logement et de l'Habitat"),
    "DPE": N_("Direction de la Propreté et de l'Eau"),
    "DSOL": N_("Direction des Solidarités"),
    "DVD": N_("Direction de la Voirie et des Déplacements"),
}
"""The City's directions whose acronym begins a service's French name (« DJS — Service des
piscines »): their official names, written out at first use since an ``<abbr title>`` cannot be
read on a touch screen."""
NUMBER_3975 = N_("le numéro d'information de la Ville de Paris")
"""What the 3975 in « Centre de contact 3975 » is."""


class ServiceNames:
    """A competent service's name as a page writes it: the direction's full name with its
    acronym the first time the page names that direction, the acronym alone afterwards."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.seen: set[str] = set()

    def __call__(self, service_id: str) -> str:
        service = load_routing().services.get(service_id)
        if service is None:
            return service_id
        name = in_language(service.name, self.lang)
        tr = translator(self.lang)
        if "3975" in name and "3975" not in self.seen:
            self.seen.add("3975")
            return f"{name} ({tr.gettext(NUMBER_3975)})"
        acronym, sep, rest = name.partition(" — ")
        if not sep or acronym not in DIRECTIONS:
            return name
        if acronym in self.seen:
            return f"{rest} ({acronym})"
        self.seen.add(acronym)
        return tr.gettext(
            "%(service)s — %(direction)s (%(acronym)s)",
            service=rest,
            direction=tr.gettext(DIRECTIONS[acronym]),
            acronym=acronym,
        )


def service_name(service_id: str, lang: Lang) -> str:
    """A service's name with its direction written out (a page naming one service)."""
    return ServiceNames(lang)(service_id)
