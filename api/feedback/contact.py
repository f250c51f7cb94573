"""A complaint's contact, checked for what it is: an e-mail address (``email-validator``, syntax
only, no DNS look-up), a phone number (``phonenumbers``, French formats first: 01 23 45 67 89,
06.12.34.56.78, +33 6 …; other countries with their ``+`` prefix) or a postal address (with its
code postal). Anything else — « pas un email » — is refused: the service could not answer it.

The value kept is the normalized one (an e-mail's domain in lower case, a phone number spaced as
the country writes it), so that the service reads one form of each.
"""

from __future__ import annotations

import re
from typing import Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from api.i18n import N_, bilingual

__all__ = ["CONTACT_MESSAGES", "ContactKind", "check_contact", "contact_kind"]

ContactKind = Literal["email", "phone", "postal"]

CONTACT_MESSAGES: dict[ContactKind | None, str] = {
    "email": N_("adresse électronique invalide : vérifiez-la (exemple : nom@exemple.fr)"),
    "phone": N_(
        "numéro de téléphone invalide : 10 chiffres (exemple : 01 23 45 67 89) "
        "ou +indicatif du pays"
    ),
    "postal": N_("adresse postale incomplète : ajoutez le code postal (exemple : 75015 Paris)"),
    None: N_(
        "indiquez une adresse électronique (nom@exemple.fr), un numéro de téléphone "
        "ou une adresse postale avec son code postal"
    ),
}
"""The message (msgid) of a contact refused as each kind; ``None``: recognised as none of them."""

_PHONE = re.compile(r"[+0-9 ().\-/]+")
_POSTCODE = re.compile(r"(?<![0-9])[0-9]{5}(?![0-9])")
_WORD = re.compile(r"[^\W\d_]{2,}")


def contact_kind(value: str) -> ContactKind | None:
    """What the contact looks like it means to be (before checking that it is one)."""
    text = value.strip()
    if "@" in text:
        return "email"
    if _PHONE.fullmatch(text) and sum(c.isdigit() for c in text) >= 4:
        return "phone"
    if len(_WORD.findall(text)) >= 2 and any(c.isdigit() for c in text):
        return "postal"
    return None


def _phone(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def check_contact(value: str) -> str:
    """The contact, normalized; :class:`ValueError` with a « fr / en » message naming what is
    wrong when it is no usable e-mail address, phone number or postal address."""
    text = value.strip()
    kind = contact_kind(text)
    if kind == "email":
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            pass
    elif kind == "phone":
        number = _phone(text)
        if number is not None:
            return number
    elif kind == "postal" and _POSTCODE.search(text):
        return text
    raise ValueError(bilingual(CONTACT_MESSAGES[kind]))
