// <paris-facility-card facility="piscine-pontoise" lang="en"> — the live public card of a facility.
//
// One script tag embeds it in any page:
//   <script type="module" src="https://<api>/embed/card.js"></script>
//   <paris-facility-card facility="piscine-pontoise"></paris-facility-card>
// The card reads its facility from REST (/v1/facilities/{id}: status + catalogue), then follows it
// on the WebSocket /v1/live (one socket per page, shared by every card). Styles live in a shadow
// root; whatever the element contains (the server-rendered fallback) is shown until it upgrades.
// This module also exports the live client and the formatters the Paris Live pages reuse.
import { equipmentBlock, notNowFeatures } from "./equipment.js";

const PARIS = "Europe/Paris";

// ── Words ─────────────────────────────────────────────────────────────────────────────────────
export const TEXT = {
  fr: {
    states: {
      open: "Ouvert", closing_soon: "Ferme bientôt", closed: "Fermé",
      exceptionally_closed: "Fermé exceptionnellement", partially_closed: "Partiellement fermé",
      unknown: "État inconnu",
    },
    levels: { low: "Peu de monde", moderate: "Affluence modérée", high: "Forte affluence", full: "Complet" },
    trends: { rising: "en hausse", steady: "stable", falling: "en baisse" },
    reasons: {
      staff_shortage: "Manque de personnel", technical_failure: "Panne technique",
      water_quality: "Qualité de l'eau", weather: "Météo", security: "Sécurité", works: "Travaux",
      strike: "Mouvement social", event: "Événement", other: "Autre motif",
    },
    types: {
      pool: "Piscine", town_hall: "Mairie d'arrondissement", library: "Bibliothèque",
      conservatory: "Conservatoire", sports_centre: "Centre sportif",
      leisure_centre: "Centre Paris Anim'", social_services: "Services sociaux",
      legal_advice: "Point d'accès au droit", museum: "Musée de la Ville de Paris", bath_house: "Bains-douches",
      gymnasium: "Gymnase", sports_ground: "Terrain de sport", park: "Parc, square ou jardin", cemetery: "Cimetière",
      community_centre: "Maison de la vie associative et citoyenne",
    },
    notNow: "pas maintenant",
    features: {
      wheelchair_accessible: "Accessible en fauteuil roulant", step_free_entrance: "Entrée de plain-pied",
      accessible_toilets: "Toilettes adaptées", accessible_parking: "Stationnement adapté",
      elevator: "Ascenseur", hearing_loop: "Boucle magnétique", sign_language: "Accueil en langue des signes",
      braille: "Signalétique en braille", large_print: "Documents en gros caractères",
      accessible_changing_room: "Vestiaire adapté", pool_lift: "Mise à l'eau adaptée", easy_read: "Facile à lire et à comprendre",
      accessible_showers: "Douches adaptées", sensory_signage: "Signalétique adaptée aux handicaps sensoriels",
    },
    arr: (n) => (n === 1 ? "1er arrondissement" : `${n}e arrondissement`),
    today: "Aujourd'hui", closedToday: "Fermé aujourd'hui", opensAt: (t) => `Ouvre à ${t}`,
    closesAt: (t) => `Ferme à ${t}`, reopensAt: (t) => `Réouverture prévue ${t}`,
    reopenUnknown: "Date de réouverture inconnue", overdue: "L'heure de réouverture prévue est dépassée",
    crowd: "Affluence", people: (n, c) => `${n} ${n > 1 ? "personnes" : "personne"}${c ? ` / ${c}` : ""}`,
    estimate: "estimation", measured: "comptage", queue: "Attente", wait: (m) => `${m} min d'attente`,
    inLine: (n) => `${n} ${n > 1 ? "personnes" : "personne"} dans la file`,
    appointment: "Prochain rendez-vous", noSlot: "aucun créneau publié",
    inDays: (d) => (d < 1 ? "aujourd'hui" : d === 1 ? "demain" : `dans ${d} j`),
    processing: "Délais de traitement", median: (d) => `médiane : ${fmtDays(d, "fr")}`,
    p90: (d) => `90e centile : ${fmtDays(d, "fr")}`,
    committed: (d, indicative) => (d === 0 ? "engagement : délivré sur place" : `engagement${indicative ? " (indicatif)" : ""} : ${fmtDays(d, "fr")}`),
    processingHelp: "Médiane : la moitié des dossiers sont traités plus vite, l'autre moitié plus lentement. 90e centile : 9 dossiers sur 10 sont traités dans ce délai.",
    noFigure: "pas encore de délai mesuré",
    colon: " : ",
    closedCrowd: "Fermé : pas d'affluence ni d'attente en ce moment.",
    nearby: {
      pool: "Piscines ouvertes les plus proches", town_hall: "Mairies d'arrondissement ouvertes les plus proches",
      library: "Bibliothèques ouvertes les plus proches", conservatory: "Conservatoires ouverts les plus proches",
      sports_centre: "Centres sportifs ouverts les plus proches", leisure_centre: "Centres Paris Anim' ouverts les plus proches",
      social_services: "Services sociaux ouverts les plus proches", legal_advice: "Points d'accès au droit ouverts les plus proches",
      museum: "Musées ouverts les plus proches", bath_house: "Bains-douches ouverts les plus proches",
      gymnasium: "Gymnases ouverts les plus proches", sports_ground: "Terrains de sport ouverts les plus proches",
      park: "Parcs et jardins ouverts les plus proches", cemetery: "Cimetières ouverts les plus proches",
      community_centre: "Maisons de la vie associative ouvertes les plus proches",
    },
    nearbyOther: "Équipements du même type ouverts les plus proches",
    nearbyNone: "Aucun autre équipement de ce type n'est ouvert en ce moment.",
    away: (m) => (m < 1000 ? `à ${Math.round(m / 10) * 10} m` : `à ${(Math.round(m / 100) / 10).toString().replace(".", ",")} km`),
    feedback: "Donner mon avis", complaint: "Faire une réclamation",
    closures: "Fermetures en cours",
    whole: "Tout l'équipement", declared: (t) => `déclaré par l'équipe à ${t}`,
    from: (t) => `à partir de ${t}`, access: "Accessibilité", contact: "Contact",
    accessUnconfirmed: "Accessibilité habituelle d'un équipement de ce type, non confirmée pour celui-ci :",
    updated: (r) => `mis à jour ${r}`, stale: (r) => `Données anciennes : dernière information ${r}.`,
    staleNoData: "Aucune donnée en direct pour le moment.",
    lost: "Connexion perdue — nouvelle tentative…", loading: "Chargement…",
    unknownFacility: "Équipement inconnu", unavailable: "Informations momentanément indisponibles",
    ago: (m) => (m < 1 ? "à l'instant" : m < 60 ? `il y a ${m} min` : `il y a ${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")}`),
    on: (d) => `le ${d}`, liveCard: "Fiche en direct",
    unconfirmed: "horaires non confirmés", unknownHours: "Horaires inconnus",
    source: (credit, title, date) => `Source : ${credit}, « ${title} » (mise à jour ${date})`,
    sourceBrief: (credit, date) => `Source : ${credit} (mise à jour ${date})`, periodEnded: (b) => `période terminée le ${b}`,
    noSource: "Source : aucune (valeur estimée)", oldData: "données anciennes, à vérifier",
    someDaysEstimated: "certains jours estimés", period: (a, b) => (a ? `période du ${a} au ${b}` : `jusqu'au ${b}`),
    estimated: "estimé", estimatedCapacity: "capacité estimée", ended: "terminée",
    served: (p50, p90, n) => `Servi dans environ ${p50} min, au plus ${p90} min pour 9 personnes sur 10 (${n} ${n > 1 ? "personnes" : "personne"} avant vous) —`,
    servedHow: "Temps avant d'être servi : comment est-ce calculé ?",
    servedHelp: "À partir de la file en direct : les personnes avant vous, la durée récente d'un passage au guichet et le nombre de guichets ouverts, corrigé par l'attente réelle des derniers tickets appelés. La moitié des personnes sont servies avant la première durée, 9 sur 10 avant la seconde. C'est une estimation, pas un engagement : si l'attente a été bien plus longue, dites-le nous.",
    promises: "Nos engagements",
    rules: [
      "Vous informer en temps réel sur l'accès : ouvert, fermé, affluence",
      "Vous annoncer les délais à prévoir : attente, rendez-vous, traitement",
      "Vous orienter vers le service compétent",
      "Vous accueillir avec courtoisie, et vous laisser dire quand un engagement n'a pas été tenu",
    ],
    notKept: "Un engagement n'a pas été tenu ?",
    demarches: "Démarches faites ici",
  },
  en: {
    states: {
      open: "Open", closing_soon: "Closing soon", closed: "Closed",
      exceptionally_closed: "Exceptionally closed", partially_closed: "Partly closed", unknown: "Status unknown",
    },
    levels: { low: "Quiet", moderate: "Moderately busy", high: "Very busy", full: "Full" },
    trends: { rising: "rising", steady: "steady", falling: "falling" },
    reasons: {
      staff_shortage: "Staff shortage", technical_failure: "Technical failure", water_quality: "Water quality",
      weather: "Weather", security: "Safety", works: "Works", strike: "Industrial action", event: "Event", other: "Other reason",
    },
    types: {
      pool: "Swimming pool", town_hall: "District town hall", library: "Library", conservatory: "Conservatory",
      sports_centre: "Sports centre", leisure_centre: "Leisure centre", social_services: "Social services",
      legal_advice: "Free legal advice", museum: "City of Paris museum", bath_house: "Public baths and showers",
      gymnasium: "Gymnasium", sports_ground: "Sports ground", park: "Park, square or garden", cemetery: "Cemetery",
      community_centre: "Community and associations centre",
    },
    notNow: "not now",
    features: {
      wheelchair_accessible: "Wheelchair accessible", step_free_entrance: "Step-free entrance",
      accessible_toilets: "Accessible toilets", accessible_parking: "Accessible parking", elevator: "Lift",
      hearing_loop: "Hearing loop", sign_language: "Sign language", braille: "Braille signage",
      large_print: "Large print", accessible_changing_room: "Accessible changing room", pool_lift: "Pool hoist",
      easy_read: "Easy read", accessible_showers: "Accessible showers", sensory_signage: "Signage for sensory disabilities",
    },
    arr: (n) => `${n}${n === 1 ? "st" : n === 2 ? "nd" : n === 3 ? "rd" : "th"} arrondissement`,
    today: "Today", closedToday: "Closed today", opensAt: (t) => `Opens at ${t}`,
    closesAt: (t) => `Closes at ${t}`, reopensAt: (t) => `Expected to reopen ${t}`,
    reopenUnknown: "Reopening time unknown", overdue: "The expected reopening time has passed",
    crowd: "Crowding", people: (n, c) => `${n} ${n === 1 ? "person" : "people"}${c ? ` / ${c}` : ""}`,
    estimate: "estimate", measured: "head count", queue: "Waiting time", wait: (m) => `${m} min wait`,
    inLine: (n) => `${n} ${n > 1 ? "people" : "person"} in line`,
    appointment: "Next appointment", noSlot: "no slot published",
    inDays: (d) => (d < 1 ? "today" : d === 1 ? "tomorrow" : `in ${d} days`),
    processing: "Processing times", median: (d) => `median: ${fmtDays(d, "en")}`,
    p90: (d) => `90th percentile: ${fmtDays(d, "en")}`,
    committed: (d, indicative) => (d === 0 ? "commitment: issued on the spot" : `commitment${indicative ? " (indicative)" : ""}: ${fmtDays(d, "en")}`),
    processingHelp: "Median: half the cases are handled faster, half slower. 90th percentile: 9 cases out of 10 are handled within this time.",
    noFigure: "no time measured yet",
    colon: ": ",
    closedCrowd: "Closed: no crowding or waiting right now.",
    nearby: {
      pool: "Nearest open swimming pools", town_hall: "Nearest open district town halls", library: "Nearest open libraries",
      conservatory: "Nearest open conservatories", sports_centre: "Nearest open sports centres",
      leisure_centre: "Nearest open leisure centres", social_services: "Nearest open social services",
      legal_advice: "Nearest open free legal advice centres", museum: "Nearest open museums",
      bath_house: "Nearest open public baths", gymnasium: "Nearest open gymnasiums", sports_ground: "Nearest open sports grounds",
      park: "Nearest open parks and gardens", cemetery: "Nearest open cemeteries",
      community_centre: "Nearest open community centres",
    },
    nearbyOther: "Nearest open facilities of the same type",
    nearbyNone: "No other facility of this type is open right now.",
    away: (m) => (m < 1000 ? `${Math.round(m / 10) * 10} m away` : `${Math.round(m / 100) / 10} km away`),
    feedback: "Give my opinion", complaint: "File a complaint",
    closures: "Current closures",
    whole: "Whole facility", declared: (t) => `reported by the staff at ${t}`,
    from: (t) => `from ${t}`, access: "Accessibility", contact: "Contact",
    accessUnconfirmed: "What a facility of this kind usually has, not confirmed for this one:",
    updated: (r) => `updated ${r}`, stale: (r) => `Old data: last information ${r}.`,
    staleNoData: "No live data yet.",
    lost: "Connection lost — retrying…", loading: "Loading…",
    unknownFacility: "Unknown facility", unavailable: "Information temporarily unavailable",
    ago: (m) => (m < 1 ? "just now" : m < 60 ? `${m} min ago` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} ago`),
    on: (d) => `on ${d}`, liveCard: "Live card",
    unconfirmed: "hours not confirmed", unknownHours: "Hours unknown",
    source: (credit, title, date) => `Source: ${credit}, “${title}” (updated ${date})`,
    sourceBrief: (credit, date) => `Source: ${credit} (updated ${date})`, periodEnded: (b) => `period ended ${b}`,
    noSource: "Source: none (estimated value)", oldData: "old data, to be checked",
    someDaysEstimated: "some days estimated", period: (a, b) => (a ? `period ${a} to ${b}` : `until ${b}`),
    estimated: "estimated", estimatedCapacity: "estimated capacity", ended: "ended",
    served: (p50, p90, n) => `Served in about ${p50} min, at most ${p90} min for 9 people in 10 (${n} ${n === 1 ? "person" : "people"} ahead of you) —`,
    servedHow: "Time to be served: how is it computed?",
    servedHelp: "From the live queue: the people ahead of you, how long a visit to the counter has lately taken and how many counters are open, corrected by the actual wait of the last tickets called. Half of the people are served before the first figure, 9 in 10 before the second. It is an estimate, not a commitment: if the wait was much longer, tell us.",
    promises: "Our commitments",
    rules: [
      "Real-time information on access: open, closed, how busy",
      "The delays to expect: waiting time, appointment, processing",
      "Sending you to the competent service",
      "A kind welcome, and a way to say when a commitment was not kept",
    ],
    notKept: "A commitment was not kept?",
    demarches: "Procedures done here",
  },
};

export const STATE_STYLE = {
  open: { icon: "check", tone: "ok" },
  closing_soon: { icon: "clock", tone: "warn" },
  partially_closed: { icon: "half", tone: "warn" },
  exceptionally_closed: { icon: "stop", tone: "alert" },
  closed: { icon: "moon", tone: "off" },
  unknown: { icon: "question", tone: "off" },
};

// 24×24 icon paths (stroke), drawn with currentColor: the word always goes with them.
const ICONS = {
  check: "M5 12.5l4.5 4.5L19 7.5",
  clock: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 7v5l3.5 2",
  half: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 3v18",
  stop: "M12 3l9 16H3zM12 10v4M12 17v.5",
  moon: "M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5z",
  question: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.4-1 .9-1 1.7M12 16.5v.5",
  up: "M6 15l6-6l6 6", down: "M6 9l6 6l6-6", flat: "M5 12h14",
  access: "M12 4.5v.5M8 8h8M12 8v6M9 20l3-6l3 6",
  phone: "M5 4h4l2 5l-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z",
  stale: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 7v5M12 15.5v.5",
  pin: "M12 21s-6-5.5-6-11a6 6 0 0 1 12 0c0 5.5-6 11-6 11zM12 8v.5",
  // One per accessibility feature (schemas/catalogue.py AccessibilityFeature), each with its word.
  wheelchair_accessible: "M10 4v.5M10 8v6h5l2.5 5M7 10.5a5.5 5.5 0 1 0 7.5 6.5",
  step_free_entrance: "M6 20V4h9v16M12 12v.5M3 20h18",
  accessible_toilets: "M5 4h6v7H5zM4 11h14a5 5 0 0 1-5 5H9v4h6",
  accessible_parking: "M4 4h16v16H4zM10 17V7h3.5a3 3 0 0 1 0 6H10",
  elevator: "M5 3h14v18H5zM9 10l3-3l3 3M9 14l3 3l3-3",
  hearing_loop: "M7 9a5 5 0 0 1 10 0c0 4-5 5-5 9a2.5 2.5 0 0 1-5 0M10 9a2 2 0 0 1 4 0",
  sign_language: "M8 13V6.5a1.5 1.5 0 0 1 3 0V11M11 10V4.5a1.5 1.5 0 0 1 3 0V11M14 11V6.5a1.5 1.5 0 0 1 3 0V14a6 6 0 0 1-6 6c-2 0-3.2-.8-4.2-2.2L4.5 14.5a1.5 1.5 0 0 1 2.4-1.8L8 14",
  braille: "M8 5v.5M8 12v.5M8 19v.5M16 5v.5M16 12v.5",
  large_print: "M3 19L8 5l5 14M5 14h6M15 19l3-8l3 8M16 16.5h4",
  accessible_changing_room: "M10 6a2 2 0 1 1 3 1.7c-.7.4-1 .8-1 1.6V10M12 10l-9 7h18z",
  pool_lift: "M3 19c2-1.5 4-1.5 6 0s4 1.5 6 0s4-1.5 6 0M7 16V4h9v5M16 9v3",
  easy_read: "M3 5h6a3 3 0 0 1 3 3v12a2 2 0 0 0-2-2H3zM21 5h-6a3 3 0 0 0-3 3v12a2 2 0 0 1 2-2h7z",
  accessible_showers: "M6 20V8a4 4 0 0 1 8 0M10 8h8M12 12v1M15 12v1M18 12v1M13.5 16v1M16.5 16v1",
  sensory_signage: "M3 12s3.5-6 9-6s9 6 9 6s-3.5 6-9 6s-9-6-9-6zM12 10a2 2 0 1 0 0 4a2 2 0 1 0 0-4",
};

export function icon(name, size = 20) {
  return `<svg class="i" width="${size}" height="${size}" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${ICONS[name] || ""}" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
}

// ── Formatting (Paris time) ───────────────────────────────────────────────────────────────────
const fmtCache = new Map();
function dtf(lang, options) {
  const key = lang + JSON.stringify(options);
  if (!fmtCache.has(key)) fmtCache.set(key, new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: PARIS, ...options }));
  return fmtCache.get(key);
}
export const fmtNum = (n) => (Math.round(n * 10) / 10).toString();
const fmtDays = (d, lang) => (lang === "en" ? `${fmtNum(d)} d` : `${fmtNum(d).replace(".", ",")} j`);
export const escapeHtml = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const fmtTime = (iso, lang) => dtf(lang, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
export const fmtDay = (iso, lang) => dtf(lang, { weekday: "long", day: "numeric", month: "long" }).format(new Date(iso));
export const parisDay = (date) => dtf("en", { year: "numeric", month: "2-digit", day: "2-digit" }).format(date);

/** Calendar days from today to ``iso`` in Paris: a slot tomorrow at 11:30 is 1 (« demain »),
 * not the 0.6 of a day it is away (which read « aujourd'hui »). */
export function daysUntil(iso, now = new Date()) {
  const day = (date) => {
    const [dd, mm, yyyy] = parisDay(date).split("/").map(Number);
    return Date.UTC(yyyy, mm - 1, dd);
  };
  return Math.round((day(new Date(iso)) - day(now)) / 86_400_000);
}

/** "14:00" today, "demain 14:00", "le lundi 16 juin à 14:00". */
export function fmtWhen(iso, lang, now = new Date()) {
  const at = new Date(iso);
  const time = fmtTime(iso, lang);
  if (parisDay(at) === parisDay(now)) return lang === "en" ? `at ${time}` : `à ${time}`;
  const tomorrow = new Date(now.getTime() + 864e5);
  if (parisDay(at) === parisDay(tomorrow)) return lang === "en" ? `tomorrow at ${time}` : `demain à ${time}`;
  return lang === "en" ? `on ${fmtDay(iso, lang)} at ${time}` : `le ${fmtDay(iso, lang)} à ${time}`;
}

export function ago(iso, lang, now = Date.now()) {
  if (!iso) return "";
  return TEXT[lang].ago(Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000)));
}

