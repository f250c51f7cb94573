// The directory: filters and search without reloading, live states, a detail dialog with the card
// and the "meilleur moment pour venir" chart. The server rendered every facility and applied the
// same rules (api/pages/directory.py: a search matches word beginnings of `data-search`, "Peu
// d'affluence" keeps open facilities counted as quiet, procedures are found in `data-words`).
import { LiveClient, TEXT, escapeHtml, hoursLine, langOf, localized, renderState } from "/embed/card.js";
import { bestTime } from "/static/pages/chart.js";

const OPEN = new Set(["open", "closing_soon", "partially_closed"]);
const MAX_HINTS = 3;
const lang = langOf(document.body);
const form = document.querySelector("form.filters");
const list = document.getElementById("facilities");
const count = document.getElementById("count");
const detail = document.getElementById("detail");
const empty = document.getElementById("empty");
const hints = document.getElementById("hints");
const items = new Map([...list.querySelectorAll("li.facility")].map((li) => [li.dataset.id, li]));
const states = new Map();
const words = {
  fr: { close: "Fermer", closures: "Fermeture en cours :" },
  en: { close: "Close", closures: "Current closure:" },
}[lang];

document.documentElement.classList.add("js");

export const normalize = (text) => text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, " ").trim();

/** Every word of `q` begins a word of `text` (normalised): the search's one rule. */
export function foundBy(text, q) {
  const terms = normalize(q).split(" ").filter(Boolean);
  return terms.length > 0 && terms.every((w) => ` ${text} `.includes(` ${w}`));
}

function stateOf(li) {
  return states.get(li.dataset.id)?.open_state ?? li.querySelector("[data-state]")?.dataset.state;
}

/** The crowd level a person sees: none while closed (a closed pool is not "Peu de monde"). */
function levelOf(li) {
  const status = states.get(li.dataset.id);
  if (!OPEN.has(stateOf(li))) return null;
  if (status) return status.occupancy?.level ?? null;
  return li.querySelector(".crowd")?.className.match(/lvl-(\w+)/)?.[1] ?? null;
}

function matches(li, data) {
  const q = String(data.get("q") || "");
  if (normalize(q) && !foundBy(li.dataset.search, q)) return false;
  if (data.get("type") && li.dataset.type !== data.get("type")) return false;
  if (data.get("arrondissement") && li.dataset.arr !== data.get("arrondissement")) return false;
  if (data.get("open_now") && !OPEN.has(stateOf(li))) return false;
  if (data.get("low_crowd") && levelOf(li) !== "low") return false;
  if (data.get("accessible") && !li.dataset.access.split(" ").includes("wheelchair_accessible")) return false;
  return true;
}

function applyFilters({ remember = true } = {}) {
  const data = new FormData(form);
  let shown = 0;
  for (const li of items.values()) {
    const ok = matches(li, data);
    li.hidden = !ok;
    if (ok) shown++;
  }
  count.textContent = String(shown);
  // The plural rule of the page's language (French: 0 and 1 are singular).
  const word = document.getElementById("count-word");
  word.textContent = (lang === "fr" ? shown <= 1 : shown === 1) ? word.dataset.one : word.dataset.many;
  empty.hidden = shown > 0;
  const q = String(data.get("q") || "");
  let named = 0;
  for (const li of hints.querySelectorAll("li[data-words]")) {
    const ok = named < MAX_HINTS && foundBy(li.dataset.words, q);
    li.hidden = !ok;
    if (ok) named++;
  }
  hints.hidden = named === 0;
  if (!remember) return;
  const params = new URLSearchParams([...data].filter(([k, v]) => v !== "" && !(k === "lang" && v === "fr")));
  history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
}

function paint(status) {
  const li = items.get(status.facility_id);
  if (!li) return;
  const t = TEXT[lang];
  const level = OPEN.has(status.open_state) ? status.occupancy?.level : null;
  const closure = status.closures?.[0];
  li.querySelector(".live").innerHTML = `${renderState(status, lang, 18)}${level ? ` <span class="crowd lvl-${level}">${t.levels[level]}</span>` : ""}`;
  li.querySelector(".hours").textContent = hoursLine(status, lang).spans;
  li.querySelector(".closure-note")?.remove();
  if (closure) li.querySelector(".hours").insertAdjacentHTML("afterend", `<p class="closure-note">${words.closures} ${escapeHtml(localized(closure.message, lang))}</p>`);
}

let trigger = null;

function showDetail(li, button) {
  trigger = button;
  const id = li.dataset.id;
  const name = li.querySelector("h2").textContent.trim();
  detail.innerHTML = `<div class="detail-head"><h2 id="detail-title">${escapeHtml(name)}</h2><button type="button" class="close secondary">${words.close}<span class="visually-hidden"> — ${escapeHtml(name)}</span></button></div><paris-facility-card facility="${escapeHtml(id)}" lang="${lang}"></paris-facility-card><section class="best-time" aria-label="${lang === "en" ? "Best time to come" : "Meilleur moment pour venir"}"></section>`;
  bestTime(detail.querySelector(".best-time"), id, lang);
  detail.querySelector(".close").addEventListener("click", () => detail.close());
  detail.showModal();
  detail.scrollTop = 0;
  detail.querySelector(".close").focus();
}

detail.addEventListener("close", () => {
  detail.innerHTML = "";
  trigger?.focus();
});
// A tap on the backdrop (outside the dialog's box) closes it too.
detail.addEventListener("click", (event) => {
  if (event.target !== detail) return;
  const box = detail.getBoundingClientRect();
  const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
  if (!inside) detail.close();
});

form.addEventListener("input", () => applyFilters());
form.addEventListener("submit", (event) => { event.preventDefault(); applyFilters(); });
document.getElementById("clear").addEventListener("click", (event) => {
  event.preventDefault();
  for (const field of form.elements) {
    if (field.type === "checkbox") field.checked = false;
    else if (field.name && field.name !== "lang") field.value = "";
  }
  applyFilters();
  document.getElementById("q").focus();
});
list.addEventListener("click", (event) => {
  const button = event.target.closest("button.more");
  if (button) showDetail(button.closest("li"), button);
});

let refilter = false;
const live = LiveClient.for("/");
live.addEventListener("status", (event) => {
  states.set(event.detail.facility_id, event.detail);
  paint(event.detail);
  // A snapshot brings every status at once: filter once after it.
  if (!refilter) { refilter = true; queueMicrotask(() => { refilter = false; applyFilters({ remember: false }); }); }
});
live.follow([...items.keys()]);
applyFilters({ remember: false });
