// "Meilleur moment pour venir": typical affluence per hour of a weekday (GET /typical), as bars
// coloured AND labelled by level, the quietest hour still ahead in words, and the figures as a
// table. The advice is `advise()`, a pure function (tested in Chromium, tests/dashboards/).
import { TEXT, escapeHtml } from "/embed/card.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/** An hour's figure is trusted from this many observations of the same weekday and hour (one per
 * week): one or two weeks are dominated by one-off days (a school trip, a heat wave). */
export const MIN_SAMPLES = 3;
/** No advice unless at least this share of the hours still ahead have trusted figures: a gap may
 * hide the quietest hour. */
export const MIN_KNOWN_SHARE = 0.5;
/** An hour counts as open when one can arrive at its start and stay at least this long. */
export const MIN_STAY_MINUTES = 30;

const WORDS = {
  fr: {
    title: "Meilleur moment pour venir",
    long: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    bestToday: (h) => `Aujourd'hui, le moment le plus calme encore à venir est vers ${h}\u00a0h.`,
    bestNow: "Aujourd'hui, le moment le plus calme encore à venir, c'est maintenant.",
    best: (day, h) => `Le ${day}, le moment le plus calme est habituellement vers ${h}\u00a0h.`,
    few: "Pas encore assez de données pour conseiller une heure.",
    fewWhy: `Il faut au moins ${MIN_SAMPLES} semaines d'historique pour la plupart des heures d'ouverture.`,
    over: "Plus d'heure d'ouverture à venir aujourd'hui : choisissez un autre jour.",
    closed: (day) => `Fermé le ${day}.`, closedToday: "Fermé aujourd'hui : pas de conseil pour aujourd'hui.",
    table: "Voir les chiffres", hour: "Heure", level: "Affluence",
    people: "Personnes (moyenne)", chart: (day) => `Affluence habituelle du ${day}, heure par heure, aux heures d'ouverture`,
    noData: "pas de données", fewData: "pas assez de données", past: "heure passée", choose: "Jour de la semaine",
    gap: "pas de données (pas de barre)", bestMark: "conseillé",
  },
  en: {
    title: "Best time to come",
    long: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    bestToday: (h) => `Today, the quietest time still ahead is around ${h}:00.`,
    bestNow: "Today, the quietest time still ahead is now.",
    best: (day, h) => `On ${day}, the quietest time is usually around ${h}:00.`,
    few: "Not enough data yet to suggest a time.",
    fewWhy: `At least ${MIN_SAMPLES} weeks of history are needed for most opening hours.`,
    over: "No opening hours left today: choose another day.",
    closed: (day) => `Closed on ${day}.`, closedToday: "Closed today: no advice for today.",
    table: "Show the figures", hour: "Hour", level: "Crowding",
    people: "People (average)", chart: (day) => `Usual crowding on ${day}, hour by hour, during opening hours`,
    noData: "no data", fewData: "not enough data", past: "past hour", choose: "Day of the week",
    gap: "no data (no bar)", bestMark: "suggested",
  },
};

const minutes = (hhmm) => {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
};

/** When one can come in hour `h` and stay MIN_STAY_MINUTES within a span: arriving at the
 * hour's start or at the opening if later (a session 20:15–21:15 has its 20 h), leaving by the
 * closing or the hour's end. The span's closing (minutes), or null. */
function closingFor(spans, h) {
  const fits = spans.filter(([opens, closes]) => Math.max(minutes(opens), h * 60) + MIN_STAY_MINUTES <= Math.min(minutes(closes), h * 60 + 60));
  return fits.length ? Math.max(...fits.map(([, closes]) => minutes(closes))) : null;
}

/** The hours (0–23) in which one can arrive and stay MIN_STAY_MINUTES, within `spans`
 * (["09:00", "19:00"] pairs, Paris time). */
export function openHours(spans) {
  const hours = [];
  for (let h = 0; h < 24; h++) if (closingFor(spans, h) !== null) hours.push(h);
  return hours;
}

