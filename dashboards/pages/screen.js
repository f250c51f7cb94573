// The in-facility screen: readable at 3–5 m, no interaction, live, never blank, landscape or
// portrait. It first renders the status embedded in the page, then follows /v1/live; when the
// connection drops it keeps the last known state under a "connexion perdue depuis …" banner and
// reconnects (jittered backoff, resume). Closed means closed: no crowd count nor wait while closed;
// an exceptional closure fills the top of the screen at full contrast with its reason and expected
// reopening, and the nearest open facilities of the same type are suggested (refreshed on every
// change of state). Its content shifts a few pixels every minute (screen burn-in).
import { keepLastKnown, keepPageOffline, lastKnown } from "/static/pages/screen-offline.js";
import { LiveClient, TEXT, STATE_STYLE, ago, daysUntil, escapeHtml, fmtTime, fmtWhen, hoursConfidence, hoursLine, icon, isEstimated, localized, nameOfService, scopeLabel, shownState, sourceTag, sourceWords } from "/embed/card.js";

const lang = document.documentElement.lang === "en" ? "en" : "fr";
const other = lang === "fr" ? "en" : "fr";
const initial = JSON.parse(document.getElementById("screen-data").textContent);
const catalogue = initial.catalogue;
let status = lastKnown(initial); // offline reload: the newer status shown before it
let nearby = { state: null, items: [] };

const CLOSED = ["closed", "exceptionally_closed"];
const W = {
  fr: {
    crowd: "Affluence", people: (n) => (n > 1 ? "personnes" : "personne"), noCrowd: "Affluence non mesurée", queues: "Attente",
    minutes: "min", noQueue: "Pas d'attente mesurée", hours: "Horaires du jour", closedToday: "Fermé aujourd'hui",
    closures: "Fermé exceptionnellement", partClosures: "Fermetures en cours",
    lost: (t, r) => `Connexion perdue depuis ${t} (${r}) — dernières informations connues affichées`,
    inLine: (n) => `${n} en file`, next: "Prochains rendez-vous", noSlot: "Aucun créneau publié",
    inDays: (d) => (d < 1 ? "aujourd'hui" : d === 1 ? "demain" : `dans ${d} j`),
    nearest: {
      pool: "Piscine ouverte la plus proche", town_hall: "Mairie ouverte la plus proche",
      library: "Bibliothèque ouverte la plus proche", conservatory: "Conservatoire ouvert le plus proche",
      sports_centre: "Centre sportif ouvert le plus proche", leisure_centre: "Centre Paris Anim' ouvert le plus proche",
      social_services: "Service social ouvert le plus proche", legal_advice: "Point d'accès au droit ouvert le plus proche",
      museum: "Musée ouvert le plus proche", bath_house: "Bains-douches ouverts les plus proches",
      gymnasium: "Gymnase ouvert le plus proche", sports_ground: "Terrain de sport ouvert le plus proche",
      park: "Parc ou jardin ouvert le plus proche", cemetery: "Cimetière ouvert le plus proche",
      community_centre: "Maison de la vie associative ouverte la plus proche",
    },
    nearestAny: "Équipement ouvert le plus proche", alsoOpen: "Aussi ouverts",
    unconfirmed: "Horaires non confirmés", unknownHours: "Horaires inconnus", estimatedCapacity: "capacité estimée",
    hoursSource: "Horaires",
    served: "Servi dans environ", servedLen: (p90, n) => `au plus ${p90} min pour 9 personnes sur 10 · ${n} en file`,
    servedNote: "Estimation, pas un engagement",
    promise: "Nos engagements : infos en direct, délais, bon service. Non tenus ? Dites-le nous.",
  },
  en: {
    crowd: "Crowding", people: (n) => (n === 1 ? "person" : "people"), noCrowd: "Crowding not measured", queues: "Waiting time",
    minutes: "min", noQueue: "No waiting time measured", hours: "Today's hours", closedToday: "Closed today",
    closures: "Exceptionally closed", partClosures: "Current closures",
    lost: (t, r) => `Connection lost since ${t} (${r}) — showing the last known information`,
    inLine: (n) => `${n} in line`, next: "Next appointments", noSlot: "No slot published",
    inDays: (d) => (d < 1 ? "today" : d === 1 ? "tomorrow" : `in ${d} d`),
    nearest: {
      pool: "Nearest open pool", town_hall: "Nearest open town hall", library: "Nearest open library",
      conservatory: "Nearest open conservatory", sports_centre: "Nearest open sports centre",
      leisure_centre: "Nearest open Paris Anim' centre", social_services: "Nearest open social services",
      legal_advice: "Nearest open legal advice desk", museum: "Nearest open museum",
      bath_house: "Nearest open public baths", gymnasium: "Nearest open gymnasium", sports_ground: "Nearest open sports ground",
      park: "Nearest open park or garden", cemetery: "Nearest open cemetery", community_centre: "Nearest open community centre",
    },
    nearestAny: "Nearest open facility", alsoOpen: "Also open",
    unconfirmed: "Hours not confirmed", unknownHours: "Hours unknown", estimatedCapacity: "estimated capacity",
    hoursSource: "Hours",
    served: "Served in about", servedLen: (p90, n) => `at most ${p90} min for 9 people in 10 · ${n} in line`,
    servedNote: "An estimate, not a commitment",
    promise: "Our commitments: live information, delays, the right service. Not kept? Tell us.",
  },
};
const both = (pick) => `<span class="l1">${pick(lang)}</span><span class="l2" lang="${other}">${pick(other)}</span>`;
const $ = (id) => document.getElementById(id);
const closedNow = () => CLOSED.includes(status.open_state);