export function localized(text, lang) {
  if (!text) return "";
  return (lang === "en" && text.en) || text.fr || text.en || "";
}

export function nameOfService(catalogue, id, lang) {
  const found = (catalogue?.services || []).find((s) => s.service_id === id)
    || (catalogue?.procedures || []).find((p) => p.procedure_id === id);
  return found ? localized(found.name, lang) : id;
}

export function scopeLabel(scope, catalogue, lang) {
  if (!scope || scope.kind === "facility") return TEXT[lang].whole;
  if (scope.kind === "area") return scope.name;
  return nameOfService(catalogue, scope.service_id, lang);
}

export function langOf(el) {
  const lang = (el.closest("[lang]")?.getAttribute("lang") || "fr").slice(0, 2).toLowerCase();
  return lang === "en" ? "en" : "fr";
}

// ── Live client: one WebSocket per API, shared by every card of the page ─────────────────────
/**
 * Follows facilities on /v1/live: snapshot, updates, heartbeats; keeps the highest seq per
 * facility and ignores anything older; reconnects with jittered exponential backoff and resumes
 * with `since`. Events: "status" (detail: a FacilityStatus), "state" (detail: {state, since}).
 */
export class LiveClient extends EventTarget {
  static #clients = new Map();

  static for(base) {
    const key = new URL(base, location.href).href;
    if (!LiveClient.#clients.has(key)) LiveClient.#clients.set(key, new LiveClient(key));
    return LiveClient.#clients.get(key);
  }

  constructor(base, { silenceMs = 40000, maxBackoffMs = 15000 } = {}) {
    super();
    this.url = base.replace(/^http/, "ws").replace(/\/?$/, "/") + "v1/live";
    this.silenceMs = silenceMs;
    this.maxBackoffMs = maxBackoffMs;
    this.statuses = new Map();
    this.wanted = new Set();
    this.pending = new Set();
    this.state = "idle";
    this.lostSince = null;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.watchdog = null;
  }

  follow(ids) {
    for (const id of ids) {
      if (!this.wanted.has(id)) { this.wanted.add(id); this.pending.add(id); }
    }
    if (this.state === "idle") this.#connect();
    else if (this.state === "open") queueMicrotask(() => this.#flush());
  }

  #flush() {
    if (!this.pending.size || this.ws?.readyState !== WebSocket.OPEN) return;
    this.#subscribe([...this.pending]);
    this.pending.clear();
  }

  #subscribe(ids) {
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const since = {};
      for (const id of chunk) if (this.statuses.has(id)) since[id] = this.statuses.get(id).seq;
      this.ws.send(JSON.stringify({ op: "subscribe", facilities: chunk, since }));
    }
  }

  #setState(state) {
    if (state === "lost" && this.lostSince === null) this.lostSince = new Date();
    if (state === "open") this.lostSince = null;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, since: this.lostSince } }));
  }

  #connect() {
    clearTimeout(this.timer);
    if (this.state !== "lost") this.#setState("connecting");
    let ws;
    try { ws = new WebSocket(this.url); } catch { this.#retry(); return; }
    this.ws = ws;
    ws.onopen = () => {
      this.pending.clear();
      if (this.wanted.size) this.#subscribe([...this.wanted]);
      this.#pet();
    };
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = () => { if (this.ws === ws) this.#retry(); };
    ws.onerror = () => ws.close();
  }

  #pet() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.ws?.close(), this.silenceMs);
  }

  #retry() {
    clearTimeout(this.watchdog);
    this.ws = null;
    this.#setState("lost");
    const ceiling = Math.min(this.maxBackoffMs, 500 * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.#connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  #receive(data) {
    this.#pet();
    let message;
    try { message = JSON.parse(data); } catch { return; }
    if (message.op === "snapshot") {
      this.attempt = 0;
      if (this.state !== "open") this.#setState("open");
      message.facilities.forEach((s) => this.#apply(s));
    } else if (message.op === "update") {
      this.#apply(message.facility);
    }
  }

  #apply(status) {
    const known = this.statuses.get(status.facility_id);
    if (known && known.seq >= status.seq) return;
    this.statuses.set(status.facility_id, status);
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  /** Offer a status read elsewhere (REST): kept only when newer than what the socket gave. */
  offer(status) {
    if (status && status.live !== false) this.#apply(status);
  }
}

