// Agent console: sign in with a token, pick one of my facilities, declare / update / end a closure
// in three taps (reason template → expected reopening → publish), see a preview of the public card,
// then a live confirmation once the public status carries the change. Keyboard first: native
// buttons and fields only, focus moved to what comes next, results announced in a status region.
import { LiveClient, TEXT, escapeHtml, fmtTime, localized } from "/embed/card.js";

const app = document.getElementById("agent-app");
const lang = app.dataset.lang === "en" ? "en" : "fr";
const local = app.dataset.local === "true";
const TOKEN_KEY = "paris-live-agent-token";
const W = {
  fr: {
    title: "Console agents : fermetures exceptionnelles", signin: "Connexion", token: "Jeton d'agent",
    signinBtn: "Se connecter", signout: "Se déconnecter",
    devHint: "En local, obtenez un jeton avec", mine: "Mes équipements", none: "Aucun équipement associé à ce jeton.",
    declare: "Déclarer une fermeture", step1: "1. Motif", step2: "2. Réouverture prévue", step3: "3. Publier",
    scope: "Ce qui est fermé", whole: "Tout l'équipement", message: "Message au public (français)",
    messageEn: "Message en anglais (facultatif)", publish: "Publier la fermeture", preview: "Aperçu de la fiche publique",
    inH: (h) => (h < 1 ? `Dans ${h * 60} min` : `Dans ${h} h`), unknown: "Inconnue", other: "Autre date et heure",
    sending: "Envoi…", waiting: "Enregistrée. En attente de l'affichage sur la fiche publique…",
    shown: (t) => `Visible sur la fiche publique depuis ${t}.`, ended: (t) => `Fin de fermeture visible sur la fiche publique depuis ${t}.`,
    updated: (t) => `Mise à jour visible sur la fiche publique depuis ${t}.`,
    active: "Fermetures en cours", noActive: "Aucune fermeture en cours.", end: "Terminer la fermeture",
    newEta: "Nouvelle heure de réouverture", signedAs: (s, r) => `Connecté : ${s} (${r})`,
    errors: { 401: "Jeton absent, expiré ou invalide : reconnectez-vous.", 403: "Ce jeton ne permet pas d'agir sur cet équipement.", 409: "Cette fermeture est déjà terminée.", 422: "Informations invalides : ", 429: "Trop de requêtes, réessayez dans quelques secondes.", other: "Le service ne répond pas, réessayez." },
    reopen: (t) => `Réouverture prévue à ${t}.`, reopenUnknown: "Date de réouverture non connue pour l'instant.",
    choose: "Choisir", reasonFirst: "Choisissez d'abord un motif.",
  },
  en: {
    title: "Staff console: exceptional closures", signin: "Sign in", token: "Staff token",
    signinBtn: "Sign in", signout: "Sign out",
    devHint: "Locally, get a token with", mine: "My facilities", none: "No facility for this token.",
    declare: "Declare a closure", step1: "1. Reason", step2: "2. Expected reopening", step3: "3. Publish",
    scope: "What is closed", whole: "Whole facility", message: "Message to the public (French)",
    messageEn: "Message in English (optional)", publish: "Publish the closure", preview: "Preview of the public card",
    inH: (h) => (h < 1 ? `In ${h * 60} min` : `In ${h} h`), unknown: "Unknown", other: "Other date and time",
    sending: "Sending…", waiting: "Saved. Waiting for the public card to show it…",
    shown: (t) => `Shown on the public card since ${t}.`, ended: (t) => `End of closure shown on the public card since ${t}.`,
    updated: (t) => `Update shown on the public card since ${t}.`,
    active: "Current closures", noActive: "No current closure.", end: "End the closure",
    newEta: "New reopening time", signedAs: (s, r) => `Signed in: ${s} (${r})`,
    errors: { 401: "Missing, expired or invalid token: sign in again.", 403: "This token may not act on this facility.", 409: "This closure has already ended.", 422: "Invalid information: ", 429: "Too many requests, try again in a few seconds.", other: "The service does not answer, try again." },
    reopen: (t) => `Expected to reopen at ${t}.`, reopenUnknown: "Reopening time not known yet.",
    choose: "Choose", reasonFirst: "Choose a reason first.",
  },
}[lang];
const ETAS = [0.5, 1, 2, 4];