function ring(ratio, level) {
  const r = 42;
  const length = 2 * Math.PI * r;
  const filled = Math.min(1, Math.max(0, ratio)) * length;
  return `<svg class="ring lvl-${level}" viewBox="0 0 100 100" aria-hidden="true"><circle cx="50" cy="50" r="${r}" class="track"/><circle cx="50" cy="50" r="${r}" class="fill" stroke-dasharray="${filled} ${length}" transform="rotate(-90 50 50)"/></svg>`;
}

function renderCrowd() {
  const occ = status.occupancy;
  // Closed: no crowd figure at all (a count of people in a closed pool contradicts the badge).
  $("crowd").hidden = closedNow() || !occ;
  if ($("crowd").hidden) { $("crowd").innerHTML = ""; return; }
  const level = occ.level || "low";
  const ratio = occ.ratio ?? (occ.capacity ? occ.count / occ.capacity : 0);
  const trend = { rising: "up", falling: "down" }[occ.trend] || "flat";
  $("crowd").innerHTML = `<h2>${both((l) => W[l].crowd)}</h2>
    <div class="gauge-wrap">${occ.capacity ? ring(ratio, level) : ""}
      <p class="count"><strong>${occ.count}</strong>${occ.capacity ? `<span class="cap">/ ${occ.capacity}</span>` : ""}<span class="unit">${W[lang].people(occ.count)}</span></p></div>
    <p class="level lvl-${level}">${icon(trend, 48)} ${both((l) => `${occ.level ? TEXT[l].levels[occ.level] : ""} · ${TEXT[l].trends[occ.trend] || ""}`)}</p>
    <p class="tag">${both((l) => sourceTag(occ.source, l) + (isEstimated(catalogue, "capacity") && occ.capacity ? ` · ${W[l].estimatedCapacity}` : ""))}</p>`;
}

function renderQueues() {
  const queues = status.queues || [];
  const desks = ((catalogue && catalogue.services) || []).some((s) => s.queue);
  // Closed: no wait figure (the state badge and the closure say why); no desk with a queue here,
  // only bookings: no empty "waiting time" panel either.
  $("queues").hidden = closedNow() || (!queues.length && !desks && (status.appointments || []).length > 0);
  if ($("queues").hidden) { $("queues").innerHTML = ""; return; }
  const served = queues.some((q) => q.served_within);
  const body = queues.length
    ? `<ul class="queues">${queues.map(queueItem).join("")}</ul>${served ? `<p class="est-note">${both((l) => W[l].servedNote)}</p>` : ""}`
    : `<p class="big-note">${both((l) => W[l].noQueue)}</p>`;
  $("queues").innerHTML = `<h2>${both((l) => (served ? W[l].served : W[l].queues))}</h2>${body}`;
}

/** A queue: the time to be served (median, the bound for 9 people in 10) when the workers
 * estimate it, else the average wait. */
function queueItem(q) {
  const name = `<span class="svc">${escapeHtml(nameOfService(catalogue, q.service_id, lang))}</span>`;
  const s = q.served_within;
  if (s) return `<li data-served>${name}<strong class="wait">${Math.round(s.p50_minutes)}<small> ${W[lang].minutes}</small></strong><span class="len">${W[lang].servedLen(Math.round(s.p90_minutes), q.length)}</span></li>`;
  return `<li>${name}<strong class="wait">${q.wait_minutes == null ? "—" : Math.round(q.wait_minutes)}<small> ${W[lang].minutes}</small></strong><span class="len">${W[lang].inLine(q.length)}</span></li>`;
}