// ── The card ──────────────────────────────────────────────────────────────────────────────────
const STYLES = `
:host{display:block;max-width:34rem;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#161616;--ok:#0a5c2b;--ok-bg:#e1f3e6;--warn:#7a4100;--warn-bg:#fff0d6;--alert:#a4161a;--alert-bg:#fde3e3;--off:#3d3d3d;--off-bg:#ececec;--line:#d0d0d0}
*{box-sizing:border-box}
article{border:1px solid var(--line);border-radius:.5rem;background:#fff;padding:1rem 1.1rem;display:grid;gap:.8rem}
h2,h3{margin:0;line-height:1.2}h2{font-size:1.25rem}h3{font-size:.95rem;text-transform:uppercase;letter-spacing:.03em;color:#3d3d3d}
p,ul{margin:0}ul{padding:0;list-style:none;display:grid;gap:.35rem}
.sub{color:#4a4a4a;font-size:.9rem}
.badge,.pill{display:inline-flex;align-items:center;gap:.4rem;padding:.25rem .65rem;border-radius:999px;font-weight:700;border:2px solid currentColor}
.ok{color:var(--ok);background:var(--ok-bg)}.warn{color:var(--warn);background:var(--warn-bg)}.alert{color:var(--alert);background:var(--alert-bg)}.off{color:var(--off);background:var(--off-bg)}
.i{flex:none;vertical-align:-.2em}
.row{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:baseline}
.gauge{height:.9rem;border-radius:.45rem;background:#e6e6e6;overflow:hidden;border:1px solid #8a8a8a}
.gauge>span{display:block;height:100%;background:currentColor}
.lvl-low{color:var(--ok)}.lvl-moderate{color:#8a5a00}.lvl-high{color:#b33a00}.lvl-full{color:var(--alert)}
.tag{font-size:.8rem;border:1px solid #767676;border-radius:.25rem;padding:0 .3rem;color:#3d3d3d}
.closure{border-left:.3rem solid var(--alert);padding:.35rem .6rem;background:var(--alert-bg)}
.closure.overdue{border-left-style:dashed}
.stale{display:flex;gap:.4rem;align-items:center;padding:.4rem .6rem;background:#fff4ce;color:#5c4500;border:1px dashed #8a6d00;border-radius:.3rem}
.foot{font-size:.85rem;color:#4a4a4a;display:flex;justify-content:space-between;gap:.5rem;flex-wrap:wrap}
a{color:#0b4fa3}a:focus-visible{outline:3px solid #0b4fa3;outline-offset:2px}
.is-stale .gauge{opacity:.7}
.closed-note{font-weight:600;color:#3d3d3d}
.nearby{border:1px solid var(--line);border-radius:.4rem;padding:.5rem .7rem;background:#f4f8fd}
.nearby h3{display:flex;gap:.3rem;align-items:center}
.help{font-size:.85rem}
.how summary{cursor:pointer;color:#0b4fa3;text-decoration:underline;font-size:.9rem}
.how summary:focus-visible{outline:3px solid #0b4fa3;outline-offset:2px}
.how p{font-size:.9rem;margin-top:.35rem}
.promises{border:1px solid var(--line);border-radius:.4rem;padding:.5rem .7rem;display:grid;gap:.45rem}
.promises li{display:flex;gap:.4rem;align-items:baseline}.promises li .i{color:var(--ok)}
.demarches ul{gap:.25rem}
.feature{display:inline-flex;gap:.3rem;align-items:center}
.unconfirmed{display:inline-flex;gap:.3rem;align-items:center;font-weight:600;color:var(--warn);background:var(--warn-bg);border:1px dashed var(--warn);border-radius:.25rem;padding:0 .4rem}
.src{font-size:.85rem;color:#4a4a4a;overflow-wrap:anywhere}
.src.est,.tag.est{font-style:italic}
@media (prefers-reduced-motion:no-preference){.gauge>span{transition:width .6s ease}}
`;

