// Live accessibility in words — shared by the card, the facility page, the screen and the
// directory: « Ascenseur hors service depuis 10:42 — retour prévu demain 9 h ». Reads
// FacilityStatus.accessibility (schemas/status.py): each equipment's state and step_free_access.
// Self-contained (no import): /embed/card.js imports it, and so may any page.
const PARIS = "Europe/Paris";

export const EQUIPMENT_TEXT = {
  fr: {
    title: "Accessibilité en direct",
    stepFree: {
      yes: "Accès en fauteuil possible maintenant",
      no: "Accès en fauteuil impossible maintenant",
      unknown: "Accès en fauteuil : non renseigné",
    },
    // step-free "yes" when the equipment list is a typical profile: nothing says it is true
    stepFreeUnconfirmed: "Accès en fauteuil non confirmé — aucune panne signalée",
    out: (name, since) => `${name} hors service depuis ${since}`,
    degraded: (name, since) => `${name} en service réduit depuis ${since}`,
    outNow: (name) => `${name} hors service`,
    degradedNow: (name) => `${name} en service réduit`,
    backToday: (h) => `retour prévu à ${h}`,
    backTomorrow: (h) => `retour prévu demain ${h}`,
    backOn: (day, h) => `retour prévu le ${day} à ${h}`,
    backUnknown: "retour non connu",
    overdue: "retour prévu dépassé",
    passed: (back) => `${back} (dépassé)`,
    estimated: "accessibilité estimée",
    since: (day, time) => `le ${day} à ${time}`,
    notify: {
      lift: "Prévenez-moi quand l'ascenseur remarche",
      other: (name) => `Prévenez-moi quand « ${name} » remarche`,
    },
    watching: "Vous serez prévenu ici dès son retour en service.",
    stop: "Ne plus me prévenir",
    back: (name, time) => `${name} : de nouveau en service depuis ${time}.`,
    alerts: "Être prévenu du retour en service",
  },
  en: {
    title: "Live accessibility",
    stepFree: {
      yes: "Wheelchair access possible now",
      no: "No wheelchair access now",
      unknown: "Wheelchair access: not known",
    },
    stepFreeUnconfirmed: "Wheelchair access not confirmed — no fault reported",
    out: (name, since) => `${name} out of order since ${since}`,
    degraded: (name, since) => `${name} working with restrictions since ${since}`,
    outNow: (name) => `${name} out of order`,
    degradedNow: (name) => `${name} working with restrictions`,
    backToday: (h) => `expected back at ${h}`,
    backTomorrow: (h) => `expected back tomorrow ${h}`,
    backOn: (day, h) => `expected back on ${day} at ${h}`,
    backUnknown: "return not known yet",
    overdue: "expected return passed",
    passed: (back) => `${back} (passed)`,
    estimated: "estimated accessibility",
    since: (day, time) => `${day} at ${time}`,
    notify: {
      lift: "Tell me when the lift works again",
      other: (name) => `Tell me when “${name}” works again`,
    },
    watching: "You will be told here as soon as it is back in service.",
    stop: "Stop telling me",
    back: (name, time) => `${name}: back in service since ${time}.`,
    alerts: "Be told when it is back in service",
  },
};

