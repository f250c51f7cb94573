// Operations dashboard. Problems first: the alerts GET /v1/ops/summary raises (a lagging stream
// worker with its consumer group, partition, seconds and events; Kafka away; new dead letters;
// overdue closures; stale sources), the partitions behind, the overdue closures and the stale
// sources; then what is healthy: facilities by state, the stream's figures as sparklines, and
// every facility by arrondissement (named links with their state in words, never bare icons).
// The summary is for operations staff and supervisors: like the agent console, the page asks for
// a token (kept in this tab only: sessionStorage), sends it as a bearer token, and asks again
// when the API refuses it.
import { LiveClient, STATE_STYLE, TEXT, ago, escapeHtml, fmtWhen, icon } from "/embed/card.js";
import { sinceWords } from "/embed/equipment.js";

const app = document.getElementById("ops-app");
const lang = app.dataset.lang === "en" ? "en" : "fr";
const local = app.dataset.local === "true";
const TOKEN_KEY = "paris-live-ops-token";
const names = JSON.parse(document.getElementById("ops-data").textContent);
const statuses = new Map();
const t = TEXT[lang];
const num = new Intl.NumberFormat(lang === "en" ? "en-GB" : "fr-FR", { maximumFractionDigits: 2 });
const W = {
  fr: {
    title: "Supervision en direct", problems: "Problèmes en cours", noAlert: "Aucune alerte : le traitement est à jour.",
    healthy: "État général", states: "Équipements par état", live: "suivis en direct", stale: "sans données récentes",
    stream: "Flux d'événements", eps: "Événements reçus par seconde", lagSeconds: "Retard de traitement (secondes)",
    lag: "Événements en attente de traitement", changes: "Changements d'état publiés par seconde",
    dead: "Messages rejetés (lettres mortes, dead-letters)", clients: "Écrans et pages connectés",
    lagging: "Retard de traitement par partition", group: "Groupe de consommateurs", topic: "Flux (topic Kafka)",
    partition: "Partition", seconds: "Retard", events: "En attente", sec: (n) => `${num.format(n)} s`,
    under: (n) => `moins de ${num.format(n)} s`,
    lagHint: (n) => `Retard mesuré sur les positions que les workers valident dans Kafka à chaque instantané (environ toutes les 30 s) : jusqu'à une minute est normal, l'alerte part à ${num.format(n)} s.`,
    grid: "Tous les équipements, par arrondissement", staleList: "Sources sans données récentes",
    overdue: "Fermetures dont la réouverture est dépassée", name: "Équipement", last: "Dernière donnée",
    outages: "Équipements d'accessibilité hors service, les plus anciens d'abord", equipment: "Matériel",
    outSince: "Hors service depuis", back: "Retour prévu", late: "En retard", degraded: "réduit",
    stepFreeNo: "sans accès fauteuil", outagesTable: "Tableau des pannes en cours",
    reason: "Motif", eta: "Réouverture prévue", none: "Aucune.", unavailable: "indisponible",
    missing: "Non mesuré ici", lost: "Connexion temps réel perdue — nouvelle tentative…",
    summaryDown: "Synthèse d'exploitation indisponible : le service ne répond pas.",
    count: (n) => `${n} équipement${n > 1 ? "s" : ""}`, ofState: (n, s) => `${n} ${s.toLowerCase()}`,
    signin: "Connexion", token: "Jeton d'exploitation ou de superviseur", signinBtn: "Se connecter",
    signout: "Se déconnecter", devHint: "En local, obtenez un jeton avec", signedAs: (s, r) => `Connecté : ${s} (${r})`,
    errors: {
      401: "Jeton absent, expiré ou invalide : reconnectez-vous.",
      403: "Ce jeton ne donne pas accès à la supervision (rôle exploitation ou superviseur requis).",
      other: "Le service ne répond pas, réessayez.",
    },
  },
  en: {
    title: "Live operations", problems: "Current problems", noAlert: "No alert: processing is up to date.",
    healthy: "Overall state", states: "Facilities by state", live: "followed live", stale: "without recent data",
    stream: "Event stream", eps: "Events received per second", lagSeconds: "Processing lag (seconds)",
    lag: "Events waiting to be processed", changes: "Status changes published per second",
    dead: "Rejected messages (dead letters)", clients: "Connected screens and pages",
    lagging: "Processing lag per partition", group: "Consumer group", topic: "Stream (Kafka topic)",
    partition: "Partition", seconds: "Lag", events: "Waiting", sec: (n) => `${num.format(n)} s`,
    under: (n) => `under ${num.format(n)} s`,
    lagHint: (n) => `Lag measured on the positions the workers commit to Kafka at each snapshot (about every 30 s): up to a minute is normal, the alert starts at ${num.format(n)} s.`,
    grid: "Every facility, by arrondissement", staleList: "Sources without recent data",
    overdue: "Closures past their expected reopening", name: "Facility", last: "Last data",
    outages: "Accessibility equipment out of order, oldest first", equipment: "Equipment",
    outSince: "Out of order since", back: "Expected back", late: "Overdue", degraded: "restricted",
    stepFreeNo: "no wheelchair access", outagesTable: "Table of the outages in force",
    reason: "Reason", eta: "Expected reopening", none: "None.", unavailable: "unavailable",
    missing: "Not measured here", lost: "Live connection lost — retrying…",
    summaryDown: "Operations summary unavailable: the service does not answer.",
    count: (n) => `${n} ${n > 1 ? "facilities" : "facility"}`, ofState: (n, s) => `${n} ${s.toLowerCase()}`,
    signin: "Sign in", token: "Operations or supervisor token", signinBtn: "Sign in",
    signout: "Sign out", devHint: "Locally, get a token with", signedAs: (s, r) => `Signed in: ${s} (${r})`,
    errors: {
      401: "Missing, expired or invalid token: sign in again.",
      403: "This token gives no access to operations (operations or supervisor role required).",
      other: "The service does not answer, try again.",
    },
  },
}[lang];

