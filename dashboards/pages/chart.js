// "Meilleur moment pour venir": typical affluence per hour of a weekday (GET /typical), as bars
// coloured AND labelled by level, the quietest open hour in words, and the figures as a table.
import { TEXT, escapeHtml } from "/embed/card.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WORDS = {
  fr: {
    title: "Meilleur moment pour venir",
    long: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    best: (day, h) => `Le ${day}, le moment le plus calme est vers ${h} h.`,
    none: "Pas encore assez d'historique pour connaître l'affluence habituelle.",
    closed: (day) => `Fermé le ${day}.`, table: "Voir les chiffres", hour: "Heure", level: "Affluence",
    people: "Personnes (moyenne)", chart: (day) => `Affluence habituelle du ${day}, heure par heure`,
    noData: "pas de donnée", choose: "Jour de la semaine",
  },
  en: {
    title: "Best time to come",
    long: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    best: (day, h) => `On ${day}, the quietest time is around ${h}:00.`,
    none: "Not enough history yet to know the usual crowding.",
    closed: (day) => `Closed on ${day}.`, table: "Show the figures", hour: "Hour", level: "Crowding",
    people: "People (average)", chart: (day) => `Usual crowding on ${day}, hour by hour`,
    noData: "no data", choose: "Day of the week",
  },
};

function parisWeekday(date = new Date()) {
  const name = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", weekday: "short" }).format(date).toLowerCase().slice(0, 3);
  return Math.max(0, DAYS.indexOf(name));
}

function openHours(catalogue, day) {
  const spans = catalogue?.hours?.weekly?.[DAYS[day]] || [];
  const hours = new Set();
  for (const [opens, closes] of spans) {
    const start = parseInt(opens, 10);
    const end = parseInt(closes, 10) + (closes.endsWith(":00") ? 0 : 1);
    for (let h = start; h < end; h++) hours.add(h);
  }
  return hours;
}

export async function bestTime(container, facilityId, lang, base = "/") {
  const w = WORDS[lang];
  const levels = TEXT[lang].levels;
  let typical;
  let catalogue = null;
  try {
    const [t, d] = await Promise.all([
      fetch(new URL(`v1/facilities/${encodeURIComponent(facilityId)}/typical`, new URL(base, location.href))),
      fetch(new URL(`v1/facilities/${encodeURIComponent(facilityId)}`, new URL(base, location.href))),
    ]);
    typical = t.ok ? await t.json() : { items: [] };
    catalogue = d.ok ? (await d.json()).catalogue : null;
  } catch {
    typical = { items: [] };
  }
  let day = parisWeekday();

  function draw() {
    const cells = typical.items.filter((c) => c.weekday === day + 1);
    const open = openHours(catalogue, day);
    const withData = cells.filter((c) => c.count_avg !== null && (open.size === 0 || open.has(c.hour)));
    const hours = open.size ? [...open].sort((a, b) => a - b) : [...Array(18).keys()].map((h) => h + 6);
    const max = Math.max(1, ...withData.map((c) => c.ratio_avg ?? 0));
    const width = 24 * hours.length;
    const bars = hours.map((h, i) => {
      const c = cells.find((x) => x.hour === h);
      const has = c && c.count_avg !== null;
      const height = has ? Math.max(2, Math.round(((c.ratio_avg ?? 0) / max) * 80)) : 4;
      const level = has ? c.level || "low" : "none";
      const label = `${h} h : ${has ? levels[level] || "" : w.noData}`;
      return `<g><title>${escapeHtml(label)}</title><rect class="bar-${level}" x="${i * 24 + 3}" y="${90 - height}" width="18" height="${height}" rx="2"/>${i % 2 === 0 ? `<text x="${i * 24 + 12}" y="104" text-anchor="middle">${h}h</text>` : ""}</g>`;
    }).join("");
    const nowHour = parseInt(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", hourCycle: "h23" }).format(new Date()), 10);
    const nowIndex = hours.indexOf(nowHour);
    const nowLine = day === parisWeekday() && nowIndex >= 0 ? `<line class="now" x1="${nowIndex * 24 + 12}" x2="${nowIndex * 24 + 12}" y1="4" y2="92"/>` : "";
    let sentence = w.none;
    if (catalogue && open.size === 0) sentence = w.closed(w.long[day]);
    else if (withData.length) {
      const best = withData.reduce((a, b) => ((b.ratio_avg ?? b.count_avg) < (a.ratio_avg ?? a.count_avg) ? b : a));
      sentence = w.best(w.long[day], best.hour);
    }
    const rows = hours.map((h) => {
      const c = cells.find((x) => x.hour === h);
      const has = c && c.count_avg !== null;
      return `<tr><th scope="row">${h} h</th><td>${has ? levels[c.level] || "—" : w.noData}</td><td>${has ? Math.round(c.count_avg) : "—"}</td></tr>`;
    }).join("");
    container.innerHTML = `<h2>${w.title}</h2>
      <div class="days" role="group" aria-label="${w.choose}">${w.long.map((d, i) => `<button type="button" data-day="${i}" aria-pressed="${i === day}">${d}</button>`).join("")}</div>
      <p><strong>${sentence}</strong></p>
      <svg class="chart" viewBox="0 0 ${width} 108" role="img" aria-label="${escapeHtml(w.chart(w.long[day]))}">${bars}${nowLine}</svg>
      <ul class="legend">${["low", "moderate", "high", "full"].map((l) => `<li><span class="bar-${l}" style="background:var(--c-${l})"></span>${levels[l]}</li>`).join("")}</ul>
      <details class="table"><summary>${w.table}</summary><table><thead><tr><th scope="col">${w.hour}</th><th scope="col">${w.level}</th><th scope="col">${w.people}</th></tr></thead><tbody>${rows}</tbody></table></details>`;
    container.querySelectorAll("[data-day]").forEach((b) => b.addEventListener("click", () => {
      day = Number(b.dataset.day);
      draw();
      container.querySelector(`[data-day="${day}"]`).focus();
    }));
  }
  draw();
}
