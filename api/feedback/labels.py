"""How a citizen reads the feedback family's codes: golden rules, complaint states, the aspects of
the satisfaction figures, the mediator. French first, English second."""

from __future__ import annotations

__all__ = ["ASPECT_LABELS", "MEDIATOR", "RULE_LABELS", "STATUS_WORDS"]

RULE_LABELS: dict[str, dict[str, str]] = {
    "information": {
        "fr": "Information en temps réel sur l'accès",
        "en": "Real-time information on access",
    },
    "delays": {"fr": "Délais annoncés (attente, rendez-vous)", "en": "Announced delays"},
    "orientation": {"fr": "Orientation vers le bon service", "en": "Sent to the right service"},
    "welcome": {"fr": "Qualité de l'accueil", "en": "Quality of the welcome"},
}
"""How a citizen reads each golden rule."""

ASPECT_LABELS = {"overall": {"fr": "Satisfaction globale", "en": "Overall satisfaction"}} | {
    rule: label for rule, label in RULE_LABELS.items()
}
"""The aspects of the satisfaction figures: overall, then each golden rule."""

STATUS_WORDS = {
    "received": {"fr": "Reçue", "en": "Received"},
    "acknowledged": {"fr": "Prise en charge", "en": "Acknowledged"},
    "answered": {"fr": "Répondue", "en": "Answered"},
}
"""A complaint's states, in order."""

MEDIATOR = {
    "name": "Médiateur de la Ville de Paris",
    "fr": "Si la réponse du service ne vous satisfait pas, ou sans réponse dans le délai annoncé, "
    "vous pouvez saisir gratuitement le Médiateur de la Ville de Paris, autorité indépendante "
    "qui règle à l'amiable les litiges entre les usagers et l'administration parisienne. "
    "Joignez la référence de votre réclamation (REC-…). Saisine en ligne sur paris.fr "
    "(rubrique « Médiateur de la Ville de Paris ») ou par courrier.",
    "en": "If the service's answer does not satisfy you, or if it did not answer in time, you "
    "may refer the dispute, free of charge, to the Médiateur de la Ville de Paris — the City's "
    "independent ombudsman, who settles disputes between users and the Paris administration "
    "amicably. Quote your complaint's reference (REC-…). Online on paris.fr (« Médiateur de la "
    "Ville de Paris ») or by post.",
    "url": "https://www.paris.fr/",
}
"""Where a citizen turns when the answer does not satisfy them."""
