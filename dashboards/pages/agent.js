// Agent console: sign in with a token, pick one of my facilities, declare / update / end a closure
// in three taps (reason → expected reopening → publish). Reopening times are absolute (« ce soir
// à la fermeture », « demain à l'ouverture » from the facility's own hours, or a date and time in
// Paris time) or relative (« dans 1 h »); the summary above the preview says the full date. Dates
// are checked before sending (reopening after the start, not past, at most a year), API errors are
// shown in the page's language, and after publishing the whole form starts again from scratch.
// Keyboard first: native buttons and fields only, focus moved to what comes next, results
// announced in a status region.
import { LiveClient, TEXT, escapeHtml, fmtTime, localized, scopeLabel } from "/embed/card.js";

const app = document.getElementById("agent-app");
const lang = app.dataset.lang === "en" ? "en" : "fr";
const local = app.dataset.local === "true";
const HOURS = JSON.parse(document.getElementById("agent-hours")?.textContent || "{}");
const TOKEN_KEY = "paris-live-agent-token";
const PARIS = "Europe/Paris";
const YEAR = 366 * 864e5;
const W = {
  fr: {
    title: "Console agents : fermetures exceptionnelles", signin: "Connexion", token: "Jeton d'agent",
    signinBtn: "Se connecter", signout: "Se déconnecter",
    devHint: "En local, obtenez un jeton avec", mine: "Mes équipements", none: "Aucun équipement associé à ce jeton.",
    declare: "Déclarer une fermeture", step1: "1. Motif", step2: "2. Réouverture prévue", step3: "3. Publier",
    scope: "Ce qui est fermé", whole: "Tout l'équipement", message: "Message au public (français)",
    messageEn: "Message en anglais (facultatif)", publish: "Publier la fermeture", preview: "Aperçu de la fiche publique",
    quick: "Choix rapides", exact: "Date et heure précises (heure de Paris)", date: "Date de réouverture", time: "Heure de réouverture",
    start: "Début de la fermeture (heure de Paris, vide : maintenant)", startDate: "Date de début", startTime: "Heure de début",
    inH: (h) => (h < 1 ? `Dans ${h * 60} min` : `Dans ${h} h`), unknown: "Réouverture inconnue",
    tonight: (t) => `Ce soir à la fermeture (${t})`, todayClose: (t) => `Aujourd'hui à la fermeture (${t})`,
    todayOpen: (t) => `Aujourd'hui à l'ouverture (${t})`, tomorrowOpen: (t) => `Demain à l'ouverture (${t})`,
    nextOpen: (d, t) => `À l'ouverture du ${d} (${t})`,
    tonightAt: (t) => `Ce soir à ${t}`, tomorrowAt: (t) => `Demain à ${t}`,
    sending: "Envoi…", waiting: "Enregistrée. En attente de l'affichage sur la fiche publique…",
    shown: (t) => `Visible sur la fiche publique depuis ${t}.`, ended: (t) => `Fin de fermeture visible sur la fiche publique depuis ${t}.`,
    updated: (t) => `Mise à jour visible sur la fiche publique depuis ${t}.`,
    reset: "Le formulaire est prêt pour une nouvelle déclaration.",
    active: "Fermetures en cours", noActive: "Aucune fermeture en cours.", end: "Terminer la fermeture",
    newEta: "Nouvelle heure de réouverture", signedAs: (s, r) => `Connecté : ${s} (${r})`,
    summary: (what, why, from, until) => `${what} — ${why} : fermé ${from}, ${until}.`,
    fromNow: "dès maintenant", fromAt: (d) => `à partir du ${d}`,
    until: (d) => `jusqu'au ${d}`, untilUnknown: "réouverture non connue pour l'instant",
    day: (weekday, day, month) => `${weekday} ${day} ${month}`, at: (d, t) => `${d} à ${t}`,
    hm: (h, m) => `${h} h ${m}`,
    errors: {
      401: "Jeton absent, expiré ou invalide : reconnectez-vous.", 403: "Ce jeton ne permet pas d'agir sur cet équipement.",
      404: "Équipement ou fermeture introuvable.", 409: "Cette fermeture est déjà terminée.",
      422: "Informations invalides : vérifiez les dates, les heures et le message.", 429: "Trop de requêtes, réessayez dans quelques secondes.",
      other: "Le service ne répond pas, réessayez.",
    },
    codes: {
      closure_ended: "Cette fermeture est déjà terminée.", unknown_closure: "Cette fermeture n'existe plus.",
      unknown_facility: "Équipement inconnu.", too_many_closures: "Trop de fermetures en cours pour cet équipement : terminez-en une d'abord.",
      unavailable: "Service momentanément indisponible, réessayez dans un instant.",
    },
    check: {
      reason: "Choisissez d'abord un motif.", incomplete: "Date ou heure incomplète : indiquez la date et l'heure.",
      past: "La réouverture prévue est déjà passée : choisissez une heure à venir.",
      beforeStart: "La réouverture prévue doit suivre le début de la fermeture.",
      oldStart: "Le début ne peut précéder maintenant de plus de 24 h.", farStart: "Début trop lointain (1 an au plus).",
      farEta: "Réouverture prévue trop lointaine (1 an au plus après le début).",
    },
    tplReopen: (t) => `Réouverture prévue à ${t}.`, tplReopenOn: (d, t) => `Réouverture prévue le ${d} à ${t}.`,
    tplUnknown: "Date de réouverture non connue pour l'instant.",
  },
  en: {
    title: "Staff console: exceptional closures", signin: "Sign in", token: "Staff token",
    signinBtn: "Sign in", signout: "Sign out",
    devHint: "Locally, get a token with", mine: "My facilities", none: "No facility for this token.",
    declare: "Declare a closure", step1: "1. Reason", step2: "2. Expected reopening", step3: "3. Publish",
    scope: "What is closed", whole: "Whole facility", message: "Message to the public (French)",
    messageEn: "Message in English (optional)", publish: "Publish the closure", preview: "Preview of the public card",
    quick: "Quick choices", exact: "Exact date and time (Paris time)", date: "Reopening date", time: "Reopening time",
    start: "Start of the closure (Paris time, empty: now)", startDate: "Start date", startTime: "Start time",
    inH: (h) => (h < 1 ? `In ${h * 60} min` : `In ${h} h`), unknown: "Reopening unknown",
    tonight: (t) => `Tonight at closing time (${t})`, todayClose: (t) => `Today at closing time (${t})`,
    todayOpen: (t) => `Today at opening time (${t})`, tomorrowOpen: (t) => `Tomorrow at opening time (${t})`,
    nextOpen: (d, t) => `At opening time on ${d} (${t})`,
    tonightAt: (t) => `Tonight at ${t}`, tomorrowAt: (t) => `Tomorrow at ${t}`,
    sending: "Sending…", waiting: "Saved. Waiting for the public card to show it…",
    shown: (t) => `Shown on the public card since ${t}.`, ended: (t) => `End of closure shown on the public card since ${t}.`,
    updated: (t) => `Update shown on the public card since ${t}.`,
    reset: "The form is ready for a new declaration.",
    active: "Current closures", noActive: "No current closure.", end: "End the closure",
    newEta: "New reopening time", signedAs: (s, r) => `Signed in: ${s} (${r})`,
    summary: (what, why, from, until) => `${what} — ${why}: closed ${from}, ${until}.`,
    fromNow: "from now", fromAt: (d) => `from ${d}`,
    until: (d) => `until ${d}`, untilUnknown: "reopening not known yet",
    day: (weekday, day, month) => `${weekday} ${day} ${month}`, at: (d, t) => `${d} at ${t}`,
    hm: (h, m) => `${h}:${m}`,
    errors: {
      401: "Missing, expired or invalid token: sign in again.", 403: "This token may not act on this facility.",
      404: "Facility or closure not found.", 409: "This closure has already ended.",
      422: "Invalid information: check the dates, times and message.", 429: "Too many requests, try again in a few seconds.",
      other: "The service does not answer, try again.",
    },
    codes: {
      closure_ended: "This closure has already ended.", unknown_closure: "This closure no longer exists.",
      unknown_facility: "Unknown facility.", too_many_closures: "Too many closures in force for this facility: end one first.",
      unavailable: "Service temporarily unavailable, try again in a moment.",
    },
    check: {
      reason: "Choose a reason first.", incomplete: "Incomplete date or time: give both the date and the time.",
      past: "The expected reopening time has already passed: choose a time ahead.",
      beforeStart: "The expected reopening must come after the start of the closure.",
      oldStart: "The start cannot be more than 24 hours ago.", farStart: "The start is too far ahead (one year at most).",
      farEta: "The expected reopening is too far ahead (one year after the start at most).",
    },
    tplReopen: (t) => `Expected to reopen at ${t}.`, tplReopenOn: (d, t) => `Expected to reopen on ${d} at ${t}.`,
    tplUnknown: "Reopening time not known yet.",
  },
};
const L = W[lang];
const RELATIVE = [1, 2];

