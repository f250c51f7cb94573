// The in-facility screen: readable at 5 m, no interaction, live, never blank. It first renders the
// status embedded in the page, then follows /v1/live; when the connection drops it keeps the last
// known state under a "connexion perdue depuis …" banner and reconnects (jittered backoff, resume).
// Out of hours it dims; its content shifts a few pixels every minute (screen burn-in).
import { LiveClient, TEXT, STATE_STYLE, ago, escapeHtml, fmtTime, fmtWhen, hoursLine, icon, localized, nameOfService, scopeLabel } from "/embed/card.js";

const lang = document.documentElement.lang === "en" ? "en" : "fr";
const other = lang === "fr" ? "en" : "fr";
const initial = JSON.parse(document.getElementById("screen-data").textContent);
const catalogue = initial.catalogue;
let status = initial;

const W = {
  fr: {
    crowd: "Affluence", people: "personnes", noCrowd: "Affluence non mesurée", queues: "Attente",
    minutes: "min", noQueue: "Pas d'attente mesurée", hours: "Horaires du jour", closedToday: "Fermé aujourd'hui",
    closures: "Fermetures en cours", lost: (t, r) => `Connexion perdue depuis ${t} (${r}) — dernières informations connues affichées`,
    inLine: (n) => `${n} en file`, next: "Prochain rendez-vous",
  },
  en: {
    crowd: "Crowding", people: "people", noCrowd: "Crowding not measured", queues: "Waiting time",
    minutes: "min", noQueue: "No waiting time measured", hours: "Today's hours", closedToday: "Closed today",
    closures: "Current closures", lost: (t, r) => `Connection lost since ${t} (${r}) — showing the last known information`,
    inLine: (n) => `${n} in line`, next: "Next appointment",
  },
};
const both = (pick) => `<span class="l1">${pick(lang)}</span><span class="l2" lang="${other}">${pick(other)}</span>`;
const $ = (id) => document.getElementById(id);

function ring(ratio, level) {
  const r = 42;
  const length = 2 * Math.PI * r;
  const filled = Math.min(1, Math.max(0, ratio)) * length;
  return `<svg class="ring lvl-${level}" viewBox="0 0 100 100" aria-hidden="true"><circle cx="50" cy="50" r="${r}" class="track"/><circle cx="50" cy="50" r="${r}" class="fill" stroke-dasharray="${filled} ${length}" transform="rotate(-90 50 50)"/></svg>`;
}

function renderCrowd() {
  const occ = status.occupancy;
  if (!occ) { $("crowd").innerHTML = `<h2>${both((l) => W[l].crowd)}</h2><p class="big-note">${both((l) => W[l].noCrowd)}</p>`; return; }
  const level = occ.level || "low";
  const ratio = occ.ratio ?? (occ.capacity ? occ.count / occ.capacity : 0);
  const trend = { rising: "up", falling: "down" }[occ.trend] || "flat";
  $("crowd").innerHTML = `<h2>${both((l) => W[l].crowd)}</h2>
    <div class="gauge-wrap">${occ.capacity ? ring(ratio, level) : ""}
      <p class="count"><strong>${occ.count}</strong>${occ.capacity ? `<span class="cap">/ ${occ.capacity}</span>` : ""}<span class="unit">${W[lang].people}</span></p></div>
    <p class="level lvl-${level}">${icon(trend, 48)} ${both((l) => `${occ.level ? TEXT[l].levels[occ.level] : ""} · ${TEXT[l].trends[occ.trend] || ""}`)}</p>
    <p class="tag">${both((l) => (occ.source === "passages" ? TEXT[l].estimate : TEXT[l].measured))}</p>`;
}

function renderQueues() {
  const queues = status.queues || [];
  const appointments = status.appointments || [];
  let body;
  if (queues.length) {
    body = `<ul class="queues">${queues.map((q) => `<li><span class="svc">${escapeHtml(nameOfService(catalogue, q.service_id, lang))}</span><strong class="wait">${q.wait_minutes == null ? "—" : Math.round(q.wait_minutes)}<small> ${W[lang].minutes}</small></strong><span class="len">${W[lang].inLine(q.length)}</span></li>`).join("")}</ul>`;
  } else if (appointments.length) {
    body = `<ul class="queues">${appointments.slice(0, 3).map((a) => `<li><span class="svc">${escapeHtml(nameOfService(catalogue, a.service_id, lang))}</span><span class="len">${W[lang].next} : ${a.next_available_at ? fmtWhen(a.next_available_at, lang) : TEXT[lang].noSlot}</span></li>`).join("")}</ul>`;
  } else {
    body = `<p class="big-note">${both((l) => W[l].noQueue)}</p>`;
  }
  $("queues").innerHTML = `<h2>${both((l) => W[l].queues)}</h2>${body}`;
}