/**
 * The advice for one day. `cells`: that weekday's /typical cells ({hour, count_avg, ratio_avg,
 * level, samples}); `spans`: its opening spans; `from`: now in minutes since midnight for today
 * (0 for another day). An hour counts while it is not over and one arriving now still has more
 * than MIN_STAY_MINUTES before closing — the hour under way included (at 21:10, closing at
 * 22:00, 21 h is still ahead: the pool is open). Returns every open hour with its
 * kind ("past", "known", "few" = too few observations, "none" = no data) and, as `reason`:
 * "best" (with `best`, the quietest known hour still ahead), "closed" (no opening that day),
 * "over" (no open hour left) or "few" (not enough history to advise).
 */
export function advise(cells, spans, from = 0) {
  const byHour = new Map(cells.map((c) => [c.hour, c]));
  const hours = openHours(spans).map((hour) => {
    const cell = byHour.get(hour) || null;
    let kind = "none";
    if (cell && cell.count_avg !== null && cell.count_avg !== undefined) kind = (cell.samples ?? 0) >= MIN_SAMPLES ? "known" : "few";
    return { hour, cell, kind, ahead: (hour + 1) * 60 > from && from + MIN_STAY_MINUTES < closingFor(spans, hour) };
  });
  if (!hours.length) return { hours, reason: "closed", best: null };
  const ahead = hours.filter((h) => h.ahead);
  if (!ahead.length) return { hours, reason: "over", best: null };
  const known = ahead.filter((h) => h.kind === "known");
  if (known.length < Math.min(2, ahead.length) || known.length < ahead.length * MIN_KNOWN_SHARE) return { hours, reason: "few", best: null };
  const quietness = (h) => h.cell.ratio_avg ?? h.cell.count_avg;
  const best = known.reduce((a, b) => (quietness(b) < quietness(a) ? b : a));
  return { hours, reason: "best", best: best.hour };
}

function paris(date, options) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hourCycle: "h23", ...options }).format(date);
}

function parisWeekday(date = new Date()) {
  return Math.max(0, DAYS.indexOf(paris(date, { weekday: "short" }).toLowerCase().slice(0, 3)));
}

function parisMinutes(date = new Date()) {
  return minutes(paris(date, { hour: "2-digit", minute: "2-digit" }));
}

