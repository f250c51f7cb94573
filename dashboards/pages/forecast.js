// The crowding forecast (issue 21) on the facility page, the directory's detail panel and the
// in-facility screen: « dans 1 h : affluence modérée », « meilleur moment pour venir aujourd'hui »
// and the chart of today — the observed curve, the forecast band (p10–p90) and the typical day —
// labelled as a forecast with its measured accuracy. Reads GET /v1/facilities/{id}/forecast (what
// the 15-minute forecasting job stored), /history (today, 15 min) and /typical; refreshes every
// 5 minutes. Nothing is shown for a facility without a forecast (< 14 days of history). For queues,
// « Attente prévue à 11 h : ~20 min (prévision) » per service, with the waits' measured accuracy.
// On the directory, each result card gets « dans 1 h : … » from one batch read (GET /v1/forecasts).
import { TEXT, escapeHtml, fmtTime } from "/embed/card.js";

const REFRESH_MS = 5 * 60 * 1000;
const PARIS = "Europe/Paris";

export const WORDS = {
  fr: {
    title: "Prévision d'affluence",
    next: (what) => `Dans 1\u00a0h : ${what}`,
    closedNext: "fermé",
    people: (n) => `environ ${n} personnes`,
    best: (time, until) => `Meilleur moment pour venir aujourd'hui (d'ici ${until}) : ${time}`,
    noBest: "Meilleur moment pour venir aujourd'hui : plus de créneau ouvert dans les 4 prochaines heures.",
    label: "prévision",
    accuracy: (mae, coverage) => `Prévision — erreur moyenne ${mae} personnes à 1\u00a0h, ${coverage}\u00a0% des valeurs observées dans la fourchette (mesuré sur un historique simulé).`,
    short: (mae) => `Prévision — erreur moyenne ${mae} personnes à 1\u00a0h.`,
    unmeasured: "Prévision — précision pas encore mesurée.",
    generated: (time) => `Calculée à ${time}.`,
    stale: (time) => `Prévision ancienne : calculée à ${time}, pas mise à jour depuis plus de 30 minutes.`,
    chart: "Affluence d'aujourd'hui : observée, prévue (fourchette probable) et journée habituelle",
    observed: "Observé", band: "Prévision (fourchette probable)", typical: "Journée habituelle", now: "Maintenant",
    table: "Voir les chiffres de la prévision", time: "Heure", level: "Affluence prévue", range: "Personnes (fourchette)",
    closed: "fermé",
    waitsTitle: "Attente prévue aux guichets",
    waitAt: (time, wait) => `Attente prévue à ${time} : ${wait} (prévision)`,
    waitClosedAt: (time) => `Service fermé à ${time} (prévision)`,
    minutes: (n) => `~${n}\u00a0min`,
    noWait: "pas d'attente",
    waitAccuracy: (mae, coverage) => `Attentes prévues — erreur moyenne ${mae}\u00a0min à 1\u00a0h, ${coverage}\u00a0% des attentes observées dans la fourchette (mesuré sur un historique simulé).`,
    waitShort: (mae) => `Attentes prévues — erreur moyenne ${mae}\u00a0min à 1\u00a0h.`,
    hour: (h, m) => (m ? `${h}\u00a0h\u00a0${String(m).padStart(2, "0")}` : `${h}\u00a0h`),
    waitHead: (time) => `Attente prévue à ${time} (prévision)`,
    noForecast: "pas de prévision",
  },
  en: {
    title: "Crowding forecast",
    next: (what) => `In 1 hour: ${what}`,
    closedNext: "closed",
    people: (n) => `about ${n} people`,
    best: (time, until) => `Best time to come today (until ${until}): ${time}`,
    noBest: "Best time to come today: no opening left in the next 4 hours.",
    label: "forecast",
    accuracy: (mae, coverage) => `Forecast — mean error ${mae} people 1 hour ahead, ${coverage}% of observed values within the range (measured on simulated history).`,
    short: (mae) => `Forecast — mean error ${mae} people 1 hour ahead.`,
    unmeasured: "Forecast — accuracy not measured yet.",
    generated: (time) => `Computed at ${time}.`,
    stale: (time) => `Old forecast: computed at ${time}, not updated for more than 30 minutes.`,
    chart: "Today's crowding: observed, forecast (likely range) and typical day",
    observed: "Observed", band: "Forecast (likely range)", typical: "Typical day", now: "Now",
    table: "Show the forecast figures", time: "Time", level: "Expected crowding", range: "People (range)",
    closed: "closed",
    waitsTitle: "Expected wait at the desks",
    waitAt: (time, wait) => `Expected wait at ${time}: ${wait} (forecast)`,
    waitClosedAt: (time) => `Service closed at ${time} (forecast)`,
    minutes: (n) => `~${n} min`,
    noWait: "no wait",
    waitAccuracy: (mae, coverage) => `Expected waits — mean error ${mae} min 1 hour ahead, ${coverage}% of observed waits within the range (measured on simulated history).`,
    waitShort: (mae) => `Expected waits — mean error ${mae} min.`,
    hour: (h, m) => `${h}:${String(m).padStart(2, "0")}`,
    waitHead: (time) => `Expected wait at ${time} (forecast)`,
    noForecast: "no forecast",
  },
};

