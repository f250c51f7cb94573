"""The démarches search understands citizens: everyday words, no accents or capitals, typos."""

from __future__ import annotations

import pytest

from api.search import MAX_QUERY, ProcedureIndex, query_words
from schemas.catalogue import load_catalogue
from schemas.parcours import load_parcours

EVERYDAY_PHRASINGS: dict[str, tuple[str, ...]] = {
    # The fourteen journeys of the charter, each with the words people type for it.
    "identity-document": ("passeport", "carte d'identité", "CNI", "refaire mes papiers"),
    "bulky-items": ("encombrants", "meubles", "objets volumineux", "jeter un vieux canapé"),
    "parking-fine-appeal": ("amende", "PV", "FPS", "contester une amende de stationnement"),
    "residential-parking": ("vignette résident", "stationnement résidentiel", "carte grise"),
    "pool-visit": ("piscine", "nager", "natation", "swimming pool"),
    "getting-married": ("mariage", "se marier", "wedding"),
    "change-of-use": ("changement d'usage", "airbnb", "meublé touristique"),
    "leisure-centre-holidays": ("centre de loisirs", "vacances enfants", "colonie"),
    "conservatory-beginner": ("conservatoire", "cours de piano", "école de musique"),
    "municipal-financial-aid": ("aide financière", "difficultés pour payer le loyer", "secours"),
    "social-housing-application": ("logement social", "HLM", "demande de logement"),
    "free-lawyer-consultation": ("avocat gratuit", "conseil juridique", "free lawyer"),
    "apa": ("APA", "personne âgée dépendante", "allocation autonomie"),
    "association-grant": ("subvention association", "asso", "grant"),
}


@pytest.fixture(scope="module")
def index() -> ProcedureIndex:
    return ProcedureIndex(load_parcours(), load_catalogue())


def _first(index: ProcedureIndex, q: str) -> str | None:
    hits = index.search(q).hits
    return hits[0].parcours.parcours_id if hits else None


def test_every_charter_journey_has_three_everyday_phrasings() -> None:
    """The list below covers the fourteen journeys of the charter, three phrasings or more each."""
    charter = {p.parcours_id for p in load_parcours()} - {"library-card", "sports-booking"}
    assert set(EVERYDAY_PHRASINGS) == charter
    assert all(len(set(phrasings)) >= 3 for phrasings in EVERYDAY_PHRASINGS.values())


@pytest.mark.parametrize(
    ("parcours_id", "q"),
    [(pid, q) for pid, phrasings in EVERYDAY_PHRASINGS.items() for q in phrasings],
)
def test_each_journey_is_found_first_by_everyday_words(
    index: ProcedureIndex, parcours_id: str, q: str
) -> None:
    """Each everyday phrasing finds its journey first."""
    assert _first(index, q) == parcours_id


@pytest.mark.parametrize("q", ["PASSEPORT", "passéport", "Carte d’IDENTITÉ", "  cni  "])
def test_case_accents_and_apostrophes_do_not_matter(index: ProcedureIndex, q: str) -> None:
    """Capitals, accents, typographic apostrophes and spaces change nothing."""
    assert _first(index, q) == "identity-document"


@pytest.mark.parametrize(
    ("q", "parcours_id"),
    [
        ("pasport", "identity-document"),
        ("passepor", "identity-document"),
        ("encombrans", "bulky-items"),
        ("picsine", "pool-visit"),
        ("conservatoir", "conservatory-beginner"),
        ("subvension", "association-grant"),
    ],
)
def test_typos_are_tolerated(index: ProcedureIndex, q: str, parcours_id: str) -> None:
    """A misspelt word still finds the journey (closest word of the vocabulary)."""
    assert _first(index, q) == parcours_id


def test_crèche_is_not_covered_yet_and_says_where_it_is(index: ProcedureIndex) -> None:
    """« crèche » finds no journey but a clear "not covered yet" with the paris.fr page."""
    answer = index.search("inscrire mon bébé en crèche")
    assert answer.hits == ()
    [topic] = answer.not_covered
    assert topic.topic_id == "creche" and topic.url.startswith("https://www.paris.fr/pages/")


def test_stationnement_names_both_parking_journeys(index: ProcedureIndex) -> None:
    """A word two journeys share finds both; another word decides between them."""
    both = {h.parcours.parcours_id for h in index.search("stationnement").hits}
    assert both == {"residential-parking", "parking-fine-appeal"}
    assert [h.parcours.parcours_id for h in index.search("amende stationnement").hits] == [
        "parking-fine-appeal"
    ]


@pytest.mark.parametrize("q", ["", "   ", "le la les", "x" * 10_000, "zzzzqqqq", "%00'\";--"])
def test_odd_queries_find_nothing_without_failing(index: ProcedureIndex, q: str) -> None:
    """Empty, little-word-only, huge or nonsense queries answer nothing, quietly."""
    assert index.search(q).hits == ()


def test_a_long_query_is_cut_not_refused() -> None:
    """Only the first MAX_QUERY characters are searched."""
    assert query_words("passeport " + "a" * 10_000) == ("passeport", "a" * (MAX_QUERY - 10))