function renderAppointments() {
  const appointments = status.appointments || [];
  $("appointments").hidden = !appointments.length;
  $("appointments").innerHTML = appointments.length ? `<h2>${both((l) => W[l].next)}</h2><ul class="queues appts">${appointments.map((a) => `<li><span class="svc">${escapeHtml(nameOfService(catalogue, a.service_id, lang))}</span>${a.next_available_at ? `<strong class="delay">${W[lang].inDays(daysUntil(a.next_available_at))}</strong><span class="len">${fmtWhen(a.next_available_at, lang)}</span>` : `<span class="len">${W[lang].noSlot}</span>`}</li>`).join("")}</ul>` : "";
}

/** Estimated hours say so beside the state, under the name (the header keeps its height);
 * unknown hours claim nothing. */
function renderHoursNote() {
  const confidence = hoursConfidence(status, catalogue);
  $("hours-note").hidden = confidence === "official";
  $("hours-note").innerHTML = confidence === "official" ? "" : `${icon("question", 28)}${both((l) => (confidence === "unknown" ? W[l].unknownHours : W[l].unconfirmed))}`;
}

function renderHours() {
  const unknown = hoursConfidence(status, catalogue) === "unknown";
  const spans = (status.today_hours || []).map((h) => `<li>${h.opens} – ${h.closes}</li>`).join("");
  const next = hoursLine(status, lang, new Date(), catalogue).next;
  const nextOther = hoursLine(status, other, new Date(), catalogue).next;
  const today = unknown ? `<p class="big-note">${both((l) => W[l].unknownHours)}</p>` : spans ? `<ul class="spans">${spans}</ul>` : `<p class="big-note">${both((l) => W[l].closedToday)}</p>`;
  $("hours").innerHTML = `<h2>${both((l) => W[l].hours)}</h2>${today}${next ? `<p class="next"><span class="l1">${next}</span><span class="l2" lang="${other}">${nextOther}</span></p>` : ""}`;
  // Where the hours come from, in the footer (as tall as the QR code: no room taken from the panels).
  $("hours-source").textContent = catalogue ? `${W[lang].hoursSource} — ${sourceWords(catalogue, "hours", lang, { brief: true })}` : "";
}

function distance(metres) {
  if (metres < 1000) return `${Math.max(50, Math.round(metres / 50) * 50)} m`;
  return `${new Intl.NumberFormat(lang === "en" ? "en-GB" : "fr-FR", { maximumFractionDigits: 1 }).format(metres / 1000)} km`;
}

function nearbyBlock() {
  if (!closedNow() || !nearby.items.length) return "";
  const [first, ...rest] = nearby.items;
  const title = (l) => W[l].nearest[status.type] || W[l].nearestAny;
  const place = (f) => `${escapeHtml(f.name)} <span class="dist">— ${distance(f.distance_m)}</span>`;
  return `<div class="nearby" id="nearby"><p class="near-title">${both(title)}</p><p class="near-first">${place(first)}</p>${rest.length ? `<p class="near-also">${W[lang].alsoOpen} :</p><ul class="near-rest">${rest.map((f) => `<li>${place(f)}</li>`).join("")}</ul>` : ""}</div>`;
}

function renderClosures() {
  const closures = status.closures || [];
  const whole = status.open_state === "exceptionally_closed";
  const shown = closures.length > 0 || (closedNow() && nearby.items.length > 0);
  $("closures").hidden = !shown;
  $("closures").classList.toggle("whole", whole);
  $("closures").classList.toggle("suggest", !closures.length); // closed for the night: only where to go
  if (!shown) { $("closures").innerHTML = ""; return; }
  const items = closures.map((c) => `<li data-closure="${escapeHtml(c.closure_id)}"><p class="reason">${whole && c.scope.kind === "facility" ? "" : `${escapeHtml(scopeLabel(c.scope, catalogue, lang))} — `}${TEXT[lang].reasons[c.reason] || ""}</p><p class="msg">${escapeHtml(localized(c.message, lang))}</p>${c.message.en && lang === "fr" ? `<p class="l2" lang="en">${escapeHtml(c.message.en)}</p>` : ""}<p class="eta">${c.expected_reopening_at ? TEXT[lang].reopensAt(fmtWhen(c.expected_reopening_at, lang)) : TEXT[lang].reopenUnknown}${c.overdue ? ` — ${TEXT[lang].overdue}` : ""}</p></li>`).join("");
  const heading = closures.length ? `<h2>${icon("stop", 48)} ${both((l) => (whole ? W[l].closures : W[l].partClosures))}</h2>` : "";
  $("closures").innerHTML = `${heading}${items ? `<ul>${items}</ul>` : ""}${nearbyBlock()}`;
}