const parisParts = (date) => {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: PARIS, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", weekday: "short" }).formatToParts(date);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
};
/** Minutes since Paris midnight of the Paris day `day` ("YYYY-MM-DD"), or null on another day. */
const minuteOf = (iso, day) => {
  const p = parisParts(new Date(iso));
  return `${p.year}-${p.month}-${p.day}` === day ? Number(p.hour) * 60 + Number(p.minute) : null;
};
const todayOf = (date) => {
  const p = parisParts(date);
  return `${p.year}-${p.month}-${p.day}`;
};
const ISO_WEEKDAY = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const lower = (s) => s.charAt(0).toLowerCase() + s.slice(1);
const round = (n) => Math.round(n);

/** The sentences of a forecast (pure: tested in Chromium with the page). */
export function sentences(forecast, lang) {
  const w = WORDS[lang];
  const levels = TEXT[lang].levels;
  const inOneHour = forecast.forecast[3];
  let next;
  if (!inOneHour || inOneHour.p50 === null) next = w.next(w.closedNext);
  else if (inOneHour.level) next = w.next(lower(levels[inOneHour.level]));
  else next = w.next(w.people(round(inOneHour.p50)));
  let best = w.noBest;
  if (forecast.best_time) {
    const at = fmtTime(forecast.best_time.at, lang);
    const level = forecast.best_time.level ? ` (${lower(levels[forecast.best_time.level])})` : "";
    // Said for the forecast's horizon only: up to the end of its last open step today.
    const today = todayOf(new Date(forecast.best_time.at));
    const lastOpen = forecast.forecast.filter((st) => st.p50 !== null && todayOf(new Date(st.at)) === today).pop();
    const until = fmtTime(new Date(new Date(lastOpen.at).getTime() + 15 * 60000).toISOString(), lang);
    best = w.best(`${at}${level}`, until);
  }
  const a = forecast.accuracy;
  const measured = a && a.mae_1h_people !== null && a.mae_1h_people !== undefined;
  const figure = (n) => new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }).format(n);
  const accuracy = measured ? w.accuracy(figure(a.mae_1h_people), figure(a.coverage_pct)) : w.unmeasured;
  const short = measured ? w.short(figure(a.mae_1h_people)) : w.unmeasured;
  const time = fmtTime(forecast.generated_at, lang);
  return { next, best, accuracy, short, fresh: forecast.stale ? w.stale(time) : w.generated(time) };
}

/** "11 h" / "11 h 15" (French), "11:00" (English): a step's time, Paris. */
const hourOf = (iso, lang) => {
  const p = parisParts(new Date(iso));
  return WORDS[lang].hour(Number(p.hour), Number(p.minute));
};

