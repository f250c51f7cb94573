// The directory: filters and search without reloading, live states, a detail panel with the card
// and the "meilleur moment pour venir" chart. The server rendered every facility; this enhances.
import { LiveClient, TEXT, escapeHtml, hoursLine, langOf, localized, renderState } from "/embed/card.js";
import { bestTime } from "/static/pages/chart.js";

const OPEN = new Set(["open", "closing_soon", "partially_closed"]);
const lang = langOf(document.body);
const form = document.querySelector("form.filters");
const list = document.getElementById("facilities");
const count = document.getElementById("count");
const detail = document.getElementById("detail");
const items = new Map([...list.querySelectorAll("li.facility")].map((li) => [li.dataset.id, li]));
const states = new Map();
const words = {
  fr: { close: "Fermer le détail", closures: "Fermeture en cours :" },
  en: { close: "Close the details", closures: "Current closure:" },
}[lang];

document.documentElement.classList.add("js");

const normalize = (text) => text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, " ").trim();

function matches(li) {
  const data = new FormData(form);
  const status = states.get(li.dataset.id);
  const terms = normalize(String(data.get("q") || "")).split(" ").filter(Boolean);
  if (terms.length && !terms.every((w) => ` ${li.dataset.search} `.includes(` ${w}`))) return false;
  if (data.get("type") && li.dataset.type !== data.get("type")) return false;
  if (data.get("arrondissement") && li.dataset.arr !== data.get("arrondissement")) return false;
  const state = status?.open_state ?? li.querySelector("[data-state]")?.dataset.state;
  if (data.get("open_now") && !OPEN.has(state)) return false;
  const level = status ? status.occupancy?.level : li.querySelector(".crowd")?.className.match(/lvl-(\w+)/)?.[1];
  if (data.get("low_crowd") && level && level !== "low") return false;
  if (data.get("accessible") && !li.dataset.access.split(" ").includes("wheelchair_accessible")) return false;
  return true;
}

function applyFilters() {
  let shown = 0;
  for (const li of items.values()) {
    const ok = matches(li);
    li.hidden = !ok;
    if (ok) shown++;
  }
  count.textContent = String(shown);
  const params = new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== "" && !(v === "fr")));
  history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
}

function paint(status) {
  const li = items.get(status.facility_id);
  if (!li) return;
  const t = TEXT[lang];
  const level = status.occupancy?.level;
  const closure = status.closures?.[0];
  li.querySelector(".live").innerHTML = `${renderState(status, lang, 18)}${level ? ` <span class="crowd lvl-${level}">${t.levels[level]}</span>` : ""}`;
  li.querySelector(".hours").textContent = hoursLine(status, lang).spans;
  li.querySelector(".closure-note")?.remove();
  if (closure) li.querySelector(".hours").insertAdjacentHTML("afterend", `<p class="closure-note">${words.closures} ${escapeHtml(localized(closure.message, lang))}</p>`);
}

function showDetail(id, trigger) {
  detail.hidden = false;
  detail.parentElement.classList.add("has-detail");
  detail.innerHTML = `<button type="button" class="close secondary">${words.close}</button><paris-facility-card facility="${escapeHtml(id)}" lang="${lang}"></paris-facility-card><section class="best-time" tabindex="-1"></section>`;
  bestTime(detail.querySelector(".best-time"), id, lang);
  const close = detail.querySelector(".close");
  close.addEventListener("click", () => {
    detail.hidden = true;
    detail.innerHTML = "";
    detail.parentElement.classList.remove("has-detail");
    trigger.focus();
  });
  close.focus();
}

form.addEventListener("input", applyFilters);
form.addEventListener("submit", (event) => { event.preventDefault(); applyFilters(); });
list.addEventListener("click", (event) => {
  const button = event.target.closest("button.more");
  if (button) showDetail(button.closest("li").dataset.id, button);
});

const live = LiveClient.for("/");
live.addEventListener("status", (event) => {
  states.set(event.detail.facility_id, event.detail);
  paint(event.detail);
  const li = items.get(event.detail.facility_id);
  if (li) li.hidden = !matches(li);
  count.textContent = String([...items.values()].filter((x) => !x.hidden).length);
});
live.follow([...items.keys()]);
applyFilters();