let token = sessionStorage.getItem(TOKEN_KEY);
let me = null;
let templates = [];
let facility = null; // FacilityRef from /v1/me
let detail = null; // GET /v1/facilities/{id}
let draft = null;
let presets = [];
let watch = null; // {kind, closureId, done(status) → bool}
const live = LiveClient.for("/");

// ── Paris time ────────────────────────────────────────────────────────────────────────────────
const partsFmt = new Intl.DateTimeFormat("en-GB", {
  timeZone: PARIS, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", weekday: "long",
});
function paris(date) {
  const p = Object.fromEntries(partsFmt.formatToParts(date).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}`, y: +p.year, mo: +p.month, d: +p.day, h: +p.hour, mi: +p.minute };
}
/** The instant the Paris wall clock shows `date` ("YYYY-MM-DD") at `time` ("HH:MM", "24:00"). */
function parisInstant(date, time) {
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let at = wall;
  for (let i = 0; i < 3; i++) { // offset of Paris at the guess, twice: DST-correct
    const p = paris(new Date(at));
    at = wall - (Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi) - at);
  }
  return new Date(at);
}
function addDays(date, n) {
  const [y, mo, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, mo - 1, d + n)).toISOString().slice(0, 10);
}
const dayFmt = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: PARIS, weekday: "long", day: "numeric", month: "long" });
function hm(date) { const p = paris(date); return L.hm(String(p.h), String(p.mi).padStart(2, "0")); }
/** « jeudi 3 décembre à 14 h 00 » / « Thursday 3 December at 14:00 ». */
function fullDate(date) { return L.at(dayFmt.format(date), hm(date)); }

// ── API ───────────────────────────────────────────────────────────────────────────────────────
class ApiFailure extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, { method = "GET", body, key } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiFailure(0, "network", "");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiFailure(response.status, data?.error?.code || "", data?.error?.message || "");
  return data;
}

/** The page-language half of the API's « français / English » message, when it has exactly one. */
function halfOf(message) {
  const halves = String(message || "").split(" / ");
  return halves.length === 2 ? halves[lang === "en" ? 1 : 0].trim() : null;
}

/** What to tell the agent about an API error, in the page's language (never the raw message). */
function explain(error) {
  if (L.codes[error.code]) return L.codes[error.code];
  if (error.code === "invalid_closure") {
    const half = halfOf(error.message);
    if (half) return `${half.replace(/\s*\([a-z_.]+\)/g, "").replace(/[.\s]+$/, "")}.`; // field names are for API users
  }
  return L.errors[error.status] || L.errors.other;
}

function say(text, tone = "pending") {
  const box = document.getElementById("confirm");
  box.className = `confirm ${tone}`;
  box.textContent = text;
  box.hidden = false;
}

// ── Sign in ───────────────────────────────────────────────────────────────────────────────────
function showSignin(message = "") {
  me = null;
  app.innerHTML = `<h1>${L.title}</h1><section class="panel" aria-labelledby="h-signin"><h2 id="h-signin">${L.signin}</h2>
    <form id="signin"><p class="field-row"><label for="token">${L.token}</label><textarea id="token" name="token" required autocomplete="off" spellcheck="false" ${message ? 'aria-describedby="signin-error"' : ""}></textarea></p>
    ${message ? `<p id="signin-error" class="confirm failed" role="alert">${escapeHtml(message)}</p>` : ""}
    ${local ? `<p class="hint">${L.devHint} <code>paris-live token --agent agent-1 --facility piscine-pontoise</code></p>` : ""}
    <p><button type="submit">${L.signinBtn}</button></p></form></section>`;
  document.getElementById("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    token = document.getElementById("token").value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    start();
  });
  document.getElementById("token").focus();
}

async function start() {
  if (!token) { showSignin(); return; }
  try {
    [me, templates] = await Promise.all([api("/v1/me"), api("/v1/closure-templates").then((p) => p.items)]);
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    showSignin(explain(error));
    return;
  }
  showConsole();
}

// ── Console ───────────────────────────────────────────────────────────────────────────────────
function showConsole() {
  app.innerHTML = `<h1>${L.title}</h1>
    <p class="row">${escapeHtml(L.signedAs(me.subject, me.role))} <button type="button" id="signout" class="secondary">${L.signout}</button></p>
    <section class="panel" aria-labelledby="h-mine"><h2 id="h-mine" tabindex="-1">${L.mine}</h2>
      ${me.facilities.length ? `<ul class="choices" id="mine">${me.facilities.map((f) => `<li><button type="button" data-id="${escapeHtml(f.id)}" aria-pressed="false">${escapeHtml(f.name)}</button></li>`).join("")}</ul>` : `<p>${L.none}</p>`}
    </section>
    <div id="work"></div>`;
  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY); token = null; showSignin();
  });
  document.getElementById("mine")?.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-id]");
    if (button) choose(button.dataset.id);
  });
  if (me.facilities.length === 1) choose(me.facilities[0].id);
  else document.getElementById("h-mine").focus();
}

async function choose(id, moveFocus = true) {
  facility = me.facilities.find((f) => f.id === id);
  document.querySelectorAll("#mine button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.id === id)));
  const response = await fetch(`/v1/facilities/${encodeURIComponent(id)}`);
  detail = response.ok ? await response.json() : null;
  newDraft();
  renderWork();
  live.follow([id]);
  if (moveFocus) document.querySelector("#reasons button")?.focus();
}

function newDraft() {
  draft = { reason: null, eta: undefined, start: null, scope: { kind: "facility" }, message: null, messageEn: null, key: crypto.randomUUID() };
}

function current() {
  return live.statuses.get(facility.id) || detail || null;
}

/** Absolute reopening choices from the facility's hours (today's closing, the next opening), or
 * plain ones (tonight 20:00, tomorrow 09:00) when its hours are unknown. */
function absolutePresets(now = new Date()) {
  const today = paris(now).date;
  const days = HOURS.days?.[facility.id];
  const out = [];
  if (days && HOURS.from) {
    const offset = Math.round((Date.parse(today) - Date.parse(HOURS.from)) / 864e5);
    const dayAt = (i) => (i + offset >= 0 && i + offset < days.length ? days[i + offset] : null);
    const todays = dayAt(0);
    if (todays) {
      const closes = parisInstant(today, todays[1]);
      if (closes > now) out.push({ at: closes, label: (todays[1] >= "17:00" ? L.tonight : L.todayClose)(hm(closes)) });
      const opens = parisInstant(today, todays[0]);
      if (opens > now) out.push({ at: opens, label: L.todayOpen(hm(opens)) });
    }
    for (let i = 1; i < days.length - offset; i++) {
      const d = dayAt(i);
      if (!d) continue;
      const date = addDays(today, i);
      const opens = parisInstant(date, d[0]);
      out.push({ at: opens, label: i === 1 ? L.tomorrowOpen(hm(opens)) : L.nextOpen(dayFmt.format(opens), hm(opens)) });
      break;
    }
  }
  if (!out.length) {
    const tonight = parisInstant(today, "20:00");
    if (tonight > now) out.push({ at: tonight, label: L.tonightAt(hm(tonight)) });
    const tomorrow = parisInstant(addDays(today, 1), "09:00");
    out.push({ at: tomorrow, label: L.tomorrowAt(hm(tomorrow)) });
  }
  return out;
}

/** The reopening chosen: a Date, null (unknown) or undefined (nothing chosen: unknown too). */
function etaDate() {
  if (draft.eta instanceof Date) return draft.eta;
  if (typeof draft.eta === "number") return new Date(Date.now() + draft.eta * 3600e3);
  return null; // unknown, nothing chosen yet, or an incomplete date (refused when publishing)
}

function startDate() {
  return draft.start instanceof Date ? draft.start : null;
}

function templated(reason, l) {
  const template = templates.find((t) => t.reason === reason)?.template;
  if (!template) return "";
  const scope = draft.scope;
  const what = scope.kind === "area" ? scope.name
    : scope.kind === "service" ? localized(facility.services.find((s) => s.service_id === scope.service_id)?.name, l)
      : facility.name;
  const eta = etaDate();
  const words = W[l];
  let reopening = words.tplUnknown;
  if (eta) { // as the API words it (api/templates.py): the time today, day/month and time otherwise
    const at = paris(eta);
    const time = at.time;
    reopening = at.date === paris(new Date()).date ? words.tplReopen(time) : words.tplReopenOn(`${String(at.d).padStart(2, "0")}/${String(at.mo).padStart(2, "0")}`, time);
  }
  return localized(template, l).replace("{what}", what).replace("{reopening}", ` ${reopening}`);
}

function previewStatus() {
  const base = current();
  if (!base || !draft.reason) return base;
  const now = new Date().toISOString();
  const eta = etaDate();
  const closure = {
    closure_id: "preview", scope: draft.scope, reason: draft.reason,
    message: { fr: draft.message ?? templated(draft.reason, "fr"), en: draft.messageEn ?? templated(draft.reason, "en") },
    starts_at: startDate()?.toISOString() || now, expected_reopening_at: eta ? eta.toISOString() : null,
    declared_by: me.role, declared_at: now, overdue: false,
  };
  const state = draft.scope.kind === "facility" ? "exceptionally_closed" : "partially_closed";
  return { ...base, live: true, stale: false, updated_at: now, open_state: state, closures: [...(base.closures || []), closure] };
}

function summaryText() {
  if (!draft.reason) return "";
  const why = localized(templates.find((t) => t.reason === draft.reason)?.label, lang) || draft.reason;
  const what = scopeLabel(draft.scope, detail?.catalogue, lang);
  const start = startDate();
  const eta = etaDate();
  return L.summary(what, why, start ? L.fromAt(fullDate(start)) : L.fromNow, eta ? L.until(fullDate(eta)) : L.untilUnknown);
}

function renderWork() {
  const work = document.getElementById("work");
  const areas = facility.areas.map((a) => ({ kind: "area", name: a, label: a }));
  const services = facility.services.map((s) => ({ kind: "service", service_id: s.service_id, label: localized(s.name, lang) }));
  const scopes = [{ kind: "facility", label: L.whole }, ...areas, ...services];
  presets = absolutePresets();
  work.innerHTML = `<div class="agent-grid">
    <section class="panel" aria-labelledby="h-declare"><h2 id="h-declare">${L.declare} — ${escapeHtml(facility.name)}</h2>
      <form id="declare" class="steps" novalidate>
        <fieldset><legend>${L.step1}</legend><ul class="choices" id="reasons">${templates.map((t) => `<li><button type="button" data-reason="${t.reason}" aria-pressed="false">${escapeHtml(localized(t.label, lang))}</button></li>`).join("")}</ul></fieldset>
        <fieldset><legend>${L.step2}</legend>
          <p class="group-label" id="quick-label">${L.quick}</p>
          <ul class="choices" id="etas" aria-labelledby="quick-label">${presets.map((p, i) => `<li><button type="button" data-preset="${i}" aria-pressed="false">${escapeHtml(p.label)}</button></li>`).join("")}${RELATIVE.map((h) => `<li><button type="button" data-eta="${h}" aria-pressed="false">${L.inH(h)}</button></li>`).join("")}<li><button type="button" data-eta="none" aria-pressed="false">${L.unknown}</button></li></ul>
          <fieldset class="when" id="eta-exact"><legend class="group-label">${L.exact}</legend>
            <p><label for="eta-date">${L.date}</label><input id="eta-date" type="date" aria-describedby="eta-error"></p>
            <p><label for="eta-time">${L.time}</label><input id="eta-time" type="time" step="300" aria-describedby="eta-error"></p>
            <p class="field-error" id="eta-error" hidden></p></fieldset>
          <fieldset class="when" id="start-exact"><legend class="group-label">${L.start}</legend>
            <p><label for="start-date">${L.startDate}</label><input id="start-date" type="date" aria-describedby="start-error"></p>
            <p><label for="start-time">${L.startTime}</label><input id="start-time" type="time" step="300" aria-describedby="start-error"></p>
            <p class="field-error" id="start-error" hidden></p></fieldset></fieldset>
        <fieldset><legend>${L.scope}</legend><ul class="choices" id="scopes">${scopes.map((s, i) => `<li><button type="button" data-scope="${i}" aria-pressed="${i === 0}">${escapeHtml(s.label)}</button></li>`).join("")}</ul>
          <p class="field-row"><label for="msg">${L.message}</label><textarea id="msg" maxlength="500"></textarea></p>
          <p class="field-row"><label for="msg-en">${L.messageEn}</label><textarea id="msg-en" maxlength="500" lang="en"></textarea></p></fieldset>
        <fieldset><legend>${L.step3}</legend><p><button type="submit" id="publish">${L.publish}</button></p></fieldset>
      </form>
      <p id="confirm" class="confirm" role="status" tabindex="-1" hidden></p>
      <h2>${L.active}</h2><ul class="active-closures" id="active"></ul>
    </section>
    <section class="panel" aria-labelledby="h-preview"><h2 id="h-preview">${L.preview}</h2>
      <p class="summary" id="summary" hidden></p>
      <paris-facility-card id="preview" static lang="${lang}"></paris-facility-card></section>
  </div>`;
  const form = document.getElementById("declare");
  const press = (list, button) => list.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  const showEta = () => { // the exact date and time always say what is chosen
    const eta = etaDate();
    const at = eta ? paris(eta) : null;
    document.getElementById("eta-date").value = at ? at.date : paris(new Date()).date;
    document.getElementById("eta-time").value = at ? at.time : "";
    markInvalid(false);
  };
  document.getElementById("reasons").addEventListener("click", (event) => {
    const b = event.target.closest("button"); if (!b) return;
    draft.reason = b.dataset.reason; press(event.currentTarget, b); refresh();
    document.querySelector("#etas button")?.focus();
  });
  document.getElementById("etas").addEventListener("click", (event) => {
    const b = event.target.closest("button"); if (!b) return;
    if (b.dataset.preset !== undefined) draft.eta = presets[Number(b.dataset.preset)].at;
    else draft.eta = b.dataset.eta === "none" ? null : Number(b.dataset.eta);
    press(event.currentTarget, b); showEta(); refresh();
    document.getElementById("publish").focus();
  });
  const exact = () => {
    const date = document.getElementById("eta-date").value;
    const time = document.getElementById("eta-time").value;
    // the date is prefilled: without a time nothing is chosen; a time without a date is incomplete
    draft.eta = !time ? undefined : date ? parisInstant(date, time) : "incomplete";
    press(document.getElementById("etas"), null); markInvalid(false); refresh();
  };
  document.getElementById("eta-date").addEventListener("change", exact);
  document.getElementById("eta-time").addEventListener("change", exact);
  const startChanged = () => {
    const date = document.getElementById("start-date").value;
    const time = document.getElementById("start-time").value;
    draft.start = date && time ? parisInstant(date, time) : date || time ? "incomplete" : null;
    markInvalid(false); refresh();
  };
  document.getElementById("start-date").addEventListener("change", startChanged);
  document.getElementById("start-time").addEventListener("change", startChanged);
  document.getElementById("scopes").addEventListener("click", (event) => {
    const b = event.target.closest("button"); if (!b) return;
    const { label, ...scope } = scopes[Number(b.dataset.scope)];
    draft.scope = scope; press(event.currentTarget, b); refresh();
  });
  document.getElementById("msg").addEventListener("input", (event) => { draft.message = event.target.value; renderPreview(); });
  document.getElementById("msg-en").addEventListener("input", (event) => { draft.messageEn = event.target.value; renderPreview(); });
  form.addEventListener("submit", (event) => { event.preventDefault(); publish(); });
  document.getElementById("active").addEventListener("click", onActive);
  document.getElementById("preview").catalogue = detail?.catalogue || null;
  prefill();
  renderPreview();
  renderActive();
}

/** Today's Paris date in the reopening date (the agent types the time only); no past dates. */
function prefill() {
  const today = paris(new Date()).date;
  document.getElementById("eta-date").value = today;
  for (const id of ["eta-date", "start-date"]) document.getElementById(id).min = paris(new Date(Date.now() - 864e5)).date;
}

/** The messages follow the choices until the agent writes their own; the preview follows. */
function refresh() {
  if (draft.message === null) document.getElementById("msg").value = draft.reason ? templated(draft.reason, "fr") : "";
  if (draft.messageEn === null) document.getElementById("msg-en").value = draft.reason ? templated(draft.reason, "en") : "";
  renderPreview();
}

/** After publishing: every choice back to its start (no reason, no reopening, whole facility,
 * templated messages), ready for the next declaration. */
function resetForm() {
  newDraft();
  document.querySelectorAll("#reasons button, #etas button").forEach((b) => b.setAttribute("aria-pressed", "false"));
  document.querySelectorAll("#scopes button").forEach((b, i) => b.setAttribute("aria-pressed", String(i === 0)));
  for (const id of ["eta-time", "start-date", "start-time"]) document.getElementById(id).value = "";
  prefill();
  markInvalid(false);
  refresh();
}

/** Marks the date fields of ``which`` ("eta", "start" or none) invalid, the reason beside them. */
function markInvalid(which, text = "") {
  for (const kind of ["eta", "start"]) {
    const box = document.getElementById(`${kind}-error`);
    if (!box) continue;
    box.textContent = kind === which ? text : "";
    box.hidden = kind !== which;
  }
  for (const id of ["eta-date", "eta-time", "start-date", "start-time"]) {
    const field = document.getElementById(id);
    if (!field) continue;
    if (which && id.startsWith(which)) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }
}

function renderPreview() {
  const card = document.getElementById("preview");
  if (card) card.preview = previewStatus();
  const summary = document.getElementById("summary");
  if (summary) {
    const incomplete = draft.eta === "incomplete" || draft.start === "incomplete";
    summary.textContent = incomplete ? "" : summaryText();
    summary.hidden = !summary.textContent;
  }
}

const lower = (text) => text.charAt(0).toLowerCase() + text.slice(1);

function renderActive() {
  const list = document.getElementById("active");
  if (!list) return;
  const closures = current()?.closures || [];
  list.innerHTML = closures.length ? closures.map((c) => `<li data-closure="${escapeHtml(c.closure_id)}">
      <strong>${escapeHtml(localized(templates.find((t) => t.reason === c.reason)?.label, lang) || TEXT[lang].reasons[c.reason] || c.reason)}</strong><span>${escapeHtml(localized(c.message, lang))}</span>
      <div class="actions" role="group" aria-label="${L.newEta}">${[...presets.map((p) => ({ at: p.at.toISOString(), label: p.label })), ...RELATIVE.map((h) => ({ hours: h, label: L.inH(h) }))].map((c) => `<button type="button" class="secondary" data-act="eta" ${c.at ? `data-at="${c.at}"` : `data-eta="${c.hours}"`}>${L.newEta} : ${escapeHtml(lower(c.label))}</button>`).join("")}
      <button type="button" class="danger" data-act="end">${L.end}</button></div></li>`).join("") : `<li class="none">${L.noActive}</li>`;
  list.querySelectorAll("li.none").forEach((li) => { li.style.background = "none"; li.style.borderLeft = "0"; });
}

/** The first problem of the chosen dates, checked as the API checks them (api/closures/rules.py). */
function dateProblem(now = new Date()) {
  if (draft.start === "incomplete") return ["start", L.check.incomplete];
  if (draft.eta === "incomplete") return ["eta", L.check.incomplete];
  const start = startDate() || now;
  const eta = etaDate();
  if (start < new Date(now.getTime() - 864e5)) return ["start", L.check.oldStart];
  if (start > new Date(now.getTime() + YEAR)) return ["start", L.check.farStart];
  if (eta) {
    if (startDate() && eta <= start) return ["eta", L.check.beforeStart];
    if (eta <= now) return ["eta", L.check.past];
    if (eta > new Date(start.getTime() + YEAR)) return ["eta", L.check.farEta];
  }
  return null;
}

async function publish() {
  if (!draft.reason) { say(L.check.reason, "failed"); document.querySelector("#reasons button")?.focus(); return; }
  const problem = dateProblem();
  if (problem) {
    say(problem[1], "failed");
    markInvalid(problem[0], problem[1]);
    document.getElementById(`${problem[0]}-date`).focus();
    return;
  }
  const eta = etaDate();
  const body = { reason: draft.reason, scope: draft.scope, expected_reopening_at: eta ? eta.toISOString() : null };
  if (startDate()) body.starts_at = startDate().toISOString();
  if (draft.message !== null || draft.messageEn !== null) {
    body.message = { fr: (draft.message ?? templated(draft.reason, "fr")).trim() };
    const en = (draft.messageEn ?? templated(draft.reason, "en")).trim();
    if (en) body.message.en = en;
  }
  const button = document.getElementById("publish");
  button.disabled = true;
  say(L.sending);
  try {
    const closure = await api(`/v1/facilities/${encodeURIComponent(facility.id)}/closures`, { method: "POST", body, key: draft.key });
    resetForm();
    expect("declared", closure.closure_id, (s) => (s.closures || []).some((c) => c.closure_id === closure.closure_id));
  } catch (error) {
    if (error.status === 401) { showSignin(explain(error)); return; }
    if (error.status) draft.key = crypto.randomUUID(); // answered: the next try is a new request
    say(explain(error), "failed");
  } finally {
    button.disabled = false;
  }
  document.getElementById("confirm").focus();
}

async function onActive(event) {
  const b = event.target.closest("button[data-act]");
  if (!b) return;
  const id = b.closest("li").dataset.closure;
  b.disabled = true;
  say(L.sending);
  try {
    if (b.dataset.act === "end") {
      await api(`/v1/closures/${encodeURIComponent(id)}/end`, { method: "POST", body: {}, key: crypto.randomUUID() });
      expect("ended", id, (s) => !(s.closures || []).some((c) => c.closure_id === id));
    } else {
      const eta = b.dataset.at || new Date(Date.now() + Number(b.dataset.eta) * 3600e3).toISOString();
      await api(`/v1/closures/${encodeURIComponent(id)}`, { method: "PATCH", body: { expected_reopening_at: eta }, key: crypto.randomUUID() });
      expect("updated", id, (s) => (s.closures || []).some((c) => c.closure_id === id && c.expected_reopening_at && Math.abs(new Date(c.expected_reopening_at) - new Date(eta)) < 61000));
    }
  } catch (error) {
    if (error.status === 401) { showSignin(explain(error)); return; }
    say(explain(error), "failed");
    b.disabled = false;
  }
  document.getElementById("confirm").focus();
}

function expect(kind, closureId, done) {
  watch = { kind, closureId, done };
  say(kind === "declared" ? `${L.waiting} ${L.reset}` : L.waiting, "pending");
  check(current());
}

function check(status) {
  if (!watch || !status || status.facility_id !== facility?.id || !watch.done(status)) return;
  const at = fmtTime(new Date().toISOString(), lang);
  const text = watch.kind === "declared" ? `${L.shown(at)} ${L.reset}` : watch.kind === "ended" ? L.ended(at) : L.updated(at);
  say(text, "done");
  watch = null;
}

live.addEventListener("status", (event) => {
  if (!facility || event.detail.facility_id !== facility.id) return;
  check(event.detail);
  renderActive();
  renderPreview();
});

start();