function renderHours() {
  const spans = (status.today_hours || []).map((h) => `<li>${h.opens} – ${h.closes}</li>`).join("");
  const next = hoursLine(status, lang).next;
  const nextOther = hoursLine(status, other).next;
  $("hours").innerHTML = `<h2>${both((l) => W[l].hours)}</h2>${spans ? `<ul class="spans">${spans}</ul>` : `<p class="big-note">${both((l) => W[l].closedToday)}</p>`}${next ? `<p class="next"><span class="l1">${next}</span><span class="l2" lang="${other}">${nextOther}</span></p>` : ""}`;
}

function renderClosures() {
  const closures = status.closures || [];
  $("closures").hidden = !closures.length;
  $("closures").innerHTML = closures.length ? `<h2>${icon("stop", 40)} ${both((l) => W[l].closures)}</h2><ul>${closures.map((c) => `<li data-closure="${escapeHtml(c.closure_id)}"><strong>${escapeHtml(scopeLabel(c.scope, catalogue, lang))} — ${TEXT[lang].reasons[c.reason] || ""}</strong><p>${escapeHtml(localized(c.message, lang))}</p>${c.message.en && lang === "fr" ? `<p class="l2" lang="en">${escapeHtml(c.message.en)}</p>` : ""}<p class="eta">${c.expected_reopening_at ? TEXT[lang].reopensAt(fmtWhen(c.expected_reopening_at, lang)) : TEXT[lang].reopenUnknown}${c.overdue ? ` — ${TEXT[lang].overdue}` : ""}</p></li>`).join("")}</ul>` : "";
}

function renderState() {
  const style = STATE_STYLE[status.open_state] || STATE_STYLE.unknown;
  $("state").innerHTML = `<p class="badge ${style.tone}" data-state="${status.open_state}">${icon(style.icon, 56)}${both((l) => TEXT[l].states[status.open_state] || TEXT[l].states.unknown)}</p>`;
  const dark = ["closed", "exceptionally_closed", "unknown"].includes(status.open_state)
    && (!status.next_change_at || new Date(status.next_change_at) - Date.now() > 30 * 60000);
  document.body.classList.toggle("dim", dark);
}

function renderFresh() {
  const stale = status.stale || status.live === false;
  const when = ago(status.last_data_at || status.updated_at, lang);
  $("fresh").className = `fresh${stale ? " stale" : ""}`;
  $("fresh").innerHTML = stale
    ? `${icon("stale", 32)} ${status.live === false || !status.last_data_at ? TEXT[lang].staleNoData : TEXT[lang].stale(when)}`
    : TEXT[lang].updated(when);
}

function renderAll() {
  renderState(); renderCrowd(); renderQueues(); renderHours(); renderClosures(); renderFresh();
  document.body.dataset.seq = String(status.seq);
}

function tick() {
  const now = new Date();
  $("clock").textContent = fmtTime(now.toISOString(), lang);
  $("date").textContent = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: "Europe/Paris", weekday: "long", day: "numeric", month: "long" }).format(now);
  if (live.state === "lost" && live.lostSince) {
    const minutes = Math.floor((now - live.lostSince) / 60000);
    $("banner").textContent = W[lang].lost(fmtTime(live.lostSince.toISOString(), lang), minutes < 1 ? (lang === "en" ? "< 1 min" : "< 1 min") : `${minutes} min`);
  }
}

function shift() {
  const stage = $("stage");
  stage.style.setProperty("--sx", `${Math.round(Math.random() * 8 - 4)}px`);
  stage.style.setProperty("--sy", `${Math.round(Math.random() * 8 - 4)}px`);
}

const live = new LiveClient(new URL("/", location.href).href, { maxBackoffMs: 15000 });
live.addEventListener("status", (event) => {
  if (event.detail.facility_id !== initial.facility_id) return;
  status = { ...event.detail, live: true };
  renderAll();
});
live.addEventListener("state", (event) => {
  const lost = event.detail.state === "lost";
  $("banner").hidden = !lost;
  document.body.classList.toggle("offline", lost);
  tick();
});
renderAll();
tick();
performance.mark("screen-first-render");
live.offer(initial);
live.follow([initial.facility_id]);
setInterval(tick, 1000);
setInterval(renderFresh, 30000);
setInterval(() => { renderState(); shift(); }, 60000);
