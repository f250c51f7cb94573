"""Finding a démarche from the words a citizen types: « passeport », « encombrants », « PV ».

The rule is the directory's (:func:`api.pages.directory.found_by` on :func:`normalize_text`):
a word of the query is found when it begins a word of the démarche's text — case, accents and
punctuation do not matter. Around that rule, three things a citizen needs:

- **everyday words**: each parcours' text holds its titles, summary, step titles, the names of
  the catalogue procedures it goes through with the directory's ``PROCEDURE_SYNONYMS``, and the
  words of :data:`PARCOURS_WORDS` (« CNI », « encombrants », « FPS », « nager »…);
- **little words ignored**: « comment refaire mon passeport » searches « refaire passeport »
  (:data:`STOPWORDS`); a démarche is found by every remaining word, or, when none is, by the
  most of them; words of its title count a little more;
- **typos**: a word that begins no word of any démarche is compared with the whole vocabulary
  (RapidFuzz ratio ≥ :data:`FUZZY_SCORE`, words of 4 letters or more), so « pasport » finds the
  passport and « encombrant » still needs no correction.

A question about something the platform does not cover yet (« crèche ») gets a :class:`Topic`:
a clear "not covered yet" with the page of paris.fr that does. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from api.pages.directory import PROCEDURE_SYNONYMS, found_by
from schemas.catalogue import Catalogue, LocalizedText, normalize_text
from schemas.parcours import Parcours

__all__ = [
    "FUZZY_SCORE",
    "MAX_QUERY",
    "NOT_COVERED",
    "PARCOURS_WORDS",
    "STOPWORDS",
    "Hit",
    "ProcedureIndex",
    "Topic",
]

MAX_QUERY = 200
"""Characters of a query that are searched (a longer one is cut, never refused)."""
FUZZY_SCORE = 80.0
"""RapidFuzz ``ratio`` (0–100) from which an unknown word is taken for a word of the vocabulary."""
_FUZZY_MIN_LENGTH = 4
_TITLE_BONUS = 0.25
"""Added per word found in the démarche's title: « demande de logement » is the housing one."""

PARCOURS_WORDS: dict[str, str] = {
    # Words people use for a démarche that its titles do not contain (normalised, French and
    # English; plural forms where they differ: a query word must begin a word of the text).
    "identity-document": (
        "titre identite identites cni carte passeport passeports papiers perte perdu vol vole "
        "renouveler renouvellement id card passport papers lost renew"
    ),
    "bulky-items": (
        "encombrant encombrants meuble meubles objets volumineux canape matelas armoire frigo "
        "refrigerateur electromenager debarras ramassage enlevement dechets "
        "bulky furniture sofa couch mattress fridge junk pickup waste"
    ),
    "parking-fine-appeal": (
        "amende amendes pv proces verbal contravention fps forfait post stationnement contester "
        "contestation recours rapo ccsp parking fine ticket appeal"
    ),
    "residential-parking": (
        "stationnement residentiel resident residents vignette voiture garer "
        "parking permit car resident"
    ),
    "pool-visit": "piscine piscines nager nage natation baignade bassin swim swimming pool",
    "getting-married": "mariage marier epouser noces bans pacs wedding marry marriage",
    "change-of-use": (
        "changement usage meuble touristique airbnb location courte duree local professionnel "
        "bureau change use holiday rental"
    ),
    "leisure-centre-holidays": (
        "centre loisirs vacances enfant enfants colonie paris anim activites stage "
        "holiday holidays camp kids children"
    ),
    "conservatory-beginner": (
        "conservatoire musique danse theatre solfege instrument piano violon cours "
        "music dance lessons conservatory"
    ),
    "municipal-financial-aid": (
        "aide aides sociale financiere argent secours difficulte difficultes loyer facture "
        "factures ccas casvp financial aid help money"
    ),
    "social-housing-application": (
        "logement logements social sociaux hlm appartement demande housing flat council"
    ),
    "free-lawyer-consultation": (
        "avocat avocats gratuit gratuite conseil juridique droit justice litige "
        "lawyer free legal advice"
    ),
    "apa": (
        "apa allocation autonomie personne agee agees senior seniors dependance grand parent "
        "parents retraite elderly ageing"
    ),
    "association-grant": "subvention subventions association associations asso grant",
    "library-card": (
        "bibliotheque bibliotheques livre livres emprunter pret carte lecteur mediatheque "
        "library book books borrow"
    ),
    "sports-booking": (
        "tennis reserver terrain terrains sport sports gymnase creneau foot basket "
        "court booking book"
    ),
}

_FRENCH_STOPWORDS = """a au aux avec besoin ce ces cet cette comment d de demarche demarches des
du dois doit elle en est et faire faut il j je l la le les leur ma me mes moi mon n ne obtenir ou
par pas pour puis quand que quel quelle qui s sa se ses son sur t ta te tes ton un une veux
voudrais y"""
_ENGLISH_STOPWORDS = """an and are at can do for get how i in is it me my need of on or the to
want what where with"""
STOPWORDS = frozenset(_FRENCH_STOPWORDS.split() + _ENGLISH_STOPWORDS.split())
"""Little words left out of a query (normalised): « comment refaire mon passeport »."""