export async function bestTime(container, facilityId, lang, base = "/") {
  const w = WORDS[lang];
  const levels = TEXT[lang].levels;
  let typical;
  let detail = null;
  try {
    const [t, d] = await Promise.all([
      fetch(new URL(`v1/facilities/${encodeURIComponent(facilityId)}/typical`, new URL(base, location.href))),
      fetch(new URL(`v1/facilities/${encodeURIComponent(facilityId)}`, new URL(base, location.href))),
    ]);
    typical = t.ok ? await t.json() : { items: [] };
    detail = d.ok ? await d.json() : null;
  } catch {
    typical = { items: [] };
  }
  const today = parisWeekday();
  let day = today;

  function spansOf(d) {
    // Today: the live status's hours (exceptions included); another day: the usual week.
    if (d === today && detail?.today_hours) return detail.today_hours.map((h) => [h.opens, h.closes]);
    return detail?.catalogue?.hours?.weekly?.[DAYS[d]] || [];
  }

  function draw() {
    const cells = typical.items.filter((c) => c.weekday === day + 1);
    const isToday = day === today;
    const advice = advise(cells, spansOf(day), isToday ? parisMinutes() : 0);
    const closedNow = isToday && detail?.open_state === "exceptionally_closed";
    const hours = advice.hours;
    const known = hours.filter((h) => h.kind === "known");
    const max = Math.max(0.0001, ...known.map((h) => h.cell.ratio_avg ?? h.cell.count_avg));
    const step = 24;
    const width = Math.max(1, hours.length) * step;
    const bars = hours.map((h, i) => {
      const x = i * step;
      const shown = h.kind === "known";
      const what = shown ? levels[h.cell.level] || levels.low : h.kind === "few" ? w.fewData : w.noData;
      const label = `${h.hour} h : ${what}${h.ahead ? "" : ` (${w.past})`}${advice.best === h.hour && !closedNow ? ` — ${w.bestMark}` : ""}`;
      const height = shown ? Math.max(3, Math.round(((h.cell.ratio_avg ?? h.cell.count_avg) / max) * 80)) : 0;
      const mark = shown
        ? `<rect class="bar-${h.cell.level || "low"}${h.ahead ? "" : " past"}${advice.best === h.hour && !closedNow ? " best" : ""}" x="${x + 3}" y="${90 - height}" width="18" height="${height}" rx="2"/>`
        : `<line class="gap" x1="${x + 4}" x2="${x + 20}" y1="89" y2="89"/><text class="gap-label" x="${x + 12}" y="84" text-anchor="middle">?</text>`;
      const tick = i % 2 === 0 ? `<text x="${x + 12}" y="104" text-anchor="middle">${h.hour}h</text>` : "";
      return `<g><title>${escapeHtml(label)}</title>${mark}${tick}</g>`;
    }).join("");
    const nowIndex = hours.findIndex((h) => h.hour === Math.floor(parisMinutes() / 60));
    const nowLine = isToday && nowIndex >= 0 ? `<line class="now" x1="${nowIndex * step + 12}" x2="${nowIndex * step + 12}" y1="4" y2="92"/>` : "";
    let sentence;
    let why = "";
    if (closedNow) sentence = w.closedToday;
    else if (advice.reason === "best" && isToday) sentence = advice.best === Math.floor(parisMinutes() / 60) ? w.bestNow : w.bestToday(advice.best);
    else if (advice.reason === "best") sentence = w.best(w.long[day], advice.best);
    else if (advice.reason === "closed") sentence = w.closed(w.long[day]);
    else if (advice.reason === "over") sentence = w.over;
    else { sentence = w.few; why = w.fewWhy; }
    const rows = hours.map((h) => {
      const has = h.kind === "known";
      return `<tr><th scope="row">${h.hour} h</th><td>${has ? levels[h.cell.level] || "—" : h.kind === "few" ? w.fewData : w.noData}${h.ahead ? "" : ` (${w.past})`}</td><td>${has ? Math.round(h.cell.count_avg) : "—"}</td></tr>`;
    }).join("");
    // A day without a single trusted figure is said in words only: a chart of gaps tells nothing.
    const chart = hours.some((h) => h.kind === "known") ? `<svg class="chart" viewBox="0 0 ${width} 108" role="img" aria-label="${escapeHtml(w.chart(w.long[day]))}">${bars}${nowLine}</svg>
      <ul class="legend">${["low", "moderate", "high", "full"].map((l) => `<li><span class="bar-${l}" style="background:var(--c-${l})"></span>${levels[l]}</li>`).join("")}<li><span class="gap-key"></span>${w.gap}</li></ul>
      <details class="table"><summary>${w.table}</summary><table><thead><tr><th scope="col">${w.hour}</th><th scope="col">${w.level}</th><th scope="col">${w.people}</th></tr></thead><tbody>${rows}</tbody></table></details>` : "";
    container.innerHTML = `<h2>${w.title}</h2>
      <div class="days" role="group" aria-label="${w.choose}">${w.long.map((d, i) => `<button type="button" data-day="${i}" aria-pressed="${i === day}">${d}</button>`).join("")}</div>
      <p class="advice" data-reason="${closedNow ? "closed" : advice.reason}"><strong>${sentence}</strong>${why ? ` <span>${why}</span>` : ""}</p>
      ${chart}`;
    container.querySelectorAll("[data-day]").forEach((b) => b.addEventListener("click", () => {
      day = Number(b.dataset.day);
      draw();
      container.querySelector(`[data-day="${day}"]`).focus();
    }));
  }
  draw();
}
