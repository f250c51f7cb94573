"""The complaints' pages: the one form for every service, a complaint's status by reference
(nothing personal), the service inbox shell (its data comes from the inbox API)."""

from __future__ import annotations

import datetime as dt

from fastapi.responses import HTMLResponse

from api.errors import ApiError
from api.feedback.labels import RULE_LABELS, STATUS_WORDS
from api.feedback.models import ComplaintStatus
from api.feedback.views import esc, form_error, page, template
from schemas.catalogue import FACILITY_TYPES, TYPE_LABELS, Catalogue, normalize_text
from schemas.clock import PARIS
from schemas.events import GoldenRule
from schemas.routing import load_routing

__all__ = [
    "complaint_error",
    "complaint_form",
    "complaint_received",
    "complaint_status",
    "inbox_page",
    "unknown_complaint",
]


def complaint_error(exc: ApiError, lang: str) -> HTMLResponse:
    fr = lang == "fr"
    return form_error(
        exc,
        lang,
        heading="Votre réclamation n’a pas été enregistrée"
        if fr
        else "Your complaint was not recorded",
        back="Revenir au formulaire" if fr else "Back to the form",
        back_href=f"/complaints?lang={lang}",
        path="/complaints",
    )


def _facility_options(catalogue: Catalogue, lang: str, selected: str | None) -> str:
    groups = []
    for kind in FACILITY_TYPES:
        facilities = sorted(catalogue.by_type(kind), key=lambda f: f.name)
        if not facilities:
            continue
        label = TYPE_LABELS[kind].fr if lang == "fr" else TYPE_LABELS[kind].en
        options = "".join(
            f'<option value="{esc(f.id)}" data-search="{esc(normalize_text(f.name + " " + f.address.one_line()))}"'
            f"{' selected' if f.id == selected else ''}>{esc(f.name)} ({f.arrondissement}e)</option>"
            for f in facilities
        )
        groups.append(f'<optgroup label="{esc(label)}">{options}</optgroup>')
    return "".join(groups)


def complaint_received(lang: str) -> HTMLResponse:
    fr = lang == "fr"
    main = f"<h1>{'Réclamation reçue' if fr else 'Complaint received'}</h1>"
    return page(lang, "Réclamation / Complaint", main, path="/complaints")


def complaint_form(catalogue: Catalogue, lang: str, facility: str | None) -> HTMLResponse:
    chosen = lang
    fr = chosen == "fr"
    routing = load_routing()
    rules = "".join(
        f'<label class="rating"><input type="radio" name="rule" value="{rule.value}"'
        f"{' required' if i == 0 else ''}><span>{esc(RULE_LABELS[rule.value][chosen])}</span></label>"
        for i, rule in enumerate(GoldenRule)
    )
    topics = "".join(
        f'<optgroup label="{esc(RULE_LABELS[rule.value][chosen])}" data-rule="{rule.value}">'
        + "".join(
            f'<option value="{esc(topic)}">{esc(label.fr if fr else label.en)}</option>'
            for topic, label in routing.topics[rule].items()
        )
        + "</optgroup>"
        for rule in GoldenRule
    )
    main = template("complaint.html").substitute(
        lang=chosen,
        title=esc("Faire une réclamation" if fr else "File a complaint"),
        intro=esc(
            "Un seul formulaire pour tous les services : nous transmettons votre réclamation au "
            "service compétent et vous indiquons tout de suite le délai de réponse."
            if fr
            else "One form for every service: we send your complaint to the competent service "
            "and tell you at once when it will answer."
        ),
        errors_title=esc("Le formulaire contient des erreurs" if fr else "The form has errors"),
        search_label=esc("Rechercher un équipement" if fr else "Search a facility"),
        facility_label=esc("Équipement concerné" if fr else "Facility"),
        choose=esc("— choisir —" if fr else "— choose —"),
        facility_options=_facility_options(catalogue, chosen, facility),
        rule_legend=esc(
            "Quel engagement n’a pas été tenu ?" if fr else "Which commitment was not kept?"
        ),
        rules=rules,
        topic_label=esc("Nature (facultatif)" if fr else "Topic (optional)"),
        topics=topics,
        text_label=esc("Que s’est-il passé ?" if fr else "What happened?"),
        text_hint=esc(
            "10 à 4 000 caractères. Date, heure et service concernés nous aident."
            if fr
            else "10 to 4,000 characters. Date, time and service help us."
        ),
        contact_label=esc(
            "Vos coordonnées pour la réponse (facultatif)"
            if fr
            else "Your contact for the answer (optional)"
        ),
        contact_hint=esc(
            "Courriel, téléphone ou adresse postale. Utilisées uniquement pour vous répondre, "
            "visibles du seul service compétent, effacées un an après la réponse."
            if fr
            else "E-mail, phone or postal address. Used only to answer you, seen only by the "
            "competent service, deleted one year after the answer."
        ),
        honeypot=esc("Ne pas remplir ce champ" if fr else "Leave this field empty"),
        submit=esc("Envoyer la réclamation" if fr else "Send the complaint"),
        sending=esc("Envoi…" if fr else "Sending…"),
        mediator=esc(
            "Sans réponse satisfaisante, vous pourrez saisir le Médiateur de la Ville de Paris."
            if fr
            else "Without a satisfactory answer, you may refer it to the Médiateur de la Ville "
            "de Paris (the City's ombudsman)."
        ),
    )
    return page(
        chosen,
        "Réclamation / Complaint",
        main,
        path="/complaints",
        scripts=["/feedback-assets/forms.js"],
    )