@dataclass(frozen=True, slots=True)
class Topic:
    """Something people ask for that Paris Live does not cover yet, and where it is covered."""

    topic_id: str
    name: LocalizedText
    words: str
    url: str


NOT_COVERED: tuple[Topic, ...] = (
    Topic(
        topic_id="creche",
        name=LocalizedText(fr="Crèches et modes de garde", en="Nurseries and childcare"),
        words=normalize_text(
            "creche creches bebe bebes nourrice garderie nursery nurseries daycare "
            "childcare childminder"
        ),
        url="https://www.paris.fr/pages/choisir-un-mode-d-accueil-20276",
    ),
)


@dataclass(frozen=True, slots=True)
class Hit:
    """A démarche a query found, with how many of its words it matched (exactly or not)."""

    parcours: Parcours
    matched: int
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """What a search answers: the démarches (best first), and topics not covered yet."""

    words: tuple[str, ...]
    """The words searched (normalised, little words left out)."""
    hits: tuple[Hit, ...]
    not_covered: tuple[Topic, ...]


def query_words(q: str | None) -> tuple[str, ...]:
    """The words of ``q`` that are searched: normalised, cut to :data:`MAX_QUERY` characters,
    little words left out (unless there are only little words)."""
    words = normalize_text((q or "")[:MAX_QUERY]).split()
    content = [w for w in words if w not in STOPWORDS]
    return tuple(dict.fromkeys(content))


def parcours_text(parcours: Parcours, catalogue: Catalogue) -> str:
    """Everything a search for this parcours may match, normalised."""
    procedures = {step.service.procedure_id for step in parcours.steps if step.service.procedure_id}
    names = []
    for facility_id in parcours.facility_ids[:1]:
        for procedure in catalogue.get(facility_id).procedures:
            if procedure.procedure_id in procedures:
                names += [procedure.name.fr, procedure.name.en or ""]
    parts = [
        parcours.parcours_id,
        parcours.title.fr,
        parcours.title.en or "",
        parcours.summary.fr,
        parcours.summary.en or "",
        *(f"{s.title.fr} {s.title.en or ''}" for s in parcours.steps),
        *names,
        *(PROCEDURE_SYNONYMS.get(pid, "") for pid in sorted(procedures)),
        PARCOURS_WORDS.get(parcours.parcours_id, ""),
    ]
    return normalize_text(" ".join(parts))


class ProcedureIndex:
    """The démarches and their texts, built once from the parcours and the catalogue."""

    def __init__(self, parcours: Iterable[Parcours], catalogue: Catalogue) -> None:
        self.parcours = tuple(parcours)
        self._texts = {p.parcours_id: parcours_text(p, catalogue) for p in self.parcours}
        self._titles = {
            p.parcours_id: normalize_text(f"{p.title.fr} {p.title.en or ''}") for p in self.parcours
        }
        self._words = {pid: frozenset(text.split()) for pid, text in self._texts.items()}
        self._vocabulary = sorted(set().union(*self._words.values()))
        self._topic_words = {t.topic_id: t.words for t in NOT_COVERED}

    def text(self, parcours_id: str) -> str:
        return self._texts[parcours_id]

    def _correct(self, word: str) -> str | None:
        """The vocabulary word closest to ``word`` when it is close enough (a typo)."""
        if len(word) < _FUZZY_MIN_LENGTH:
            return None
        best = process.extractOne(
            word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE
        )
        return None if best is None else str(best[0])

    def search(self, q: str | None) -> Answer:
        """The démarches ``q`` names, best first; empty for a query of little words only, and
        when ``q`` names a topic not covered yet (that topic is the answer)."""
        words = query_words(q)
        topics = tuple(t for t in NOT_COVERED if any(found_by(t.words, w) for w in words))
        if not words or topics:
            return Answer(words, (), topics)
        # A word that begins no word of any démarche may be a typo: take the closest one.
        searched: list[tuple[str, float]] = []
        for word in words:
            if any(found_by(text, word) for text in self._texts.values()):
                searched.append((word, 1.0))
                continue
            corrected = self._correct(word)
            if corrected is not None:
                searched.append((corrected, 0.8))
        hits = []
        for parcours in self.parcours:
            text, title = self._texts[parcours.parcours_id], self._titles[parcours.parcours_id]
            found = [weight for word, weight in searched if found_by(text, word)]
            in_title = [_TITLE_BONUS for word, _ in searched if found_by(title, word)]
            if found:
                hits.append(Hit(parcours, len(found), sum(found) + sum(in_title)))
        complete = [h for h in hits if h.matched == len(searched)]
        ranked = sorted(complete or hits, key=lambda h: (-h.score, h.parcours.title.fr))
        if not complete and ranked:
            ranked = [h for h in ranked if h.score == ranked[0].score]
        return Answer(words, tuple(ranked), topics)