const byArr = new Map();
for (const [id, f] of Object.entries(names)) {
  if (!byArr.has(f.arrondissement)) byArr.set(f.arrondissement, []);
  byArr.get(f.arrondissement).push(id);
}
for (const ids of byArr.values()) ids.sort((a, b) => names[a].name.localeCompare(names[b].name));
const ARRS = [...byArr.keys()].sort((a, b) => a - b);

let token = sessionStorage.getItem(TOKEN_KEY);
let session = 0; // bumped on every sign-in and sign-out: answers of an older session are dropped
let timer = null;
let live = null;

class ApiFailure extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
  const response = await fetch(path, {
    cache: "no-store",
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiFailure(response.status, data?.error?.message || "");
  return data;
}

function explain(error) {
  return W.errors[error.status] || W.errors.other;
}

// ── Sign in ───────────────────────────────────────────────────────────────────────────────────
function signOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  session++;
  clearInterval(timer);
  timer = null;
  showSignin(message);
}

function showSignin(message = "") {
  app.innerHTML = `<h1>${W.title}</h1><section class="panel signin" aria-labelledby="h-signin"><h2 id="h-signin">${W.signin}</h2>
    <form id="signin"><p class="field-row"><label for="token">${W.token}</label><textarea id="token" name="token" required autocomplete="off" spellcheck="false" ${message ? 'aria-describedby="signin-error"' : ""}></textarea></p>
    ${message ? `<p id="signin-error" class="confirm failed" role="alert">${escapeHtml(message)}</p>` : ""}
    ${local ? `<p class="hint">${W.devHint} <code>paris-live token --agent ops-1 --role ops</code></p>` : ""}
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
  const mine = ++session;
  let me;
  let summary;
  try {
    [me, summary] = await Promise.all([api("/v1/me"), api("/v1/ops/summary")]);
  } catch (error) {
    if (mine === session) signOut(explain(error));
    return;
  }
  if (mine !== session) return;
  showDashboard(me);
  render(summary);
  timer = setInterval(poll, 5000);
}

// ── Dashboard: problems at the top, the healthy rest below ───────────────────────────────────
function showDashboard(me) {
  app.innerHTML = `<h1>${W.title}</h1>
<p class="row">${escapeHtml(W.signedAs(me.subject, me.role))} <button type="button" id="signout" class="secondary">${W.signout}</button></p>
<p id="conn" role="status" class="alert" hidden>${W.lost}</p>
<section class="panel problems" aria-labelledby="h-alerts"><h2 id="h-alerts">${W.problems}</h2>
  <ul class="alerts" id="alerts" aria-live="polite"></ul>
  <div id="lagging"></div>
  <div class="two">
    <section aria-labelledby="h-overdue"><h3 id="h-overdue">${W.overdue}</h3><div id="overdue"></div></section>
    <section aria-labelledby="h-stale"><h3 id="h-stale">${W.staleList}</h3><div id="stale"></div></section>
  </div>
  <section aria-labelledby="h-outages"><h3 id="h-outages">${W.outages}</h3><div id="outages"></div></section>
</section>
<section class="panel" aria-labelledby="h-states"><h2 id="h-states">${W.states}</h2><ul class="counters" id="counters"></ul></section>
<section class="panel" aria-labelledby="h-stream"><h2 id="h-stream">${W.stream}</h2><div class="sparks" id="sparks"></div><p class="hint" id="lag-hint"></p><p class="hint" id="missing"></p></section>
<section class="panel" aria-labelledby="h-grid"><h2 id="h-grid">${W.grid}</h2>
  <div class="arr-list" id="grid">${ARRS.map((n) => `<details class="arr" id="arr-${n}"><summary><span class="arr-name">${t.arr(n)}</span> <span class="arr-counts" id="arr-counts-${n}"></span></summary><ul class="facility-states">${byArr.get(n).map((id) => `<li id="tile-${id}"></li>`).join("")}</ul></details>`).join("")}</div>
</section>`;
  document.getElementById("signout").addEventListener("click", () => signOut());
  Object.keys(names).forEach(tile);
  counters();
  if (!live) {
    live = LiveClient.for("/");
    let pending = null;
    live.addEventListener("status", (event) => {
      statuses.set(event.detail.facility_id, event.detail);
      tile(event.detail.facility_id);
      if (!pending) pending = requestAnimationFrame(() => { pending = null; counters(); });
    });
    live.addEventListener("state", (event) => {
      const conn = document.getElementById("conn");
      if (conn) conn.hidden = event.detail.state !== "lost";
    });
    live.follow(Object.keys(names));
  }
}

function stateOf(id) {
  const s = statuses.get(id);
  return { state: s?.open_state || "unknown", stale: !s || Boolean(s.stale) };
}

function tile(id) {
  const li = document.getElementById(`tile-${id}`);
  if (!li) return;
  const { state, stale } = stateOf(id);
  const style = STATE_STYLE[state] || STATE_STYLE.unknown;
  li.dataset.state = state;
  li.innerHTML = `<a href="/facilities/${encodeURIComponent(id)}${lang === "en" ? "?lang=en" : ""}">${escapeHtml(names[id]?.name || id)}</a>
    <span class="badge small ${style.tone}">${icon(style.icon, 14)} ${t.states[state]}</span>${stale ? ` <span class="muted">(${W.stale})</span>` : ""}`;
}

function counters() {
  const box = document.getElementById("counters");
  if (!box) return; // signed out
  const counts = Object.fromEntries(Object.keys(STATE_STYLE).map((s) => [s, 0]));
  let stale = 0;
  for (const id of Object.keys(names)) {
    const { state, stale: old } = stateOf(id);
    counts[state]++;
    if (old) stale++;
  }
  box.innerHTML = Object.entries(counts).map(([state, n]) => {
    const style = STATE_STYLE[state];
    return `<li data-state="${state}"><strong>${n}</strong><span class="badge ${style.tone}">${icon(style.icon, 16)} ${t.states[state]}</span></li>`;
  }).join("") + `<li data-state="stale"><strong>${stale}</strong>${W.stale}</li><li id="live-count"><strong>${statuses.size}</strong>${W.live}</li>`;
  for (const n of ARRS) {
    const per = {};
    for (const id of byArr.get(n)) { const { state } = stateOf(id); per[state] = (per[state] || 0) + 1; }
    const order = ["exceptionally_closed", "partially_closed", "closing_soon", "open", "closed", "unknown"];
    const words = order.filter((s) => per[s]).map((s) => W.ofState(per[s], t.states[s]));
    const el = document.getElementById(`arr-counts-${n}`);
    if (el) el.textContent = `— ${W.count(byArr.get(n).length)} : ${words.join(", ")}`;
  }
}

function spark(title, key, series, current, format = (v) => num.format(v)) {
  const values = series.map((s) => s[key]).filter((v) => v !== null && v !== undefined);
  const max = Math.max(1, ...values);
  const points = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 100},${38 - (v / max) * 34}`).join(" ");
  const shown = current === null || current === undefined ? W.unavailable : typeof current === "string" ? current : format(current);
  const recent = values.slice(-10).map((v) => num.format(v)).join(" ; ") || W.unavailable;
  return `<div class="spark" data-metric="${key}"><h3>${title}</h3><strong>${shown}</strong><svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(`${title} : ${recent}`)}"><polyline points="${points}"/></svg></div>`;
}