/** A wait in words: "~20 min" (to 5 min from 10 min on), "pas d'attente" under a minute. */
const waitWords = (minutes, lang) => {
  const w = WORDS[lang];
  if (minutes < 1) return w.noWait;
  return w.minutes(minutes < 10 ? Math.round(minutes) : 5 * Math.round(minutes / 5));
};

/** One line per queue service: its wait 1 hour ahead, or why there is no forecast (pure). */
export function waitLines(forecast, lang) {
  const w = WORDS[lang];
  return (forecast.queues || []).map((q) => {
    const name = (q.name && (q.name[lang] || q.name.fr)) || q.service_id;
    const step = q.forecast[3];
    let text;
    if (!q.forecast.length) text = (q.message && (q.message[lang] || q.message.fr)) || "";
    else if (!step || step.p50 === null) text = w.waitClosedAt(hourOf(step ? step.at : q.forecast[0].at, lang));
    else text = w.waitAt(hourOf(step.at, lang), waitWords(step.p50, lang));
    return { service: q.service_id, name, text, forecast: q.forecast.length > 0 };
  });
}

/** The wait forecasts' measured accuracy, in words (long on pages, short on the screen). */
function waitAccuracy(forecast, lang, short) {
  const w = WORDS[lang];
  const a = (forecast.queues || []).map((q) => q.accuracy).find((x) => x && x.mae_1h_minutes !== null && x.mae_1h_minutes !== undefined);
  if (!a) return w.unmeasured;
  const figure = (n) => new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }).format(n);
  return short ? w.waitShort(figure(a.mae_1h_minutes)) : w.waitAccuracy(figure(a.mae_1h_minutes), figure(a.coverage_pct));
}

/** The screen's compact form: « Attente prévue à 12 h (prévision) » once, then each service
 * and its wait on one row (French, then English), so that the panel keeps to its height. */
function waitsScreenHtml(forecast, langs) {
  const queues = forecast.queues || [];
  const first = queues.find((q) => q.forecast.length);
  if (!first) return "";
  const step = first.forecast[3] || first.forecast[0];
  const bi = (parts) => parts.map((text, i) => (i ? ` <span class="l2" lang="en">${escapeHtml(text)}</span>` : escapeHtml(text))).join("");
  const same = (text) => text.replace(/\u00a0/g, " ");
  const head = langs.map((l) => WORDS[l].waitHead(hourOf(step.at, l)));
  const items = queues.map((q) => {
    const name = (q.name && (q.name[langs[0]] || q.name.fr)) || q.service_id;
    const at = q.forecast[3];
    const said = langs.map((l) => (!q.forecast.length ? WORDS[l].noForecast : !at || at.p50 === null ? WORDS[l].closed : waitWords(at.p50, l)));
    return `<li class="fc-wait" data-service="${escapeHtml(q.service_id)}"><span class="fc-service">${escapeHtml(name)}</span> <strong>${escapeHtml(said[0])}</strong>${said.length > 1 && same(said[1]) !== same(said[0]) ? ` <span class="l2" lang="en">${escapeHtml(said[1])}</span>` : ""}</li>`;
  }).join("");
  return `<div class="fc-waits fc-waits-screen"><h3>${bi(head)}</h3><ul>${items}</ul><p class="fc-accuracy">${bi(langs.map((l) => waitAccuracy(forecast, l, true)))}</p></div>`;
}

