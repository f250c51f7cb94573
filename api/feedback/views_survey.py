"""The survey's pages: the form (the QR code of a facility's screen), the thanks, the errors."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from api.errors import ApiError
from api.feedback.labels import RULE_LABELS
from api.feedback.views import esc, form_error, page, template
from api.ratelimit import RateLimited
from schemas.catalogue import TYPE_LABELS, Facility
from schemas.events import GoldenRule

__all__ = ["survey_error", "survey_form", "survey_thanks", "unknown_facility"]


def survey_error(exc: ApiError, facility_id: str, lang: str) -> HTMLResponse:
    fr = lang == "fr"
    retry = ""
    if isinstance(exc, RateLimited):
        retry = (
            f"<p>Vous pourrez répondre à nouveau dans {exc.retry_after} s.</p>"
            if fr
            else f"<p>You may answer again in {exc.retry_after} s.</p>"
        )
    return form_error(
        exc,
        lang,
        heading="Votre réponse n’a pas été enregistrée" if fr else "Your answer was not recorded",
        back="Revenir au questionnaire" if fr else "Back to the survey",
        back_href=f"/feedback/{esc(facility_id)}?lang={lang}",
        path=f"/feedback/{facility_id}",
        extra=retry,
    )


def unknown_facility(facility_id: str, lang: str) -> HTMLResponse:
    fr = lang == "fr"
    main = (
        f"<h1>{'Équipement inconnu' if fr else 'Unknown facility'}</h1>"
        f'<p><a href="/complaints?lang={lang}">'
        f"{'Faire une réclamation' if fr else 'File a complaint'}</a></p>"
    )
    return page(
        lang,
        "Équipement inconnu / Unknown facility",
        main,
        path=f"/feedback/{facility_id}",
        status_code=404,
    )


def survey_thanks(facility: Facility, lang: str) -> HTMLResponse:
    fr = lang == "fr"
    main = (
        f'<h1 tabindex="-1" id="thanks">{"Merci pour votre avis !" if fr else "Thank you for your feedback!"}</h1>'
        f"<p>{esc(facility.name)}</p>"
        f"<p>{'Les résultats sont publiés chaque mois sur' if fr else 'Results are published monthly on'} "
        f'<a href="/transparence?lang={lang}">/transparence</a>.</p>'
        f"<p>{'Un problème à signaler ?' if fr else 'A problem to report?'} "
        f'<a href="/complaints?facility={esc(facility.id)}&lang={lang}">'
        f"{'Faire une réclamation' if fr else 'File a complaint'}</a></p>"
    )
    return page(lang, "Merci / Thank you", main, path=f"/feedback/{facility.id}")


def _rating_group(name: str, legend: str, lang: str, *, required: bool) -> str:
    fr = lang == "fr"
    words = (
        ["Très insatisfait", "Insatisfait", "Moyen", "Satisfait", "Très satisfait"]
        if fr
        else ["Very unhappy", "Unhappy", "Average", "Happy", "Very happy"]
    )
    error_id = f"err-{name.replace('.', '-')}"
    options = "".join(
        f'<label class="rating"><input type="radio" name="{name}" value="{n}"'
        f"{' required' if required and n == 1 else ''}><span>{n}</span>"
        f'<span class="visually-hidden"> — {words[n - 1]}</span></label>'
        for n in range(1, 6)
    )
    if not required:
        options += (
            f'<label class="rating no-opinion"><input type="radio" name="{name}" value="" checked>'
            f"<span>{'Sans avis' if fr else 'No opinion'}</span></label>"
        )
    mark = (
        ' <span class="req">(obligatoire)</span>'
        if required and fr
        else (' <span class="req">(required)</span>' if required else "")
    )
    return (
        f'<fieldset class="scale" data-field="{name}" aria-describedby="{error_id}">'
        f"<legend>{esc(legend)}{mark}</legend>"
        f'<p class="hint">1 = {words[0].lower()}, 5 = {words[4].lower()}</p>'
        f'<div class="options">{options}</div>'
        f'<p class="field-error" id="{error_id}" hidden></p></fieldset>'
    )


def _text_field(name: str, label: str, lang: str) -> str:
    hint = (
        "Facultatif, 1 000 caractères au plus"
        if lang == "fr"
        else "Optional, up to 1,000 characters"
    )
    return (
        f'<div class="field" data-field="{name}"><label for="f-{name}">{esc(label)}</label>'
        f'<p class="hint" id="hint-{name}">{hint}. '
        f"{'N’indiquez pas de données personnelles.' if lang == 'fr' else 'Please do not include personal details.'}</p>"
        f'<textarea id="f-{name}" name="{name}" rows="3" maxlength="1000" '
        f'aria-describedby="hint-{name} err-{name}"></textarea>'
        f'<p class="field-error" id="err-{name}" hidden></p></div>'
    )


def survey_form(
    facility: Facility, lang: str, *, service: str | None, channel: str
) -> HTMLResponse:
    chosen = lang
    fr = chosen == "fr"
    facility_id = facility.id
    kind = TYPE_LABELS[facility.type]
    services = "".join(
        f'<option value="{esc(s.service_id)}"{" selected" if s.service_id == service else ""}>'
        f"{esc(s.name.fr if fr else s.name.en)}</option>"
        for s in facility.services
    )
    service_field = (
        f'<div class="field" data-field="service_id"><label for="f-service">'
        f"{'Service concerné (facultatif)' if fr else 'Service (optional)'}</label>"
        f'<select id="f-service" name="service_id" aria-describedby="err-service_id">'
        f'<option value="">{"—"}</option>{services}</select>'
        f'<p class="field-error" id="err-service_id" hidden></p></div>'
        if len(facility.services) > 1
        else ""
    )
    rules = "".join(
        _rating_group(
            f"rule_ratings.{rule.value}", RULE_LABELS[rule.value][chosen], chosen, required=False
        )
        for rule in GoldenRule
    )
    main = template("survey.html").substitute(
        title=esc("Votre avis sur" if fr else "Your opinion of"),
        name=esc(facility.name),
        kind=esc(kind.fr if fr else kind.en),
        intro=esc(
            "Moins de 3 minutes, sans compte. Seule la note globale est obligatoire."
            if fr
            else "Less than 3 minutes, no account. Only the overall rating is required."
        ),
        action=esc(f"/v1/facilities/{facility_id}/feedback"),
        errors_title=esc("Le formulaire contient des erreurs" if fr else "The form has errors"),
        overall=_rating_group(
            "rating",
            "Êtes-vous satisfait de votre visite ?"
            if fr
            else "Were you satisfied with your visit?",
            chosen,
            required=True,
        ),
        rules_legend=esc(
            "Les engagements de la charte « Vous simplifier Paris »"
            if fr
            else "The charter's commitments"
        ),
        rules=rules,
        texts=_text_field("liked", "Ce qui est appréciable" if fr else "What was good", chosen)
        + _text_field(
            "to_improve", "Ce qui est améliorable" if fr else "What could be better", chosen
        )
        + _text_field("went_wrong", "Ce qui ne va pas" if fr else "What went wrong", chosen),
        service_field=service_field,
        channel=esc(channel),
        lang=chosen,
        honeypot=esc("Ne pas remplir ce champ" if fr else "Leave this field empty"),
        submit=esc("Envoyer mon avis" if fr else "Send my feedback"),
        sending=esc("Envoi…" if fr else "Sending…"),
        thanks=esc("Merci pour votre avis !" if fr else "Thank you for your feedback!"),
        complaint=esc("Faire une réclamation" if fr else "File a complaint"),
        facility_id=esc(facility_id),
        privacy=esc(
            "Vos réponses sont anonymes. Un cookie technique limite les envois répétés ; "
            "les commentaires sont effacés après 90 jours."
            if fr
            else "Your answers are anonymous. A technical cookie limits repeated answers; "
            "comments are deleted after 90 days."
        ),
    )
    return page(
        chosen,
        f"{'Votre avis' if fr else 'Your opinion'} — {facility.name}",
        main,
        path=f"/feedback/{facility_id}",
        scripts=["/feedback-assets/forms.js"],
        headers={},
    )