let sheet = null;
function stylesheet() {
  if (sheet === null && "adoptedStyleSheets" in Document.prototype) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
  }
  return sheet;
}

const API_BASE = new URL("../", import.meta.url).href;
const ticking = new Set();
setInterval(() => ticking.forEach((card) => card.render()), 30000);

/** Today in Paris as "2026-12-03" (comparable with the catalogue's dates). */
export const parisIsoDay = (date) => new Intl.DateTimeFormat("en-CA", { timeZone: PARIS, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);

/** Official hours given for a period that has ended (the dataset's `valid_until` is past). */
export function hoursPeriodEnded(catalogue, now = new Date()) {
  const until = catalogue?.sources?.hours?.valid_until;
  return Boolean(until) && until < parisIsoDay(now);
}

/** Where a status's open/closed state comes from (FacilityStatus.hours_confidence): "official"
 * hours, "estimated" ones (shown, "not confirmed"), or "unknown" (a status without the field).
 * Official hours of a period that has ended are not confirmed for today either. */
export function hoursConfidence(status, catalogue = null, now = new Date()) {
  const confidence = status.hours_confidence || "unknown";
  return confidence === "official" && hoursPeriodEnded(catalogue, now) ? "estimated" : confidence;
}

/** The state a page may claim: with unknown hours, "open" or "closed" is not a fact (a closure
 * declared by the staff still is). */
export function shownState(status) {
  const claimed = ["open", "closing_soon", "closed"].includes(status.open_state);
  return claimed && hoursConfidence(status) === "unknown" ? "unknown" : status.open_state;
}

export function renderState(status, lang, size = 20) {
  const t = TEXT[lang];
  const state = shownState(status);
  const style = STATE_STYLE[state] || STATE_STYLE.unknown;
  return `<span class="badge ${style.tone}" data-state="${escapeHtml(state)}">${icon(style.icon, size)}${t.states[state] || t.states.unknown}</span>`;
}

/** The clock time (Paris) as "HH:MM". */
export const parisHHMM = (date) => dtf("fr", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);

/** Today's opening spans in words, and what comes next: "Ferme à 19:00" or "Ouvre demain à 07:00".
 * `today` is the spans alone, `note` says "horaires non confirmés" for estimated hours, `spans`
 * is both in one line of text; unknown hours read "Horaires inconnus", never "Fermé aujourd'hui". */
export function hoursLine(status, lang, now = new Date(), catalogue = null) {
  const t = TEXT[lang];
  const confidence = hoursConfidence(status, catalogue, now);
  if (confidence === "unknown") return { spans: t.unknownHours, today: t.unknownHours, note: "", next: "" };
  const hours = status.today_hours || [];
  const spans = hours.map((h) => `${h.opens}–${h.closes}`).join(", ");
  const today = spans ? `${t.today}${lang === "en" ? ":" : " :"} ${spans}` : t.closedToday;
  const note = confidence === "estimated" ? t.unconfirmed : "";
  let next = "";
  if (["open", "closing_soon", "partially_closed"].includes(status.open_state)) {
    const clock = parisHHMM(now);
    const span = hours.find((h) => h.opens <= clock && clock < h.closes);
    if (span) next = t.closesAt(span.closes);
  } else if (status.open_state === "closed" && status.next_change_at && new Date(status.next_change_at) > now) {
    next = lang === "en" ? `Opens ${fmtWhen(status.next_change_at, lang, now)}` : `Ouvre ${fmtWhen(status.next_change_at, lang, now)}`;
  }
  return { spans: note ? `${today} · ${note}` : today, today, note, next };
}

// ── Sources (catalogue.sources and catalogue.datasets of the REST item) ──────────────────────
const fmtDate = (iso) => (iso ? iso.slice(0, 10).split("-").reverse().join("/") : "");

/** A catalogue value's source in words: « Source : Ville de Paris — opendata.paris.fr,
 * « Îlots de fraîcheur… » (mise à jour 15/09/2025) », or "Source : aucune (valeur estimée)". */
export function sourceWords(catalogue, field, lang, { brief = false } = {}) {
  const t = TEXT[lang];
  const source = catalogue?.sources?.[field];
  const dataset = source && typeof source === "object" ? catalogue.datasets?.[source.dataset] : null;
  if (!dataset) return t.noSource;
  // brief (a lobby screen's footer): the publisher and date without the dataset's title, and the
  // period only when it has ended — the same facts in two lines instead of four
  const words = [brief ? t.sourceBrief(dataset.publisher, fmtDate(dataset.updated)) : t.source(dataset.publisher, dataset.title, fmtDate(dataset.updated))];
  if (dataset.old) words.push(t.oldData);
  if (field === "hours") {
    const ended = hoursPeriodEnded(catalogue);
    if (source.valid_until && brief) { if (ended) words.push(t.periodEnded(fmtDate(source.valid_until))); }
    else if (source.valid_until) words.push(t.period(fmtDate(source.valid_from), fmtDate(source.valid_until)) + (ended ? ` (${t.ended})` : ""));
    const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    if (days.some((d) => catalogue.sources[`hours.${d}`] === "estimated")) words.push(t.someDaysEstimated);
  }
  return words.join(lang === "en" ? "; " : " ; ");
}

/** The source line of a field: a dataset is a plain note, an estimate is marked as such. */
export function sourceLine(catalogue, field, lang) {
  if (!catalogue?.sources) return "";
  const cited = typeof catalogue.sources[field] === "object";
  return `<p class="src${cited ? "" : " est"}" data-source="${escapeHtml(field)}">${escapeHtml(sourceWords(catalogue, field, lang))}</p>`;
}

/** A value estimated by the catalogue (no dataset gives it). */
export const isEstimated = (catalogue, field) => catalogue?.sources?.[field] === "estimated";

export function closureItem(c, catalogue, lang, now = new Date()) {
  const t = TEXT[lang];
  const reopening = c.expected_reopening_at ? t.reopensAt(fmtWhen(c.expected_reopening_at, lang, now)) : t.reopenUnknown;
  const upcoming = new Date(c.starts_at) > now ? ` · ${t.from(fmtWhen(c.starts_at, lang, now))}` : "";
  return `<li class="closure${c.overdue ? " overdue" : ""}" data-closure="${escapeHtml(c.closure_id)}">`
    + `<strong>${escapeHtml(scopeLabel(c.scope, catalogue, lang))} — ${t.reasons[c.reason] || escapeHtml(c.reason)}</strong>`
    + `<p>${escapeHtml(localized(c.message, lang))}</p>`
    + `<p class="sub">${reopening}${upcoming}${c.overdue ? ` · <strong>${t.overdue}</strong>` : ""}</p>`
    + `<p class="sub">${t.declared(fmtTime(c.declared_at, lang))}</p></li>`;
}

/** Where a count comes from, in words (FacilityStatus occupancy.source): a sensor or turnstile
 * count is "comptage"; a drift-corrected figure ("estimate") or anything unknown, "estimation". */
export const COUNTED_SOURCES = new Set(["sensor", "turnstile"]);
export function sourceTag(source, lang) {
  return COUNTED_SOURCES.has(source) ? TEXT[lang].measured : TEXT[lang].estimate;
}

/** Whether crowding and waits mean anything now: not while the facility is closed. */
export const isClosed = (status) => status.open_state === "closed" || status.open_state === "exceptionally_closed";

export function crowdBlock(occ, lang, estimatedCapacity = false) {
  const t = TEXT[lang];
  const capacityTag = estimatedCapacity && occ.capacity ? ` <span class="tag est">${t.estimatedCapacity}</span>` : "";
  const ratio = occ.ratio ?? (occ.capacity ? occ.count / occ.capacity : null);
  const level = occ.level || "low";
  const trend = { rising: "up", falling: "down" }[occ.trend] || "flat";
  const words = `${occ.level ? t.levels[occ.level] + ", " : ""}${t.people(occ.count, occ.capacity)}${capacityTag ? ` (${t.estimatedCapacity})` : ""}, ${t.trends[occ.trend] || ""}`;
  const gauge = ratio === null ? "" : `<div class="gauge lvl-${level}" role="meter" aria-label="${t.crowd}" aria-valuemin="0" aria-valuemax="${occ.capacity}" aria-valuenow="${Math.min(occ.count, occ.capacity)}" aria-valuetext="${escapeHtml(words)}"><span style="width:${Math.min(100, Math.round(ratio * 100))}%"></span></div>`;
  return `<section aria-label="${t.crowd}"><h3>${t.crowd}</h3>${gauge}<p class="row"><strong class="lvl-${level}">${occ.level ? t.levels[occ.level] : ""}</strong><span>${t.people(occ.count, occ.capacity)}</span><span>${icon(trend, 16)} ${t.trends[occ.trend] || ""}</span><span class="tag">${sourceTag(occ.source, lang)}</span>${capacityTag}</p></section>`;
}

/** A procedure's délais: "médiane : 12 j · 90e centile : 25 j · engagement : 30 j" (a commitment
 * of 0 days means issued on the spot; an illustrative one is marked "indicatif"). */
export function processingItem(p, catalogue, lang) {
  const t = TEXT[lang];
  const procedure = (catalogue?.procedures || []).find((x) => x.procedure_id === p.procedure_id);
  const figures = [];
  if (p.median_days != null) figures.push(t.median(p.median_days));
  if (p.p90_days != null) figures.push(t.p90(p.p90_days));
  if (p.committed_days != null) figures.push(t.committed(p.committed_days, Boolean(procedure?.illustrative)));
  return `<li><strong>${escapeHtml(nameOfService(catalogue, p.procedure_id, lang))}</strong>${t.colon}${figures.length ? figures.join(" · ") : t.noFigure}</li>`;
}

/** A queue in words: the time to be served when the workers estimate it (« Servi dans environ
 * 12 min, au plus 25 min pour 9 personnes sur 10 (4 personnes avant vous) — estimation », the
 * démarche page's words), else the average wait and the people in line. */
export function queueItem(q, catalogue, lang) {
  const t = TEXT[lang];
  const name = `<strong>${escapeHtml(nameOfService(catalogue, q.service_id, lang))}</strong>`;
  const served = q.served_within;
  if (served) {
    return `<li data-served><span>${name}${t.colon}${t.served(Math.round(served.p50_minutes), Math.round(served.p90_minutes), q.length)} <span class="tag">${t.estimate}</span></span></li>`;
  }
  return `<li>${name}${t.colon}${q.wait_minutes == null ? "" : t.wait(Math.round(q.wait_minutes)) + " · "}${t.inLine(q.length)} <span class="tag">${t.estimate}</span></li>`;
}

export function statusBody(status, catalogue, lang, now = new Date()) {
  const t = TEXT[lang];
  const parts = [];
  const hours = hoursLine(status, lang, now, catalogue);
  const note = hours.note ? `<span class="unconfirmed">${icon("question", 16)} ${hours.note}</span>` : "";
  parts.push(`<p class="row hours"><span>${hours.today}</span>${note}${hours.next ? `<span><strong>${hours.next}</strong></span>` : ""}</p>`);
  parts.push(sourceLine(catalogue, "hours", lang));
  if (status.closures?.length) {
    parts.push(`<section aria-label="${t.closures}"><h3>${t.closures}</h3><ul>${status.closures.map((c) => closureItem(c, catalogue, lang, now)).join("")}</ul></section>`);
  }
  parts.push(equipmentBlock(status, lang, now));
  const closed = isClosed(status);
  if (closed && (status.occupancy || status.queues?.length)) parts.push(`<p class="closed-note">${t.closedCrowd}</p>`);
  if (status.occupancy && !closed) parts.push(crowdBlock(status.occupancy, lang, isEstimated(catalogue, "capacity")));
  if (status.queues?.length && !closed) {
    const how = status.queues.some((q) => q.served_within)
      ? `<details class="how"><summary>${t.servedHow}</summary><p>${t.servedHelp}</p></details>` : "";
    parts.push(`<section aria-label="${t.queue}"><h3>${t.queue}</h3><ul>${status.queues.map((q) => queueItem(q, catalogue, lang)).join("")}</ul>${how}</section>`);
  }
  if (status.appointments?.length) {
    parts.push(`<section aria-label="${t.appointment}"><h3>${t.appointment}</h3><ul>${status.appointments.map((a) => `<li><strong>${escapeHtml(nameOfService(catalogue, a.service_id, lang))}</strong>${t.colon}${a.next_available_at ? `${fmtDay(a.next_available_at, lang)} (${t.inDays(daysUntil(a.next_available_at, now))})` : t.noSlot}</li>`).join("")}</ul></section>`);
  }
  if (status.processing?.length) {
    // The median / 90th percentile explained only beside one of them (not under « — » lines)
    const measured = status.processing.some((p) => p.median_days != null || p.p90_days != null);
    parts.push(`<section aria-label="${t.processing}"><h3>${t.processing}</h3><ul>${status.processing.map((p) => processingItem(p, catalogue, lang)).join("")}</ul>${measured ? `<p class="sub help">${t.processingHelp}</p>` : ""}</section>`);
  }
  return parts.join("");
}

export class ParisFacilityCard extends HTMLElement {
  static observedAttributes = ["facility", "lang", "api"];

  #detail = null;
  #status = null;
  #error = null;
  #live = null;
  #nearby = null;
  #nearbyKey = "";
  #onStatus = (e) => { if (e.detail.facility_id === this.facilityId) { this.#status = e.detail; this.render(); } };
  #onState = () => this.render();

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    const css = stylesheet();
    if (css) this.root.adoptedStyleSheets = [css];
    else this.root.innerHTML = `<style>${STYLES}</style>`;
  }

  get facilityId() { return this.getAttribute("facility") || ""; }

  /** A status to show instead of the live one (the agent console's preview). */
  set preview(value) { this._preview = value; this.render(); }
  get preview() { return this._preview; }

  set catalogue(value) { this.#detail = { ...(this.#detail || {}), catalogue: value }; this.render(); }

  connectedCallback() {
    ticking.add(this);
    if (this.hasAttribute("static")) { this.render(); return; }
    this.#start();
  }

  disconnectedCallback() {
    ticking.delete(this);
    this.#live?.removeEventListener("status", this.#onStatus);
    this.#live?.removeEventListener("state", this.#onState);
  }

  attributeChangedCallback(name, before, after) {
    if (before === after || !this.isConnected) return;
    if (name === "lang") this.render();
    else if (!this.hasAttribute("static")) { this.#detail = this.#status = null; this.#start(); }
  }

  async #start() {
    const id = this.facilityId;
    if (!id) return;
    const base = this.getAttribute("api") || API_BASE;
    this.#live?.removeEventListener("status", this.#onStatus);
    this.#live?.removeEventListener("state", this.#onState);
    this.#live = LiveClient.for(base);
    this.#live.addEventListener("status", this.#onStatus);
    this.#live.addEventListener("state", this.#onState);
    this.#status = this.#live.statuses.get(id) || null;
    this.#live.follow([id]);
    this.render();
    try {
      const response = await fetch(new URL(`v1/facilities/${encodeURIComponent(id)}`, base), { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.status === 404 ? "unknown" : "unavailable");
      const detail = await response.json();
      if (id !== this.facilityId) return;
      this.#detail = detail;
      this.#error = null;
      if (!this.#status || this.#status.seq < detail.seq) this.#status = detail;
      this.#live.offer(detail);
    } catch (error) {
      this.#error = error.message === "unknown" ? "unknown" : "unavailable";
    }
    this.render();
  }

  get #base() { return this.getAttribute("api") || API_BASE; }

  /** The nearest open facilities of the same type, read once per closure of this facility. */
  async #loadNearby(status) {
    const key = `${status.facility_id}:${status.open_state}:${status.closures?.map((c) => c.closure_id).join(",") || ""}`;
    if (this.#nearbyKey === key) return;
    this.#nearbyKey = key;
    this.#nearby = null;
    try {
      const response = await fetch(new URL(`v1/facilities/${encodeURIComponent(status.facility_id)}/nearby?limit=3`, this.#base), { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error("unavailable");
      const items = (await response.json()).items;
      if (this.#nearbyKey === key) { this.#nearby = items; this.render(); }
    } catch {
      if (this.#nearbyKey === key) this.#nearbyKey = "";
    }
  }

  #pageUrl(path, lang) {
    const url = new URL(path, this.#base);
    if (lang === "en") url.searchParams.set("lang", "en");
    return url.href;
  }

  #nearbyBlock(status, lang) {
    const t = TEXT[lang];
    if (this.#nearby === null) return "";
    const title = t.nearby[status.type] || t.nearbyOther;
    const list = this.#nearby.length
      ? `<ul>${this.#nearby.map((n) => `<li><a href="${escapeHtml(this.#pageUrl(`facilities/${encodeURIComponent(n.facility_id)}`, lang))}">${escapeHtml(n.name)}</a> <span class="sub">${t.away(n.distance_m)} · ${t.states[n.open_state] || ""}</span></li>`).join("")}</ul>`
      : `<p>${t.nearbyNone}</p>`;
    return `<section class="nearby" aria-label="${escapeHtml(title)}"><h3>${icon("pin", 16)} ${escapeHtml(title)}</h3>${list}</section>`;
  }

  /** « Nos engagements »: the charter's four golden rules as promises, and how to say one was
   * not kept (the facility's survey and complaint form). */
  #linksBlock(status, lang) {
    const t = TEXT[lang];
    const id = encodeURIComponent(status.facility_id);
    const feedback = this.#pageUrl(`feedback/${id}?channel=web`, lang);
    const complaint = this.#pageUrl(`complaints?facility=${id}`, lang);
    const rules = t.rules.map((rule) => `<li>${icon("check", 16)} <span>${rule}</span></li>`).join("");
    return `<section class="say promises" aria-label="${t.promises}"><h3>${t.promises}</h3><ul>${rules}</ul><p class="row"><span>${t.notKept}</span><a href="${escapeHtml(feedback)}">${t.feedback}</a><a href="${escapeHtml(complaint)}">${t.complaint}</a></p></section>`;
  }

  /** « Démarches faites ici »: each to its page (catalogue.demarches of the REST item). */
  #demarchesBlock(catalogue, lang) {
    const t = TEXT[lang];
    const demarches = catalogue?.demarches || [];
    if (!demarches.length) return "";
    const items = demarches.map((d) => `<li><a href="${escapeHtml(this.#pageUrl(`demarches/${encodeURIComponent(d.id)}`, lang))}">${escapeHtml(localized(d.title, lang))}</a></li>`).join("");
    return `<section class="demarches" aria-label="${t.demarches}"><h3>${t.demarches}</h3><ul>${items}</ul></section>`;
  }

  render() {
    const lang = langOf(this);
    const t = TEXT[lang];
    const status = this._preview || this.#status;
    const catalogue = this.#detail?.catalogue || null;
    if (!status) {
      if (!this.#error && !this.root.firstChild) return;
      this.root.innerHTML = `<article aria-busy="${!this.#error}"><p>${this.#error === "unknown" ? t.unknownFacility : this.#error ? t.unavailable : t.loading}</p></article>`;
      return;
    }
    const now = new Date();
    const live = status.live !== false;
    const stale = status.stale || !live;
    const head = `<header><h2>${escapeHtml(status.name)}</h2><p class="sub">${t.types[status.type] || ""}${status.type ? " · " : ""}${t.arr(status.arrondissement)}</p></header>`;
    const staleNote = stale ? `<p class="stale" role="note">${icon("stale", 18)}<span>${live && status.last_data_at ? t.stale(ago(status.last_data_at, lang, now)) : t.staleNoData}</span></p>` : "";
    // what the catalogue lists, marked « pas maintenant » where the live accessibility says
    // otherwise (a lift out of order; no step-free route now)
    const notNow = notNowFeatures(status);
    // a list resting on a typical profile says so before it, not only in the source line after
    const unconfirmed = isEstimated(catalogue, "accessibility") ? `<p class="sub est-note">${t.accessUnconfirmed}</p>` : "";
    const access = catalogue?.accessibility?.length
      ? `<section aria-label="${t.access}"><h3>${t.access}</h3>${unconfirmed}<p class="row">${catalogue.accessibility.map((f) => `<span class="feature${notNow.has(f) ? " not-now" : ""}" data-feature="${escapeHtml(f)}">${icon(ICONS[f] ? f : "access", 18)} ${t.features[f] || escapeHtml(f)}${notNow.has(f) ? ` <strong>(${t.notNow})</strong>` : ""}</span>`).join("")}</p>${sourceLine(catalogue, "accessibility", lang)}</section>` : "";
    const info = (catalogue?.contacts || []).find((c) => c.need === "information");
    const contact = info ? `<section aria-label="${t.contact}"><h3>${t.contact}</h3><p class="row"><span>${escapeHtml(localized(info.service_name, lang))}</span>${info.phone ? `<a href="tel:${escapeHtml(info.phone.replace(/\s/g, ""))}">${icon("phone", 16)} ${escapeHtml(info.phone)}</a>` : ""}${info.email ? `<a href="mailto:${escapeHtml(info.email)}">${escapeHtml(info.email)}</a>` : ""}${info.url ? `<a href="${escapeHtml(info.url)}" rel="noopener">${escapeHtml(info.url.replace(/^https:\/\//, ""))}</a>` : ""}${isEstimated(catalogue, "contacts") ? `<span class="tag est">${t.estimated}</span>` : ""}</p></section>` : "";
    const lost = this.#live?.state === "lost" && !this._preview ? `<span role="status">${t.lost}</span>` : "";
    const updated = live ? t.updated(ago(status.updated_at, lang, now)) : "";
    const own = !this._preview && !this.hasAttribute("static");
    if (own && isClosed(status)) this.#loadNearby(status);
    const nearby = own && isClosed(status) ? this.#nearbyBlock(status, lang) : "";
    const links = own ? this.#demarchesBlock(catalogue, lang) + this.#linksBlock(status, lang) : "";
    this.root.innerHTML = `<article lang="${lang}" class="${stale ? "is-stale" : ""}" aria-label="${escapeHtml(status.name)} — ${t.liveCard}" data-seq="${status.seq}" data-state="${escapeHtml(status.open_state)}" data-hours="${escapeHtml(hoursConfidence(status, catalogue, now))}">${head}<p>${renderState(status, lang)}</p>${staleNote}${statusBody(status, catalogue, lang, now)}${nearby}${access}${contact}${links}<p class="foot"><span>${updated}</span>${lost}</p></article>`;
  }
}

if (!customElements.get("paris-facility-card")) customElements.define("paris-facility-card", ParisFacilityCard);
