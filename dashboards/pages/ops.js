// Operations dashboard: every facility live (grid by arrondissement), counts by state, and what
// GET /v1/ops/summary knows — stale sources, overdue closures, events/s, consumer lag, dead letters,
// status changes/s as sparklines, and the alerts they raise. The summary is for operations staff
// and supervisors: like the agent console, the page asks for a token (kept in this tab only:
// sessionStorage), sends it as a bearer token, and asks again when the API refuses it.
import { LiveClient, STATE_STYLE, TEXT, ago, escapeHtml, icon } from "/embed/card.js";

const app = document.getElementById("ops-app");
const lang = app.dataset.lang === "en" ? "en" : "fr";
const local = app.dataset.local === "true";
const TOKEN_KEY = "paris-live-ops-token";
const names = JSON.parse(document.getElementById("ops-data").textContent);
const statuses = new Map();
const t = TEXT[lang];
const W = {
  fr: {
    title: "Supervision en direct", states: "Équipements par état", live: "en direct", stale: "sources muettes",
    stream: "Flux", eps: "Événements/s (entrée Kafka)", lag: "Retard consommateur (événements)",
    changes: "Changements de statut/s (API)", dead: "Rejets (dead-letters)", alerts: "Alertes", noAlert: "Aucune alerte.",
    grid: "Tous les équipements, par arrondissement", staleList: "Sources sans données récentes",
    overdue: "Fermetures dont la réouverture est dépassée", name: "Équipement", last: "Dernière donnée",
    reason: "Motif", eta: "Réouverture prévue", none: "Aucune.", unavailable: "indisponible", clients: "clients connectés",
    missing: "Non disponible ici", lost: "Connexion temps réel perdue — nouvelle tentative…",
    signin: "Connexion", token: "Jeton d'exploitation ou de superviseur", signinBtn: "Se connecter",
    signout: "Se déconnecter", devHint: "En local, obtenez un jeton avec", signedAs: (s, r) => `Connecté : ${s} (${r})`,
    errors: {
      401: "Jeton absent, expiré ou invalide : reconnectez-vous.",
      403: "Ce jeton ne donne pas accès à la supervision (rôle exploitation ou superviseur requis).",
      other: "Le service ne répond pas, réessayez.",
    },
  },
  en: {
    title: "Live operations", states: "Facilities by state", live: "live", stale: "silent sources",
    stream: "Stream", eps: "Events/s (Kafka input)", lag: "Consumer lag (events)",
    changes: "Status changes/s (API)", dead: "Dead letters", alerts: "Alerts", noAlert: "No alert.",
    grid: "Every facility, by arrondissement", staleList: "Sources without recent data",
    overdue: "Closures past their expected reopening", name: "Facility", last: "Last data",
    reason: "Reason", eta: "Expected reopening", none: "None.", unavailable: "unavailable", clients: "connected clients",
    missing: "Not available here", lost: "Live connection lost — retrying…",
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

// ── Dashboard ─────────────────────────────────────────────────────────────────────────────────
function showDashboard(me) {
  app.innerHTML = `<h1>${W.title}</h1>
<p class="row">${escapeHtml(W.signedAs(me.subject, me.role))} <button type="button" id="signout" class="secondary">${W.signout}</button></p>
<p id="conn" role="status" class="alert" hidden>${W.lost}</p>
<section class="panel" aria-labelledby="h-states"><h2 id="h-states">${W.states}</h2><ul class="counters" id="counters"></ul></section>
<section class="panel" aria-labelledby="h-stream"><h2 id="h-stream">${W.stream}</h2><div class="sparks" id="sparks"></div><p class="hint" id="missing"></p></section>
<section class="panel" aria-labelledby="h-alerts"><h2 id="h-alerts">${W.alerts}</h2><ul class="alerts" id="alerts" aria-live="polite"></ul></section>
<section class="panel" aria-labelledby="h-grid"><h2 id="h-grid">${W.grid}</h2>
  <ul class="ops-legend">${Object.entries(STATE_STYLE).map(([s, st]) => `<li><span class="tile ${st.tone}">${icon(st.icon, 14)}</span> ${t.states[s]}</li>`).join("")}<li><span class="tile off stale"></span> ${W.stale}</li></ul>
  <div class="arr-groups" id="grid">${[...byArr.keys()].sort((a, b) => a - b).map((n) => `<section class="arr" aria-label="${t.arr(n)}"><h3>${t.arr(n)}</h3><ul class="tiles">${byArr.get(n).map((id) => `<li id="tile-${id}"></li>`).join("")}</ul></section>`).join("")}</div>
</section>
<div class="two">
  <section class="panel" aria-labelledby="h-stale"><h2 id="h-stale">${W.staleList}</h2><div id="stale"></div></section>
  <section class="panel" aria-labelledby="h-overdue"><h2 id="h-overdue">${W.overdue}</h2><div id="overdue"></div></section>
</div>`;
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

function tile(id) {
  const s = statuses.get(id);
  const state = s?.open_state || "unknown";
  const style = STATE_STYLE[state] || STATE_STYLE.unknown;
  const stale = !s || s.stale;
  const label = `${names[id]?.name || id} : ${t.states[state]}${stale ? ` (${W.stale})` : ""}`;
  const li = document.getElementById(`tile-${id}`);
  if (li) li.innerHTML = `<a class="tile ${style.tone}${stale ? " stale" : ""}" href="/facilities/${encodeURIComponent(id)}" aria-label="${escapeHtml(label)}" title="${escapeHtml(label)}" data-state="${state}" tabindex="-1">${icon(style.icon, 14)}</a>`;
}

function counters() {
  const box = document.getElementById("counters");
  if (!box) return; // signed out
  const counts = Object.fromEntries(Object.keys(STATE_STYLE).map((s) => [s, 0]));
  let stale = 0;
  for (const id of Object.keys(names)) {
    const s = statuses.get(id);
    counts[s?.open_state || "unknown"]++;
    if (!s || s.stale) stale++;
  }
  box.innerHTML = Object.entries(counts).map(([state, n]) => {
    const style = STATE_STYLE[state];
    return `<li data-state="${state}"><strong>${n}</strong><span class="badge ${style.tone}">${icon(style.icon, 16)} ${t.states[state]}</span></li>`;
  }).join("") + `<li data-state="stale"><strong>${stale}</strong>${W.stale}</li><li><strong>${statuses.size}</strong>${W.live}</li>`;
}

function spark(title, key, series, current) {
  const values = series.map((s) => s[key]).filter((v) => v !== null && v !== undefined);
  const max = Math.max(1, ...values);
  const points = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 100},${38 - (v / max) * 34}`).join(" ");
  const shown = current === null || current === undefined ? W.unavailable : String(current);
  return `<div class="spark" data-metric="${key}"><h3>${title}</h3><strong>${shown}</strong><svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(`${title} : ${values.slice(-10).join(", ") || W.unavailable}`)}"><polyline points="${points}"/></svg></div>`;
}

function table(rows, head) {
  if (!rows.length) return `<p>${W.none}</p>`;
  return `<table class="ops-table"><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

function render(summary) {
  const series = summary.series;
    document.getElementById("sparks").innerHTML = spark(W.eps, "events_per_s", series, summary.stream.events_per_s)
      + spark(W.lag, "consumer_lag", series, summary.stream.consumer_lag)
      + spark(W.changes, "status_changes_per_s", series, summary.api.status_changes_per_s)
      + spark(W.dead, "dead_letters", series, summary.stream.dead_letters)
      + `<div class="spark"><h3>${W.clients}</h3><strong>${summary.api.clients}</strong></div>`;
    document.getElementById("missing").textContent = `${W.missing} : ${summary.missing.join(" ; ")}`;
    document.getElementById("alerts").innerHTML = summary.alerts.length
      ? summary.alerts.map((a) => `<li class="${a.level}" data-code="${a.code}">${escapeHtml(a.message)}</li>`).join("")
      : `<li>${W.noAlert}</li>`;
    document.getElementById("stale").innerHTML = table(summary.stale.slice(0, 50).map((s) => [`<a href="/facilities/${encodeURIComponent(s.facility_id)}">${escapeHtml(s.name)}</a>`, s.last_data_at ? ago(s.last_data_at, lang) : "—"]), [W.name, W.last]);
    document.getElementById("overdue").innerHTML = table(summary.overdue_closures.map((c) => [escapeHtml(c.name), t.reasons[c.reason] || c.reason, c.expected_reopening_at ? ago(c.expected_reopening_at, lang).replace(/^il y a/, "il y a") : "—"]), [W.name, W.reason, W.eta]);
}

async function poll() {
  const mine = session;
  try {
    const summary = await api("/v1/ops/summary");
    if (mine === session) render(summary);
  } catch (error) {
    if (mine !== session) return;
    if (error.status === 401 || error.status === 403) { signOut(explain(error)); return; }
    document.getElementById("alerts").innerHTML = `<li class="critical">${W.unavailable}: /v1/ops/summary</li>`;
  }
}

start();
