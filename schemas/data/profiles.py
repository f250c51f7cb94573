"""Per-type profiles: what a pool, a town hall, a library... offers, and when it opens.

Each builder turns a :class:`~schemas.data.sites.Site` (real facts) into a facility document.
The profiles are typical of each kind of facility; every figure among them that is not
official is listed in the facility's ``illustrative`` field.
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.data import sites
from schemas.data.shapes import (
    CITY_PHONE,
    COMPLAINT,
    PARIS_URL,
    SUMMER,
    Json,
    contact,
    eves,
    facility,
    procedure,
    season,
    service,
    text,
    week,
)
from schemas.data.sites import Site

# ── Pools ─────────────────────────────────────────────────────────────────────────────────────

POOL_CAPACITY = {"25": 250, "33": 350, "50": 700}


def pool(site: Site, index: int) -> Json:
    basin, *traits = site.variant.split(",")
    late = "late" in traits
    if late:
        weekly = week(
            ("07:00-08:30", "11:30-22:00"),
            tue=("07:00-08:30", "11:30-13:30", "16:30-23:00"),
            sat=("07:00-19:00",),
            sun=("08:00-19:00",),
        )
    else:
        school_day = ("07:00-08:30", "11:30-13:30", "16:30-20:00")
        # Every fourth pool keeps Monday morning for maintenance.
        monday = school_day[1:] if index % 4 == 1 else school_day
        weekly = week(
            school_day,
            mon=monday,
            wed=("07:00-08:30", "11:30-18:00"),
            sat=("07:00-18:00",),
            sun=("08:00-18:00",),
        )
    long_summer = late or "outdoor" in traits
    summer = (
        week(("09:00-21:00",), sun=("09:00-20:00",))
        if long_summer
        else week(("10:00-19:00",), sun=("09:00-19:00",))
    )
    areas = [f"Bassin {basin} m"]
    if basin == "50":
        areas.append("Bassin d'apprentissage")
    if "outdoor" in traits:
        areas += ["Bassin extérieur (été)", "Solarium"]
    heritage = "heritage" in traits
    return facility(
        site,
        "pool",
        capacity=POOL_CAPACITY[basin],
        hours={
            "weekly": weekly,
            "seasons": [season("summer", SUMMER, "07-01", "08-31", summer)],
            "special": eves("09:00-17:00"),
            "public_holidays": "sunday",
        },
        accessibility=(
            ["large_print"]
            if heritage
            else [
                "wheelchair_accessible",
                "step_free_entrance",
                "accessible_toilets",
                "accessible_changing_room",
                "pool_lift",
            ]
        ),
        services=[
            service("swimming", text("Baignade publique", "Public swimming"), queue=True),
            service(
                "swimming-lessons", text("Cours de natation", "Swimming lessons"), bookable=True
            ),
            service("aquafitness", text("Aquagym et aquabike", "Aqua fitness"), bookable=True),
        ],
        areas=areas,
        contacts=[
            contact(
                "information",
                text("Accueil de la piscine", "Pool reception"),
                "local",
                phone=site.phone or CITY_PHONE,
            ),
            contact(
                "booking",
                text(
                    "Réservation des activités sportives municipales",
                    "Booking of municipal sports activities",
                ),
                "central",
                phone=CITY_PHONE,
                url=PARIS_URL,
            ),
            contact(
                "billing",
                text("Régie des équipements sportifs", "Sports facilities billing"),
                "central",
                phone=CITY_PHONE,
            ),
            COMPLAINT,
        ],
        url=PARIS_URL,
        illustrative=["accessibility", "capacity", "hours"],
    )


# ── Town halls ────────────────────────────────────────────────────────────────────────────────


def town_hall(site: Site, index: int) -> Json:
    del index
    url = (
        "https://mairiepariscentre.paris.fr"
        if site.variant == "pariscentre"
        else f"https://mairie{site.variant}.paris.fr"
    )
    weekday = ("08:30-17:00",)
    saturday = ("09:00-12:30",)
    return facility(
        site,
        "town_hall",
        capacity=None,
        hours={
            "weekly": week(weekday, thu=("08:30-19:30",), sat=saturday, sun=()),
            "seasons": [
                season(
                    "summer",
                    text(
                        "Horaires d'été (pas de nocturne le jeudi)",
                        "Summer hours (no late Thursday)",
                    ),
                    "07-01",
                    "08-31",
                    week(weekday, sat=saturday, sun=()),
                )
            ],
            "special": eves("08:30-16:00"),
            "public_holidays": "closed",
        },
        accessibility=[
            "wheelchair_accessible",
            "step_free_entrance",
            "accessible_toilets",
            "elevator",
            "hearing_loop",
        ],
        services=[
            service(
                "reception",
                text("Accueil et orientation", "Reception and guidance"),
                queue=True,
                procedures=["first-residential-parking"],
            ),
            service(
                "identity-documents",
                text("Cartes d'identité et passeports", "Identity cards and passports"),
                bookable=True,
                procedures=["identity-card", "passport"],
            ),
            service(
                "civil-status",
                text("État civil", "Civil status"),
                bookable=True,
                queue=True,
                procedures=["civil-status-certificate", "marriage-file"],
            ),
            service(
                "elections",
                text("Élections", "Elections"),
                queue=True,
                procedures=["electoral-registration"],
            ),
            service(
                "housing",
                text("Logement social", "Social housing"),
                bookable=True,
                procedures=["social-housing-application"],
            ),
        ],
        areas=["Salle des mariages", "Guichets de l'état civil", "Point d'accueil"],
        contacts=[
            contact(
                "information", text("Accueil de la mairie", "Town hall reception"), "local", url=url
            ),
            contact(
                "booking",
                text(
                    "Prise de rendez-vous en ligne de la Ville de Paris",
                    "Ville de Paris online appointments",
                ),
                "central",
                phone=CITY_PHONE,
                url=PARIS_URL,
            ),
            contact(
                "case_follow_up",
                text("Service de l'état civil de la mairie", "Town hall civil status office"),
                "local",
                url=url,
            ),
            contact(
                "case_follow_up",
                text(
                    "Agence nationale des titres sécurisés (ANTS)",
                    "National agency for secure documents (ANTS)",
                ),
                "central",
                url="https://ants.gouv.fr",
            ),
            COMPLAINT,
        ],
        procedures=[
            procedure(
                "identity-card",
                text("Carte nationale d'identité", "National identity card"),
                illustrative=False,
            ),
            procedure("passport", text("Passeport", "Passport"), illustrative=False),
            procedure(
                "civil-status-certificate",
                text("Acte d'état civil (copie ou extrait)", "Civil status certificate"),
                10,
                illustrative=True,
            ),
            procedure(
                "marriage-file", text("Dossier de mariage", "Marriage file"), illustrative=False
            ),
            procedure(
                "electoral-registration",
                text("Inscription sur les listes électorales", "Electoral registration"),
                illustrative=False,
            ),
            procedure(
                "social-housing-application",
                text("Demande de logement social", "Social housing application"),
                30,
                illustrative=False,
            ),
            procedure(
                "first-residential-parking",
                text(
                    "Première demande de stationnement résidentiel",
                    "First residential parking permit",
                ),
                5,
                illustrative=True,
            ),
        ],
        url=url,
        illustrative=[
            "accessibility",
            "hours.sat",
            "hours.seasons",
            "hours.special",
            "procedures.civil-status-certificate",
            "procedures.first-residential-parking",
        ],
    )


# ── Libraries ─────────────────────────────────────────────────────────────────────────────────

LIBRARY_PROFILES: dict[str, Json] = {
    "large": {
        "capacity": 250,
        "weekly": week(("10:00-19:00",), wed=("10:00-20:00",), mon=(), sun=("13:00-18:00",)),
        "summer": week(("13:00-19:00",), mon=(), sun=()),
        "eve": ("10:00-17:00",),
        "areas": [
            "Espace adultes",
            "Espace jeunesse",
            "Espace musique et cinéma",
            "Salle de travail",
            "Auditorium",
        ],
        "accessibility": [
            "wheelchair_accessible",
            "step_free_entrance",
            "accessible_toilets",
            "elevator",
            "hearing_loop",
            "large_print",
            "braille",
        ],
    },
    "standard": {
        "capacity": 100,
        "weekly": week(
            ("13:00-19:00",), wed=("10:00-19:00",), sat=("10:00-18:00",), mon=(), sun=()
        ),
        "summer": week(("14:00-18:00",), wed=("10:00-18:00",), mon=(), sun=()),
        "eve": ("13:00-17:00",),
        "areas": ["Espace adultes", "Espace jeunesse", "Salle de travail"],
        "accessibility": [
            "wheelchair_accessible",
            "step_free_entrance",
            "accessible_toilets",
            "large_print",
        ],
    },
    "small": {
        "capacity": 40,
        "weekly": week(
            ("13:00-19:00",),
            wed=("10:00-18:00",),
            thu=("15:00-19:00",),
            sat=("10:00-18:00",),
            mon=(),
            sun=(),
        ),
        "summer": week(("14:00-18:00",), mon=(), thu=(), sun=()),
        "eve": ("15:00-17:00",),
        "areas": ["Espace adultes", "Espace jeunesse"],
        "accessibility": ["large_print"],
    },
    "heritage": {
        "capacity": 60,
        "weekly": week(("13:00-19:00",), sat=("10:00-18:00",), mon=(), sun=()),
        "summer": week(("13:00-18:00",), mon=(), sat=(), sun=()),
        "eve": ("13:00-17:00",),
        "areas": ["Salle de lecture", "Réserve patrimoniale"],
        "accessibility": ["elevator", "accessible_toilets"],
    },
}


def library(site: Site, index: int) -> Json:
    del index
    profile = LIBRARY_PROFILES[site.variant]
    heritage = site.variant == "heritage"
    services = (
        [
            service(
                "reading-room",
                text(
                    "Salle de lecture (consultation sur place)",
                    "Reading room (on-site consultation)",
                ),
                bookable=True,
                procedures=["library-card"],
            ),
            service("reproduction", text("Reproduction de documents", "Document copies")),
        ]
        if heritage
        else [
            service(
                "lending",
                text("Prêt et retour", "Borrowing and returns"),
                queue=True,
                procedures=["library-card"],
            ),
            service("reading-room", text("Salle de travail", "Study room")),
            service(
                "computers",
                text("Postes informatiques et Wi-Fi", "Computers and Wi-Fi"),
                bookable=True,
            ),
            service("holds", text("Réservation de documents", "Holds on documents")),
        ]
    )
    return facility(
        site,
        "library",
        capacity=profile["capacity"],
        hours={
            "weekly": profile["weekly"],
            "seasons": [season("summer", SUMMER, "07-15", "08-31", profile["summer"])],
            "special": eves(*profile["eve"]),
            "public_holidays": "closed",
        },
        accessibility=profile["accessibility"],
        services=services,
        areas=profile["areas"],
        contacts=[
            contact(
                "information",
                text("Accueil de la bibliothèque", "Library front desk"),
                "local",
                phone=site.phone,
                email=site.email,
            ),
            contact(
                "booking",
                text(
                    "Bibliothèques de Paris – services en ligne",
                    "Paris libraries – online services",
                ),
                "central",
                url="https://bibliotheques.paris.fr",
            ),
            COMPLAINT,
        ],
        procedures=[
            procedure(
                "library-card",
                text("Inscription et carte de bibliothèque", "Library card"),
                0,
                illustrative=False,
            ),
        ],
        url="https://bibliotheques.paris.fr",
        illustrative=["accessibility", "capacity", "hours"],
    )


# ── Conservatories ────────────────────────────────────────────────────────────────────────────

CONSERVATORIES_URL = "https://conservatoires.paris.fr"


def conservatory(site: Site, index: int) -> Json:
    del index
    return facility(
        site,
        "conservatory",
        capacity=None,
        hours={
            "weekly": week(("09:00-21:00",), sat=("09:00-18:00",), sun=()),
            "seasons": [
                season(
                    "summer-closure",
                    text("Fermeture estivale", "Summer closure"),
                    "07-14",
                    "08-24",
                    week(()),
                ),
            ],
            "special": [],
            "public_holidays": "closed",
        },
        accessibility=["wheelchair_accessible", "accessible_toilets", "elevator"],
        services=[
            service(
                "admissions",
                text("Inscriptions et admissions", "Enrolment and admissions"),
                procedures=["conservatory-enrollment"],
            ),
            service("secretariat", text("Scolarité et secrétariat", "Student office"), queue=True),
        ],
        areas=["Auditorium", "Salles de cours", "Studio de danse"],
        contacts=[
            contact(
                "information",
                text("Accueil du conservatoire", "Conservatory reception"),
                "local",
                url=CONSERVATORIES_URL,
            ),
            contact(
                "case_follow_up",
                text(
                    "Bureau des conservatoires – inscriptions", "Conservatories office – enrolment"
                ),
                "central",
                url=CONSERVATORIES_URL,
            ),
            contact(
                "billing",
                text("Facturation des conservatoires", "Conservatory fees"),
                "central",
                phone=CITY_PHONE,
            ),
            COMPLAINT,
        ],
        procedures=[
            procedure(
                "conservatory-enrollment",
                text("Inscription d'un débutant (tirage au sort)", "Beginner enrolment (lottery)"),
                illustrative=False,
            ),
        ],
        url=CONSERVATORIES_URL,
        illustrative=["accessibility", "hours"],
    )


# ── Sports centres ────────────────────────────────────────────────────────────────────────────


def sports_centre(site: Site, index: int) -> Json:
    del index
    stadium = site.variant == "stadium"
    return facility(
        site,
        "sports_centre",
        capacity=800 if stadium else 300,
        hours={
            "weekly": week(
                ("08:00-22:30",),
                sat=("08:00-19:00",),
                sun=("08:00-18:00",) if stadium else ("08:00-19:00",),
            ),
            "seasons": [],
            "special": eves("08:00-17:00"),
            "public_holidays": "sunday",
        },
        accessibility=["wheelchair_accessible", "step_free_entrance", "accessible_toilets"],
        services=[
            service("free-access", text("Accès libre", "Open access"), queue=True),
            service(
                "court-booking",
                text("Réservation de courts et de terrains", "Court and pitch booking"),
                bookable=True,
            ),
        ],
        areas=(
            ["Terrain de grands jeux", "Piste d'athlétisme", "Gymnase", "Courts de tennis"]
            if stadium
            else ["Gymnase", "Salle de musculation", "Salle polyvalente"]
        ),
        contacts=[
            contact(
                "information",
                text("Accueil du centre sportif", "Sports centre reception"),
                "local",
                phone=CITY_PHONE,
                url=PARIS_URL,
            ),
            contact(
                "booking",
                text(
                    "Paris Tennis et réservation des équipements sportifs",
                    "Paris Tennis and sports facility booking",
                ),
                "central",
                url="https://tennis.paris.fr",
            ),
            COMPLAINT,
        ],
        url=PARIS_URL,
        illustrative=["accessibility", "capacity", "hours"],
    )


# ── Leisure centres (centres Paris Anim') ─────────────────────────────────────────────────────


def leisure_centre(site: Site, index: int) -> Json:
    del index
    local = text("Accueil du centre Paris Anim'", "Paris Anim' centre reception")
    return facility(
        site,
        "leisure_centre",
        capacity=120,
        hours={
            "weekly": week(("10:00-22:00",), sat=("10:00-18:00",), sun=()),
            "seasons": [
                season(
                    "summer",
                    text("Accueil d'été", "Summer programme"),
                    "07-06",
                    "08-31",
                    week(("09:00-18:00",), sat=(), sun=()),
                ),
            ],
            "special": [],
            "public_holidays": "closed",
        },
        accessibility=["wheelchair_accessible", "accessible_toilets"],
        services=[
            service(
                "workshops",
                text("Ateliers et cours à l'année", "Year-round workshops and classes"),
                bookable=True,
                procedures=["activity-enrollment"],
            ),
            service(
                "holiday-programme",
                text("Accueil de loisirs des vacances", "School-holiday programme"),
                bookable=True,
                procedures=["holiday-enrollment"],
            ),
            service("reception", text("Accueil", "Reception"), queue=True),
        ],
        areas=["Salles d'activités", "Salle de spectacle", "Espace jeunes"],
        contacts=[
            contact("information", local, "local", phone=CITY_PHONE, url=PARIS_URL),
            contact("booking", local, "local", phone=CITY_PHONE, url=PARIS_URL),
            contact("billing", local, "local", phone=CITY_PHONE, url=PARIS_URL),
            COMPLAINT,
        ],
        procedures=[
            procedure(
                "activity-enrollment",
                text("Inscription à un atelier", "Workshop enrolment"),
                illustrative=False,
            ),
            procedure(
                "holiday-enrollment",
                text("Inscription aux vacances", "Holiday programme enrolment"),
                15,
                illustrative=True,
            ),
        ],
        url=PARIS_URL,
        illustrative=["accessibility", "capacity", "hours", "procedures.holiday-enrollment"],
    )


# ── Social services (Espaces parisiens des solidarités) ───────────────────────────────────────


def social_services(site: Site, index: int) -> Json:
    del index
    local = text("Accueil de l'Espace parisien des solidarités", "Solidarity centre reception")
    return facility(
        site,
        "social_services",
        capacity=40,
        hours={
            "weekly": week(("08:30-17:00",), sat=(), sun=()),
            "seasons": [],
            "special": eves("08:30-16:00"),
            "public_holidays": "closed",
        },
        accessibility=["wheelchair_accessible", "step_free_entrance", "accessible_toilets"],
        services=[
            service(
                "social-reception", text("Accueil social", "Social services reception"), queue=True
            ),
            service(
                "social-worker",
                text("Rendez-vous avec un travailleur social", "Appointment with a social worker"),
                bookable=True,
                procedures=["municipal-financial-aid", "apa-application", "domiciliation"],
            ),
        ],
        areas=["Salle d'attente", "Bureaux d'entretien"],
        contacts=[
            contact("information", local, "local", phone=CITY_PHONE, url=PARIS_URL),
            contact("booking", local, "local", phone=CITY_PHONE, url=PARIS_URL),
            contact(
                "case_follow_up",
                text("Travailleur social référent", "Referent social worker"),
                "local",
                phone=CITY_PHONE,
            ),
            contact(
                "case_follow_up",
                text("Maison des aînés et des aidants (M2A)", "Seniors and carers centre (M2A)"),
                "central",
                phone=CITY_PHONE,
                url=PARIS_URL,
            ),
            COMPLAINT,
        ],
        procedures=[
            procedure(
                "municipal-financial-aid",
                text("Aide financière municipale", "Municipal financial aid"),
                30,
                illustrative=True,
            ),
            procedure(
                "apa-application",
                text(
                    "Allocation personnalisée d'autonomie (APA)",
                    "Personal autonomy allowance (APA)",
                ),
                60,
                illustrative=False,
            ),
            procedure(
                "domiciliation",
                text("Domiciliation administrative", "Postal address for people without a home"),
                illustrative=False,
            ),
        ],
        url=PARIS_URL,
        illustrative=[
            "accessibility",
            "capacity",
            "hours",
            "procedures.municipal-financial-aid",
        ],
    )


# ── Legal advice (PAD, MJD) ───────────────────────────────────────────────────────────────────


def legal_advice(site: Site, index: int) -> Json:
    del index
    if site.variant == "tribunal":
        weekly = week(("09:00-12:30", "13:30-17:00"), sat=(), sun=())
    elif site.variant == "mjd":
        weekly = week(("09:30-12:30", "13:30-17:30"), sat=(), sun=())
    else:
        weekly = week(("09:30-12:30", "14:00-17:30"), wed=("09:30-12:30",), sat=(), sun=())
    local = text("Accueil du point d'accès au droit", "Access-to-law desk")
    return facility(
        site,
        "legal_advice",
        capacity=25,
        hours={"weekly": weekly, "seasons": [], "special": [], "public_holidays": "closed"},
        accessibility=["wheelchair_accessible", "accessible_toilets"],
        services=[
            service(
                "legal-information",
                text("Accueil et information juridique", "Legal information desk"),
                queue=True,
            ),
            service(
                "lawyer-consultation",
                text("Consultation gratuite avec un avocat", "Free consultation with a lawyer"),
                bookable=True,
            ),
            service(
                "mediation",
                text("Conciliation et médiation", "Conciliation and mediation"),
                bookable=True,
            ),
        ],
        areas=["Accueil", "Bureaux de consultation"],
        contacts=[
            contact("information", local, "local", phone=site.phone or CITY_PHONE, url=PARIS_URL),
            contact("booking", local, "local", phone=site.phone or CITY_PHONE, url=PARIS_URL),
            COMPLAINT,
        ],
        url=PARIS_URL,
        illustrative=(
            ["accessibility", "capacity"]
            if site.variant == "tribunal"
            else ["accessibility", "capacity", "hours"]
        ),
    )


BUILDERS: dict[str, tuple[tuple[Site, ...], Callable[[Site, int], Json]]] = {
    "pool": (sites.POOLS, pool),
    "town_hall": (sites.TOWN_HALLS, town_hall),
    "library": (sites.LIBRARIES, library),
    "conservatory": (sites.CONSERVATORIES, conservatory),
    "sports_centre": (sites.SPORTS_CENTRES, sports_centre),
    "leisure_centre": (sites.LEISURE_CENTRES, leisure_centre),
    "social_services": (sites.SOCIAL_SERVICES, social_services),
    "legal_advice": (sites.LEGAL_ADVICE, legal_advice),
}