function waitsHtml(forecast, langs, screen) {
  if (screen) return waitsScreenHtml(forecast, langs);
  const lines = langs.map((l) => waitLines(forecast, l));
  if (!lines[0].length || !lines[0].some((line) => line.forecast)) return "";
  const bi = (parts) => parts.map((text, i) => (i ? ` <span class="l2" lang="en">${escapeHtml(text)}</span>` : escapeHtml(text))).join("");
  const items = lines[0].map((line, k) => `<li class="fc-wait" data-service="${escapeHtml(line.service)}"><span class="fc-service">${bi(lines.map((ls) => ls[k].name))}</span> — ${bi(lines.map((ls) => ls[k].text))}</li>`).join("");
  const title = bi(langs.map((l) => WORDS[l].waitsTitle));
  return `<div class="fc-waits"><h3>${title}</h3><ul>${items}</ul><p class="fc-accuracy">${bi(langs.map((l) => waitAccuracy(forecast, l, screen)))}</p></div>`;
}

async function getJson(url) {
  try {
    const answer = await fetch(url);
    return answer.ok ? await answer.json() : null;
  } catch {
    return null;
  }
}

/** The SVG of today: typical day (hourly), observed (15 min), band and p50 of the forecast. */
export function chartSvg(forecast, observed, typical, lang, now = new Date(), width = 600, dense = false) {
  const w = WORDS[lang];
  const day = todayOf(now);
  const obs = observed.map((b) => [minuteOf(b.at, day), b.count_avg]).filter(([m, v]) => m !== null && v !== null);
  const steps = forecast.forecast.map((s) => ({ ...s, m: minuteOf(s.at, day) })).filter((s) => s.m !== null);
  const nowMinute = minuteOf(now.toISOString(), day);
  const open = steps.filter((s) => s.p50 !== null);
  const firstHour = Math.min(...obs.map(([m]) => Math.floor(m / 60)), Math.floor(nowMinute / 60) - 2, 23);
  const lastHour = Math.max(...open.map((s) => Math.ceil((s.m + 15) / 60)), Math.ceil(nowMinute / 60) + 1);
  const x0 = Math.max(0, firstHour) * 60;
  const x1 = Math.min(24, Math.max(lastHour, Math.max(0, firstHour) + 2)) * 60;
  const typ = typical.filter((c) => c.count_avg !== null && c.hour * 60 + 30 >= x0 && c.hour * 60 + 30 <= x1);
  const top = Math.max(10, ...obs.map(([, v]) => v), ...open.map((s) => s.p90), ...typ.map((c) => c.count_avg)) * 1.1;
  // dense (the lobby screen): labels drawn at 42 user units (forecast.css) need a wider left
  // margin, a taller bottom one and hours at least 110 units apart, or they run into each other
  const W = Math.round(Math.max(300, Math.min(600, width))), H = Math.round(W * 0.37), L = dense ? 92 : 44, R = dense ? 40 : 10, T = dense ? 40 : 10, B = dense ? 68 : 30;
  const x = (m) => L + ((m - x0) / (x1 - x0)) * (W - L - R);
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const line = (points) => points.map(([m, v], i) => `${i ? "L" : "M"}${x(m).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const runs = [];
  for (const s of steps) {
    if (s.p50 === null) { if (runs.length && runs[runs.length - 1].length) runs.push([]); continue; }
    if (!runs.length) runs.push([]);
    runs[runs.length - 1].push(s);
  }
  const band = runs.filter((r) => r.length).map((r) => {
    const upper = r.map((s) => [s.m + 7.5, s.p90]);
    const lowerEdge = r.map((s) => [s.m + 7.5, s.p10]).reverse();
    return `<path class="fc-band" d="${line([...upper, ...lowerEdge])}Z"/><path class="fc-p50" d="${line(r.map((s) => [s.m + 7.5, s.p50]))}"/>`;
  }).join("");
  const typicalPath = typ.length > 1 ? `<path class="fc-typical" d="${line(typ.map((c) => [c.hour * 60 + 30, c.count_avg]))}"/>` : "";
  const observedPath = obs.length > 1 ? `<path class="fc-observed" d="${line(obs.map(([m, v]) => [m + 7.5, v]))}"/>` : "";
  const ticks = [];
  const perHour = (W - L - R) / ((x1 - x0) / 60);
  const every = dense ? ([2, 3, 4, 6].find((n) => n * perHour >= 110) ?? 6) : (x1 - x0) > 600 || W < 400 ? 2 : 1;
  for (let h = Math.ceil(x0 / 60); h <= x1 / 60; h += every) ticks.push(`<text x="${x(h * 60).toFixed(1)}" y="${H - (dense ? 12 : 10)}" text-anchor="middle">${h}h</text>`);
  const yTicks = [0, 0.5, 1].map((f) => `<text x="${L - 6}" y="${(y(top * f / 1.1) + 4).toFixed(1)}" text-anchor="end">${round(top * f / 1.1)}</text>`).join("");
  const nowLine = nowMinute !== null && nowMinute >= x0 && nowMinute <= x1 ? `<rect class="fc-now" x="${(x(nowMinute) - 1).toFixed(1)}" y="${T}" width="2" height="${H - B - T}"/>` : "";
  return `<svg class="fc-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(w.chart)}">
    <line class="fc-axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>${yTicks}${ticks.join("")}
    ${typicalPath}${band}${observedPath}${nowLine}</svg>
    <ul class="fc-legend"><li><span class="fc-key fc-key-observed"></span>${w.observed}</li><li><span class="fc-key fc-key-band"></span>${w.band}</li><li><span class="fc-key fc-key-typical"></span>${w.typical}</li><li><span class="fc-key fc-key-now"></span>${w.now}</li></ul>`;
}

function tableHtml(forecast, lang) {
  const w = WORDS[lang];
  const levels = TEXT[lang].levels;
  const rows = forecast.forecast.map((s) => `<tr><th scope="row">${fmtTime(s.at, lang)}</th><td>${s.p50 === null ? w.closed : s.level ? levels[s.level] : w.people(round(s.p50))}</td><td>${s.p50 === null ? "—" : `${round(s.p10)}–${round(s.p90)}`}</td></tr>`).join("");
  return `<details class="fc-table"><summary>${w.table}</summary><table><thead><tr><th scope="col">${w.time}</th><th scope="col">${w.level}</th><th scope="col">${w.range}</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

/** Fill `section` with the forecast of `facilityId`; hidden when there is none. */
export async function forecastPanel(section, facilityId, lang, { screen = false, base = "/" } = {}) {
  const root = new URL(base, location.href);
  const id = encodeURIComponent(facilityId);
  const forecast = await getJson(new URL(`v1/facilities/${id}/forecast`, root));
  const crowd = Boolean(forecast?.forecast?.length);
  const waits = Boolean(forecast?.queues?.some((q) => q.forecast.length));
  if (!crowd && !waits) {
    section.hidden = true;
    return;
  }
  const now = new Date();
  const since = new Date(now.getTime() - (Number(parisParts(now).hour) * 60 + Number(parisParts(now).minute)) * 60000);
  const [history, typical] = await Promise.all([
    getJson(new URL(`v1/facilities/${id}/history?step=15m&from=${encodeURIComponent(since.toISOString())}&to=${encodeURIComponent(now.toISOString())}`, root)),
    getJson(new URL(`v1/facilities/${id}/typical`, root)),
  ]);
  const weekday = ISO_WEEKDAY[parisParts(now).weekday];
  const typicalToday = (typical?.items || []).filter((c) => c.weekday === weekday);
  const langs = screen && lang === "fr" ? ["fr", "en"] : [lang];
  const said = crowd ? langs.map((l) => sentences(forecast, l)) : [];
  const both = (key) => said.map((s, i) => (i ? `<span class="l2" lang="en">${s[key]}</span>` : s[key])).join(" ");
  const titleId = `forecast-title-${facilityId}`;
  section.setAttribute("aria-labelledby", titleId);
  // The screen says "forecast" in its title (no room for the tag); the pages add the tag.
  const title = `<h2 id="${titleId}">${langs.map((l, i) => (i ? `<span class="l2" lang="en">${WORDS[l].title}</span>` : WORDS[l].title)).join(" ")}${screen ? "" : ` <span class="fc-tag">${WORDS[lang].label}</span>`}</h2>`;
  const w = WORDS[lang];
  const time = fmtTime(forecast.generated_at, lang);
  const fresh = forecast.stale ? w.stale(time) : w.generated(time);
  const crowdText = crowd
    ? `<p class="fc-next"><strong>${both("next")}</strong></p>
    <p class="fc-best"><strong>${both("best")}</strong></p>
    <p class="fc-accuracy">${both(screen ? "short" : "accuracy")}</p>`
    : "";
  section.innerHTML = `${screen ? "" : title}
    <div class="fc-text">${screen ? title : ""}
    ${crowdText}
    ${waitsHtml(forecast, langs, screen)}
    ${screen && !forecast.stale ? "" : `<p class="fc-fresh${forecast.stale ? " fc-stale" : ""}">${fresh}</p>`}
    </div>
    ${crowd ? `<div class="fc-graph">${chartSvg(forecast, history?.items || [], typicalToday, lang, now, screen ? 600 : (section.parentElement?.clientWidth || 600) - 40, screen)}</div>` : ""}
    ${crowd && !screen ? tableHtml(forecast, lang) : ""}`;
  section.hidden = false;
}

function mount(section) {
  const screen = section.dataset.variant === "screen";
  const run = () => forecastPanel(section, section.dataset.forecast, section.dataset.lang || document.documentElement.lang || "fr", { screen });
  run();
  setInterval(run, REFRESH_MS);
}

document.querySelectorAll("section[data-forecast]").forEach(mount);

/** « Dans 1 h : affluence modérée » of a stored forecast (null: nothing to say). */
export function cardNote(forecast, lang) {
  if (!forecast || !forecast.forecast?.length) return null;
  return sentences(forecast, lang).next;
}

/** The directory's result cards: one batch read of the stored forecasts of the facilities on the
 * page (GET /v1/forecasts), then « dans 1 h : … » under each card's live line. */
const asked = new WeakSet();
async function annotateCards(list) {
  const cards = [...list.querySelectorAll("li.facility[data-id]")].filter((li) => !asked.has(li));
  if (!cards.length) return;
  cards.forEach((li) => asked.add(li));
  const lang = document.documentElement.lang === "en" ? "en" : "fr";
  const query = cards.map((li) => `facility=${encodeURIComponent(li.dataset.id)}`).join("&");
  const answer = await getJson(new URL(`/v1/forecasts?${query}`, location.href));
  const byId = new Map((answer?.items || []).map((f) => [f.facility_id, f]));
  for (const li of cards) {
    const said = cardNote(byId.get(li.dataset.id), lang);
    if (!said || li.querySelector(".fc-card")) continue;
    const note = document.createElement("p");
    note.className = "fc-card";
    note.innerHTML = `${escapeHtml(said)} <span class="fc-tag">${WORDS[lang].label}</span>`;
    (li.querySelector("p.live") || li.querySelector("h2")).after(note);
  }
}

const results = document.getElementById("results");
if (results && document.querySelector("[data-forecast-directory]")) {
  const run = () => {
    const list = document.getElementById("facilities");
    if (list) annotateCards(list);
  };
  run();
  // directory.js swaps the results region as the filters change, and appends « more » pages.
  new MutationObserver(run).observe(results, { childList: true, subtree: true });
}

// The directory: its detail panel (a dialog directory.js fills) gets the forecast under the card.
const detail = document.getElementById("detail");
if (detail && document.querySelector("[data-forecast-directory]")) {
  new MutationObserver(() => {
    const card = detail.querySelector("paris-facility-card");
    if (!card || detail.querySelector("section.forecast")) return;
    const section = document.createElement("section");
    section.className = "forecast";
    section.hidden = true;
    card.after(section);
    forecastPanel(section, card.getAttribute("facility"), card.getAttribute("lang") || "fr");
  }).observe(detail, { childList: true });
}