function renderState() {
  const state = shownState(status);
  const style = STATE_STYLE[state] || STATE_STYLE.unknown;
  $("state").innerHTML = `<p class="badge ${style.tone}" data-state="${state}">${icon(style.icon, 56)}${both((l) => TEXT[l].states[state] || TEXT[l].states.unknown)}</p>`;
  renderHoursNote();
  document.body.dataset.state = status.open_state;
}

function renderFresh() {
  const stale = status.stale || status.live === false;
  const when = ago(status.last_data_at || status.updated_at, lang);
  $("fresh").className = `fresh${stale ? " stale" : ""}`;
  $("fresh").innerHTML = stale
    ? `${icon("stale", 32)} ${status.live === false || !status.last_data_at ? TEXT[lang].staleNoData : TEXT[lang].stale(when)}`
    : TEXT[lang].updated(when);
}

/** « Nos engagements » beside the QR code (the survey): the charter's promises, in one line of
 * the screen's language, as the invitation under it (the footer stays as tall as the QR code). */
function renderPromise() {
  $("promise").textContent = W[lang].promise;
}

/** The panels shown vary (closures, equipment, forecast, queues, appointments): when they do not
 * fit above the footer, the big figures shrink one step, then another — never below the smallest
 * text readable from 3 m (2.2vmin) — rather than run under the footer. */
const TIGHTER = ["tight", "tighter", "tightest", "squeezed"];
function fit() {
  const main = $("main");
  const overflow = () => main.scrollHeight - main.clientHeight;
  // At each step the crowd first keeps its double height beside the others, then gives it up (a
  // town hall's queues and appointments beside it leave it half empty); the first that fits wins,
  // else the smallest step with the layout that runs the least under the footer.
  const leads = $("crowd").hidden ? [false] : [true, false];
  let best = null;
  main.classList.remove(...TIGHTER);
  for (const [i, step] of ["", ...TIGHTER].entries()) {
    if (step) main.classList.add(step);
    for (const lead of leads) {
      main.classList.toggle("lead", lead);
      const over = overflow();
      if (over <= 1) return;
      if (i === TIGHTER.length && (best === null || over < best.over)) best = { lead, over };
    }
  }
  main.classList.toggle("lead", best.lead);
}
new ResizeObserver(fit).observe($("main"));
for (const panel of $("main").children) new ResizeObserver(fit).observe(panel);

function renderAll() {
  renderPromise(); renderState(); renderClosures(); renderCrowd(); renderQueues(); renderAppointments(); renderHours(); renderFresh();
  fit();
  document.body.dataset.seq = String(status.seq);
  if (closedNow() && nearby.state !== status.open_state) refreshNearby();
  if (!closedNow()) nearby = { state: null, items: [] };
}

async function refreshNearby() {
  const asked = status.open_state;
  nearby = { state: asked, items: nearby.items };
  try {
    const response = await fetch(`/v1/facilities/${encodeURIComponent(initial.facility_id)}/nearby?limit=3`, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const body = await response.json();
    if (status.open_state !== asked) return; // the state moved on meanwhile
    nearby = { state: asked, items: body.items || [] };
    renderClosures();
    document.body.dataset.nearby = String(nearby.items.length);
  } catch {
    nearby = { state: null, items: nearby.items }; // try again at the next change or minute
  }
}

function tick() {
  const now = new Date();
  $("clock").textContent = fmtTime(now.toISOString(), lang);
  $("date").textContent = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: "Europe/Paris", weekday: "long", day: "numeric", month: "long" }).format(now);
  if (live.state === "lost" && live.lostSince) {
    const minutes = Math.floor((now - live.lostSince) / 60000);
    $("banner").textContent = W[lang].lost(fmtTime(live.lostSince.toISOString(), lang), minutes < 1 ? "< 1 min" : `${minutes} min`);
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
live.offer(status);
live.follow([initial.facility_id]);
keepLastKnown(live, initial.facility_id, $("offline-age"), lang);
keepPageOffline();
setInterval(tick, 1000);
setInterval(renderFresh, 30000);
setInterval(() => {
  shift();
  if (closedNow()) refreshNearby(); // the others open and close too
}, 60000);