let token = sessionStorage.getItem(TOKEN_KEY);
let me = null;
let templates = [];
let facility = null; // FacilityRef from /v1/me
let detail = null; // GET /v1/facilities/{id}
let draft = null;
let watch = null; // {kind, closureId, done(status) → bool}
const live = LiveClient.for("/");

class ApiFailure extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, { method = "GET", body, key } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiFailure(response.status, data?.error?.message || "");
  return data;
}

function explain(error) {
  const text = W.errors[error.status] || W.errors.other;
  return error.status === 422 ? text + error.message : text;
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
  app.innerHTML = `<h1>${W.title}</h1><section class="panel" aria-labelledby="h-signin"><h2 id="h-signin">${W.signin}</h2>
    <form id="signin"><p class="field-row"><label for="token">${W.token}</label><textarea id="token" name="token" required autocomplete="off" spellcheck="false" ${message ? 'aria-describedby="signin-error"' : ""}></textarea></p>
    ${message ? `<p id="signin-error" class="confirm failed" role="alert">${escapeHtml(message)}</p>` : ""}
    ${local ? `<p class="hint">${W.devHint} <code>paris-live token --agent agent-1 --facility piscine-pontoise</code></p>` : ""}
    <p><button type="submit">${W.signinBtn}</button></p></form></section>`;
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
  app.innerHTML = `<h1>${W.title}</h1>
    <p class="row">${escapeHtml(W.signedAs(me.subject, me.role))} <button type="button" id="signout" class="secondary">${W.signout}</button></p>
    <section class="panel" aria-labelledby="h-mine"><h2 id="h-mine" tabindex="-1">${W.mine}</h2>
      ${me.facilities.length ? `<ul class="choices" id="mine">${me.facilities.map((f) => `<li><button type="button" data-id="${escapeHtml(f.id)}" aria-pressed="false">${escapeHtml(f.name)}</button></li>`).join("")}</ul>` : `<p>${W.none}</p>`}
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
  draft = { reason: null, eta: undefined, scope: { kind: "facility" }, message: null, messageEn: null, key: crypto.randomUUID() };
}

function current() {
  return live.statuses.get(facility.id) || detail || null;
}

function etaDate() {
  if (draft.eta === null || draft.eta === undefined) return null;
  return draft.eta instanceof Date ? draft.eta : new Date(Date.now() + draft.eta * 3600e3);
}

function templated(reason, l) {
  const template = templates.find((t) => t.reason === reason)?.template;
  if (!template) return "";
  const scope = draft.scope;
  const what = scope.kind === "area" ? scope.name
    : scope.kind === "service" ? localized(facility.services.find((s) => s.service_id === scope.service_id)?.name, l)
      : facility.name;
  const eta = etaDate();
  const words = l === "en" ? { reopen: (t) => `Expected to reopen at ${t}.`, unknown: "Reopening time not known yet." } : { reopen: (t) => `Réouverture prévue à ${t}.`, unknown: "Date de réouverture non connue pour l'instant." };
  const reopening = eta ? words.reopen(fmtTime(eta.toISOString(), l)) : words.unknown;
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
    starts_at: now, expected_reopening_at: eta ? eta.toISOString() : null, declared_by: me.role, declared_at: now, overdue: false,
  };
  const state = draft.scope.kind === "facility" ? "exceptionally_closed" : "partially_closed";
  return { ...base, live: true, stale: false, updated_at: now, open_state: state, closures: [...(base.closures || []), closure] };
}

function renderWork() {
  const work = document.getElementById("work");
  const areas = facility.areas.map((a) => ({ kind: "area", name: a, label: a }));
  const services = facility.services.map((s) => ({ kind: "service", service_id: s.service_id, label: localized(s.name, lang) }));
  const scopes = [{ kind: "facility", label: W.whole }, ...areas, ...services];
  work.innerHTML = `<div class="agent-grid">
    <section class="panel" aria-labelledby="h-declare"><h2 id="h-declare">${W.declare} — ${escapeHtml(facility.name)}</h2>
      <form id="declare" class="steps" novalidate>
        <fieldset><legend>${W.step1}</legend><ul class="choices" id="reasons">${templates.map((t) => `<li><button type="button" data-reason="${t.reason}" aria-pressed="false">${escapeHtml(localized(t.label, lang))}</button></li>`).join("")}</ul></fieldset>
        <fieldset><legend>${W.step2}</legend><ul class="choices" id="etas">${ETAS.map((h) => `<li><button type="button" data-eta="${h}" aria-pressed="false">${W.inH(h)}</button></li>`).join("")}<li><button type="button" data-eta="none" aria-pressed="false">${W.unknown}</button></li></ul>
          <p class="field-row"><label for="eta-other">${W.other}</label><input id="eta-other" type="datetime-local"></p></fieldset>
        <fieldset><legend>${W.scope}</legend><ul class="choices" id="scopes">${scopes.map((s, i) => `<li><button type="button" data-scope="${i}" aria-pressed="${i === 0}">${escapeHtml(s.label)}</button></li>`).join("")}</ul>
          <p class="field-row"><label for="msg">${W.message}</label><textarea id="msg" maxlength="500"></textarea></p>
          <p class="field-row"><label for="msg-en">${W.messageEn}</label><textarea id="msg-en" maxlength="500" lang="en"></textarea></p></fieldset>
        <fieldset><legend>${W.step3}</legend><p><button type="submit" id="publish">${W.publish}</button></p></fieldset>
      </form>
      <p id="confirm" class="confirm" role="status" tabindex="-1" hidden></p>
      <h2>${W.active}</h2><ul class="active-closures" id="active"></ul>
    </section>
    <section class="panel" aria-labelledby="h-preview"><h2 id="h-preview">${W.preview}</h2><paris-facility-card id="preview" static lang="${lang}"></paris-facility-card></section>
  </div>`;
  const form = document.getElementById("declare");
  const press = (list, button) => list.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  const refreshMessage = () => {
    if (draft.message === null) document.getElementById("msg").value = draft.reason ? templated(draft.reason, "fr") : "";
    if (draft.messageEn === null) document.getElementById("msg-en").value = draft.reason ? templated(draft.reason, "en") : "";
    renderPreview();
  };
  document.getElementById("reasons").addEventListener("click", (event) => {
    const b = event.target.closest("button"); if (!b) return;
    draft.reason = b.dataset.reason; press(event.currentTarget, b); refreshMessage();
    document.querySelector("#etas button")?.focus();
  });
  document.getElementById("etas").addEventListener("click", (event) => {
    const b = event.target.closest("button"); if (!b) return;
    draft.eta = b.dataset.eta === "none" ? null : Number(b.dataset.eta); press(event.currentTarget, b); refreshMessage();
    document.getElementById("publish").focus();
  });
  document.getElementById("eta-other").addEventListener("change", (event) => {
    draft.eta = event.target.value ? new Date(event.target.value) : null; press(document.getElementById("etas"), null); refreshMessage();
  });
  document.getElementById("scopes").addEventListener("click", (event) => {
    const b = event.target.closest("button"); if (!b) return;
    const { label, ...scope } = scopes[Number(b.dataset.scope)];
    draft.scope = scope; press(event.currentTarget, b); refreshMessage();
  });
  document.getElementById("msg").addEventListener("input", (event) => { draft.message = event.target.value; renderPreview(); });
  document.getElementById("msg-en").addEventListener("input", (event) => { draft.messageEn = event.target.value; renderPreview(); });
  form.addEventListener("submit", (event) => { event.preventDefault(); publish(); });
  document.getElementById("active").addEventListener("click", onActive);
  document.getElementById("preview").catalogue = detail?.catalogue || null;
  renderPreview();
  renderActive();
}

function renderPreview() {
  const card = document.getElementById("preview");
  if (card) card.preview = previewStatus();
}

function renderActive() {
  const list = document.getElementById("active");
  if (!list) return;
  const closures = current()?.closures || [];
  list.innerHTML = closures.length ? closures.map((c) => `<li data-closure="${escapeHtml(c.closure_id)}">
      <strong>${escapeHtml(TEXT[lang].reasons[c.reason] || c.reason)}</strong><span>${escapeHtml(localized(c.message, lang))}</span>
      <div class="actions" role="group" aria-label="${W.newEta}">${ETAS.map((h) => `<button type="button" class="secondary" data-act="eta" data-eta="${h}">${W.newEta} : ${W.inH(h).toLowerCase()}</button>`).join("")}
      <button type="button" class="danger" data-act="end">${W.end}</button></div></li>`).join("") : `<li class="none">${W.noActive}</li>`;
  list.querySelectorAll("li.none").forEach((li) => { li.style.background = "none"; li.style.borderLeft = "0"; });
}

async function publish() {
  if (!draft.reason) { say(W.reasonFirst, "failed"); document.querySelector("#reasons button")?.focus(); return; }
  const eta = etaDate();
  const body = { reason: draft.reason, scope: draft.scope, expected_reopening_at: eta ? eta.toISOString() : null };
  if (draft.message !== null || draft.messageEn !== null) {
    body.message = { fr: (draft.message ?? templated(draft.reason, "fr")).trim() };
    const en = (draft.messageEn ?? templated(draft.reason, "en")).trim();
    if (en) body.message.en = en;
  }
  const button = document.getElementById("publish");
  button.disabled = true;
  say(W.sending);
  try {
    const closure = await api(`/v1/facilities/${encodeURIComponent(facility.id)}/closures`, { method: "POST", body, key: draft.key });
    expect("declared", closure.closure_id, (s) => (s.closures || []).some((c) => c.closure_id === closure.closure_id));
    newDraft();
  } catch (error) {
    say(explain(error), "failed");
    if (error.status === 401) { showSignin(explain(error)); return; }
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
  say(W.sending);
  try {
    if (b.dataset.act === "end") {
      await api(`/v1/closures/${encodeURIComponent(id)}/end`, { method: "POST", body: {}, key: crypto.randomUUID() });
      expect("ended", id, (s) => !(s.closures || []).some((c) => c.closure_id === id));
    } else {
      const eta = new Date(Date.now() + Number(b.dataset.eta) * 3600e3).toISOString();
      await api(`/v1/closures/${encodeURIComponent(id)}`, { method: "PATCH", body: { expected_reopening_at: eta }, key: crypto.randomUUID() });
      expect("updated", id, (s) => (s.closures || []).some((c) => c.closure_id === id && c.expected_reopening_at && Math.abs(new Date(c.expected_reopening_at) - new Date(eta)) < 61000));
    }
  } catch (error) {
    say(explain(error), "failed");
    b.disabled = false;
  }
  document.getElementById("confirm").focus();
}

function expect(kind, closureId, done) {
  watch = { kind, closureId, done };
  say(W.waiting, "pending");
  check(current());
}

function check(status) {
  if (!watch || !status || status.facility_id !== facility?.id || !watch.done(status)) return;
  const at = fmtTime(new Date().toISOString(), lang);
  say(watch.kind === "declared" ? W.shown(at) : watch.kind === "ended" ? W.ended(at) : W.updated(at), "done");
  watch = null;
}

live.addEventListener("status", (event) => {
  if (!facility || event.detail.facility_id !== facility.id) return;
  check(event.detail);
  renderActive();
  renderPreview();
});

start();