const cache = new Map();
function fmt(lang, options) {
  const key = lang + JSON.stringify(options);
  if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: PARIS, ...options }));
  return cache.get(key);
}
const day = (date) => fmt("en", { year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
const hhmm = (date, lang) => fmt(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
const longDay = (date, lang) => fmt(lang, { weekday: "long", day: "numeric", month: "long" }).format(date);
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const inLang = (text, lang) => (text ? (lang === "en" && text.en) || text.fr || text.en || "" : "");

/** « 9 h », « 9 h 30 » (French), « 9:00 » (English): an expected return, Paris time. */
function hour(date, lang) {
  const [h, m] = hhmm(date, "fr").split(":");
  if (lang === "en") return `${Number(h)}:${m}`;
  return m === "00" ? `${Number(h)} h` : `${Number(h)} h ${m}`;
}

/** When an outage began: « 10:42 » today, « le lundi 1 décembre à 10:42 » before. */
export function sinceWords(iso, lang, now = new Date()) {
  const at = new Date(iso);
  const time = hhmm(at, lang);
  return day(at) === day(now) ? time : EQUIPMENT_TEXT[lang].since(longDay(at, lang), time);
}

/** « retour prévu demain 9 h » (or today, or on a date; « retour non connu »). */
export function backWords(iso, lang, now = new Date()) {
  const t = EQUIPMENT_TEXT[lang];
  if (!iso) return t.backUnknown;
  const at = new Date(iso);
  if (day(at) === day(now)) return t.backToday(hour(at, lang));
  if (day(at) === day(new Date(now.getTime() + 864e5))) return t.backTomorrow(hour(at, lang));
  return t.backOn(longDay(at, lang), hour(at, lang));
}

export const isDown = (e) => e.status && e.status !== "in_service";

/** The outages of a status, oldest first. */
export function outagesOf(status) {
  const items = status?.accessibility?.equipment || [];
  return items.filter(isDown).sort((a, b) => String(a.since).localeCompare(String(b.since)));
}

/** « Ascenseur (RDC) hors service depuis 10:42 — retour prévu demain 9 h »; a return time
 * already passed says so: « — retour prévu à 15 h 15 (dépassé) ». */
export function outageLine(e, lang, now = new Date()) {
  const t = EQUIPMENT_TEXT[lang];
  const base = inLang(e.name, lang) || e.equipment_id;
  const name = e.area ? `${base} (${e.area})` : base;
  const head = e.since
    ? (e.status === "degraded" ? t.degraded : t.out)(name, sinceWords(e.since, lang, now))
    : (e.status === "degraded" ? t.degradedNow : t.outNow)(name);
  const back = backWords(e.expected_back_at, lang, now);
  return `${head} — ${e.overdue ? t.passed(back) : back}`;
}

/** The agent's own words, when they say more than the line does. */
function ownWords(e, lang) {
  const words = inLang(e.message, lang);
  const name = inLang(e.name, lang);
  const plain = [`${name} hors service.`, `${name} out of order.`, `${name} en service réduit.`, `${name} working with restrictions.`];
  return words && !plain.includes(words) ? words : "";
}

export function outageItem(e, lang, now = new Date()) {
  const words = ownWords(e, lang);
  return `<li class="outage${e.overdue ? " overdue" : ""}" data-equipment="${esc(e.equipment_id)}">`
    + `<strong>${esc(outageLine(e, lang, now))}</strong>`
    + (words ? `<p>${esc(words)}</p>` : "")
    + "</li>";
}

/** Step-free access now in words, with its pill style: a "yes" resting on a typical profile
 * (``accessibility.estimated``) with no outage is said to be unconfirmed, never "possible". */
export function stepFreeWords(access, down, lang) {
  const t = EQUIPMENT_TEXT[lang];
  const step = access?.step_free_access || "unknown";
  if (step === "yes" && access?.estimated && !down.length) {
    return { step, style: "off", text: t.stepFreeUnconfirmed };
  }
  return { step, style: { yes: "ok", no: "alert", unknown: "off" }[step], text: t.stepFree[step] };
}

/** The catalogue's accessibility features the live status contradicts now: the lift (and the
 * escalator) while one is out of order, wheelchair access and the step-free entrance while there
 * is no step-free route. */
export function notNowFeatures(status) {
  const down = outagesOf(status).filter((e) => e.status === "out_of_service");
  const out = new Set();
  if (down.some((e) => e.kind === "lift")) out.add("elevator");
  if (status?.accessibility?.step_free_access === "no") {
    out.add("wheelchair_accessible");
    out.add("step_free_entrance");
  }
  return out;
}

/** The card's block: step-free access now and each outage (nothing when nothing is known). */
export function equipmentBlock(status, lang, now = new Date()) {
  const access = status?.accessibility;
  if (!access) return "";
  const t = EQUIPMENT_TEXT[lang];
  const down = outagesOf(status);
  const { step, style, text } = stepFreeWords(access, down, lang);
  if (!down.length && step === "unknown") return "";
  const estimated = access.estimated || down.some((e) => e.estimated) ? ` <span class="tag est">${t.estimated}</span>` : "";
  const list = down.length ? `<ul>${down.map((e) => outageItem(e, lang, now)).join("")}</ul>` : "";
  return `<section class="equipment" aria-label="${t.title}" data-step-free="${esc(step)}"><h3>${t.title}</h3>`
    + `<p class="row"><span class="pill ${style}">${text}</span>${estimated}</p>${list}</section>`;
}

/** The words of the « prévenez-moi » button of one equipment. */
export function notifyWords(e, lang) {
  const t = EQUIPMENT_TEXT[lang];
  return e.kind === "lift" ? t.notify.lift : t.notify.other(inLang(e.name, lang) || e.equipment_id);
}