def _date(value: dt.datetime | None, lang: str) -> str:
    if value is None:
        return "—"
    local = value.astimezone(PARIS)
    return local.strftime("%d/%m/%Y %H:%M") if lang == "fr" else local.strftime("%Y-%m-%d %H:%M")


def unknown_complaint(reference: str, lang: str) -> HTMLResponse:
    fr = lang == "fr"
    main = (
        f"<h1>{'Réclamation inconnue' if fr else 'Unknown complaint'}</h1>"
        f"<p>{'Vérifiez la référence (REC-AAMM-XXXXX-XXXXX).' if fr else 'Check the reference (REC-YYMM-XXXXX-XXXXX).'}</p>"
    )
    return page(
        lang,
        "Réclamation inconnue / Unknown complaint",
        main,
        path=f"/complaints/{reference}",
        status_code=404,
    )


def complaint_status(case: ComplaintStatus, lang: str, *, created: bool) -> HTMLResponse:
    chosen = lang
    fr = chosen == "fr"
    order = ["received", "acknowledged", "answered"]
    reached = order.index(case.status)
    dates = [case.filed_at, case.acknowledged_at, case.answered_at]
    steps = ""
    for i, step in enumerate(order):
        kind = "current" if i == reached else "done" if i < reached else "todo"
        current = ' aria-current="step"' if i == reached else ""
        steps += (
            f'<li class="{kind}"{current}><span class="state">{STATUS_WORDS[step][chosen]}</span>'
            f"{_date(dates[i], chosen)}</li>"
        )
    topic_label = load_routing().topics[case.rule].get(case.topic)
    on_time = ""
    if case.answered_on_time is not None:
        on_time = (
            f'<p class="{"ok" if case.answered_on_time else "late"}">'
            + (
                ("Réponse dans le délai." if fr else "Answered on time.")
                if case.answered_on_time
                else ("Réponse hors délai." if fr else "Answered late.")
            )
            + "</p>"
        )
    receipt = ""
    if created:
        receipt = (
            f'<div class="receipt" role="status"><p>{"Votre réclamation est enregistrée. Conservez sa référence :" if fr else "Your complaint is recorded. Keep its reference:"}</p>'
            f'<p class="reference">{esc(case.reference)}</p></div>'
        )
    main = (
        f'<h1>{"Suivi de la réclamation" if fr else "Complaint status"} <span class="facility-name">{esc(case.reference)}</span></h1>'
        f"{receipt}"
        f'<h2 class="visually-hidden">{"Étapes" if fr else "Steps"}</h2><ol class="steps">{steps}</ol>'
        f'<dl class="status">'
        f"<dt>{'Équipement' if fr else 'Facility'}</dt><dd>{esc(case.facility_name)}</dd>"
        f"<dt>{'Engagement concerné' if fr else 'Commitment'}</dt><dd>{esc(RULE_LABELS[case.rule.value][chosen])}"
        f"{' — ' + esc(topic_label.fr if fr else topic_label.en) if topic_label else ''}</dd>"
        f"<dt>{'Service compétent' if fr else 'Competent service'}</dt><dd>{esc(case.service.name.fr if fr else case.service.name.en or case.service.name.fr)}</dd>"
        f"<dt>{'Prise en charge au plus tard' if fr else 'Acknowledged by'}</dt><dd>{_date(case.acknowledge_due_at, chosen)}</dd>"
        f"<dt>{'Réponse au plus tard' if fr else 'Answer by'}</dt><dd>{_date(case.answer_due_at, chosen)}</dd>"
        f"</dl>{on_time}"
        f'<p class="note">{"La réponse vous est adressée directement si vous avez laissé vos coordonnées. Sans réponse satisfaisante, vous pouvez saisir le Médiateur de la Ville de Paris (voir" if fr else "The answer is sent to you directly if you left a contact. Without a satisfactory answer, you may refer it to the Médiateur de la Ville de Paris (see"} '
        f'<a href="/transparence?lang={chosen}#mediateur">/transparence</a>).</p>'
    )
    return page(chosen, f"{case.reference}", main, path=f"/complaints/{case.reference}")


def inbox_page(lang: str) -> HTMLResponse:
    chosen = lang
    fr = chosen == "fr"
    main = template("inbox.html").substitute(
        lang=chosen,
        title=esc("Réclamations du service" if fr else "Service complaints"),
        token_label=esc("Jeton d'accès du service" if fr else "Service access token"),
        token_hint=esc(
            "Fourni par l'administrateur ; conservé dans cet onglet seulement."
            if fr
            else "Given by your administrator; kept in this tab only."
        ),
        connect=esc("Ouvrir la boîte" if fr else "Open the inbox"),
        state_label=esc("Afficher" if fr else "Show"),
        open=esc("À traiter" if fr else "To handle"),
        answered=esc("Répondues" if fr else "Answered"),
        all=esc("Toutes" if fr else "All"),
        empty=esc("Aucune réclamation." if fr else "No complaint."),
    )
    return page(
        chosen,
        "Boîte de réception / Inbox",
        main,
        path="/inbox",
        scripts=["/feedback-assets/inbox.js"],
    )