function table(rows, head, caption, classes = []) {
  if (!rows.length) return `<p>${W.none}</p>`;
  return `<div class="table-scroll" tabindex="0" role="region" aria-label="${escapeHtml(caption)}"><table class="ops-table"><caption class="visually-hidden">${escapeHtml(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join("")}</tr></thead><tbody>${rows.map((r, i) => `<tr${classes[i] ? ` class="${classes[i]}"` : ""}>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`;
}

/** Equipment outages city-wide, oldest first; an overdue one says « En retard » in its row. */
function outagesTable(items) {
  const rows = items.map((o) => [
    `<a href="/facilities/${encodeURIComponent(o.facility_id)}">${escapeHtml(o.name)}</a>${o.step_free_access === "no" ? ` <span class="tag">${W.stepFreeNo}</span>` : ""}`,
    `${escapeHtml(o.equipment[lang] || o.equipment.fr)}${o.status === "degraded" ? ` (${W.degraded})` : ""}`,
    o.since ? escapeHtml(sinceWords(o.since, lang)) : "—",
    `${o.expected_back_at ? escapeHtml(fmtWhen(o.expected_back_at, lang)) : "—"}${o.overdue ? ` <strong class="late">${W.late}</strong>` : ""}`,
  ]);
  // an overdue row is highlighted; its words (« En retard ») say it too
  return table(rows, [W.name, W.equipment, W.outSince, W.back], W.outagesTable, items.map((o) => (o.overdue ? "overdue" : "")));
}

function alertText(a) {
  return (a.messages && (a.messages[lang] || a.messages.fr)) || a.message;
}

function render(summary) {
  const series = summary.series;
  const stream = summary.stream;
  document.getElementById("alerts").innerHTML = summary.alerts.length
    ? summary.alerts.map((a) => `<li class="${a.level}" data-code="${a.code}">${icon(a.level === "critical" ? "stop" : "clock", 18)} ${escapeHtml(alertText(a))}</li>`).join("")
    : `<li class="ok" data-code="none">${icon("check", 18)} ${W.noAlert}</li>`;
  const lagging = stream.lagging || [];
  document.getElementById("lagging").innerHTML = lagging.length
    ? `<h3 id="h-lagging">${W.lagging}</h3>${table(lagging.map((p) => [escapeHtml(p.topic), String(p.partition), p.seconds !== null ? W.sec(p.seconds) : p.under ? W.under(p.under) : W.unavailable, num.format(p.events), escapeHtml(p.group)]), [W.topic, W.partition, W.seconds, W.events, W.group], W.lagging)}`
    : "";
  document.getElementById("overdue").innerHTML = table(summary.overdue_closures.map((c) => [`<a href="/facilities/${encodeURIComponent(c.facility_id)}">${escapeHtml(c.name)}</a>`, escapeHtml(t.reasons[c.reason] || c.reason), c.expected_reopening_at ? escapeHtml(fmtWhen(c.expected_reopening_at, lang)) : "—"]), [W.name, W.reason, W.eta], W.overdue);
  document.getElementById("outages").innerHTML = outagesTable(summary.equipment_outages || []);
  document.getElementById("stale").innerHTML = table(summary.stale.slice(0, 50).map((s) => [`<a href="/facilities/${encodeURIComponent(s.facility_id)}">${escapeHtml(s.name)}</a>`, s.last_data_at ? ago(s.last_data_at, lang) : "—"]), [W.name, W.last], W.staleList);
  document.getElementById("sparks").innerHTML = spark(W.lagSeconds, "lag_seconds", series, stream.lag_seconds ?? (stream.lag_seconds_under ? W.under(stream.lag_seconds_under) : null), W.sec)
    + spark(W.lag, "consumer_lag", series, stream.consumer_lag)
    + spark(W.eps, "events_per_s", series, stream.events_per_s)
    + spark(W.changes, "status_changes_per_s", series, summary.api.status_changes_per_s)
    + spark(W.dead, "dead_letters", series, stream.dead_letters)
    + `<div class="spark"><h3>${W.clients}</h3><strong>${num.format(summary.api.clients)}</strong></div>`;
  document.getElementById("lag-hint").textContent = W.lagHint(stream.lag_alert_seconds);
  const missing = (summary.missing || []).map((m) => (typeof m === "string" ? m : m[lang] || m.fr));
  document.getElementById("missing").textContent = missing.length ? `${W.missing} : ${missing.join(" ; ")}` : "";
}

async function poll() {
  const mine = session;
  try {
    const summary = await api("/v1/ops/summary");
    if (mine === session) render(summary);
  } catch (error) {
    if (mine !== session) return;
    if (error.status === 401 || error.status === 403) { signOut(explain(error)); return; }
    document.getElementById("alerts").innerHTML = `<li class="critical" data-code="summary_unavailable">${W.summaryDown}</li>`;
  }
}

start();
