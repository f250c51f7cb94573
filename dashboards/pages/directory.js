// The directory: the server filters and pages (api/pages/directory.py); this script asks it for
// the results region (/directory/results) as the filters change, without reloading, follows the
// shown facilities live, adds "Afficher plus" pages in place, and opens a detail dialog with the
// card and the "meilleur moment pour venir" chart.
import { LiveClient, TEXT, escapeHtml, hoursLine, langOf, localized, renderState } from "/embed/card.js";
import { outageLine, outagesOf } from "/embed/equipment.js";
import { bestTime } from "/static/pages/chart.js";

const OPEN = new Set(["open", "closing_soon", "partially_closed"]);
const DEBOUNCE_MS = 200;
const lang = langOf(document.body);
const form = document.querySelector("form.filters");
const results = document.getElementById("results");
const count = document.getElementById("count");
const word = document.getElementById("count-word");
const detail = document.getElementById("detail");
const live = LiveClient.for("/");
const words = {
  fr: {
    close: "Fermer",
    closures: "Fermeture en cours :",
    failed: "Les résultats n'ont pas pu être mis à jour. Vérifiez votre connexion puis réessayez.",
    locating: "Recherche de votre position…",
    refused: "Votre position n'est pas disponible (refusée ou introuvable). Tapez une adresse ou un arrondissement, par exemple « 15e ».",
  },
  en: {
    close: "Close",
    closures: "Current closure:",
    failed: "The results could not be updated. Check your connection and try again.",
    locating: "Finding your position…",
    refused: "Your position is not available (refused or not found). Type an address or an arrondissement, for example « 15e ».",
  },
}[lang];

document.documentElement.classList.add("js");

/** The form's filters as a query string (empty values and the default language left out). */
function query(extra = {}) {
  const params = new URLSearchParams([...new FormData(form)].filter(([k, v]) => v !== "" && !(k === "lang" && v === "fr")));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

let asked = null;
let timer = null;

/** Ask the server for the results of the current filters (the last question wins). */
async function refresh({ page = 1, remember = true, focusNew = false } = {}) {
  clearTimeout(timer);
  asked?.abort();
  const mine = (asked = new AbortController());
  const params = query(page > 1 ? { page: String(page) } : {});
  results.setAttribute("aria-busy", "true");
  try {
    const answer = await fetch(`/directory/results?${params}`, { signal: mine.signal, headers: { Accept: "text/html" } });
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const html = await answer.text();
    if (mine !== asked) return;
    results.innerHTML = html;
    settle({ focusNew });
    performance.mark("directory-results");
    if (remember) {
      const shown = query(page > 1 ? { page: String(page) } : {});
      history.replaceState(null, "", shown.size ? `?${shown}` : location.pathname);
    }
  } catch (error) {
    if (mine !== asked || error.name === "AbortError") return;
    results.querySelector(".refresh-failed")?.remove();
    results.insertAdjacentHTML("afterbegin", `<p class="refresh-failed" role="alert">${words.failed}</p>`);
  } finally {
    if (mine === asked) results.setAttribute("aria-busy", "false");
  }
}

/** After new results: the count, the live figures of what is shown, focus after "more". */
function settle({ focusNew = false } = {}) {
  const list = document.getElementById("facilities");
  const total = Number(list.dataset.total);
  count.textContent = list.dataset.totalText;
  // The plural rule of the page's language (French: 0 and 1 are singular).
  word.textContent = (lang === "fr" ? total <= 1 : total === 1) ? word.dataset.one : word.dataset.many;
  const ids = [...list.querySelectorAll("li.facility")].map((li) => li.dataset.id);
  for (const id of ids) if (live.statuses.has(id)) paint(live.statuses.get(id));
  live.follow(ids);
  if (focusNew) list.querySelector("li[data-first-new] h2 a")?.focus();
}

function paint(status) {
  const li = document.getElementById(`f-${status.facility_id}`);
  if (!li) return;
  const t = TEXT[lang];
  const level = OPEN.has(status.open_state) ? status.occupancy?.level : null;
  const closure = status.closures?.[0];
  const estimated = level && "capacityEstimated" in li.dataset ? ` <span class="tag est">${t.estimatedCapacity}</span>` : "";
  li.querySelector(".live").innerHTML = `${renderState(status, lang, 18)}${level ? ` <span class="crowd lvl-${level}">${t.levels[level]}</span>${estimated}` : ""}`;
  li.querySelector(".hours").textContent = hoursLine(status, lang).spans;
  // A live tick that changes nothing leaves the notes' nodes alone: no flicker, and a reader's place
  // (a screen reader's cursor, a selection) in them is kept. The closure note is not an outage note.
  const note = li.querySelector(":scope .closure-note:not(.outage-note)");
  const said = closure ? `${words.closures} ${localized(closure.message, lang)}` : null;
  if (note && note.textContent !== said) note.remove();
  if (said && note?.textContent !== said) li.querySelector(".hours").insertAdjacentHTML("afterend", `<p class="closure-note">${escapeHtml(said)}</p>`);
  const outages = li.querySelector("[data-outages]");
  const lines = outagesOf(status).map((e) => outageLine(e, lang));
  if (outages && [...outages.children].map((p) => p.textContent).join("\n") !== lines.join("\n")) {
    outages.innerHTML = lines.map((line) => `<p class="closure-note outage-note">${escapeHtml(line)}</p>`).join("");
  }
  li.dataset.stepFree = status.accessibility?.step_free_access || "unknown";
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

// Typing waits for a pause; a choice in a list or a box asks at once. Busy from the first key,
// so nobody reads the old results as the answer to the new question.
form.addEventListener("input", (event) => {
  results.setAttribute("aria-busy", "true");
  clearTimeout(timer);
  if (event.target.name === "near") form.elements.at.value = "";
  if (event.target.type === "search" || event.target.type === "text") timer = setTimeout(() => refresh(), DEBOUNCE_MS);
  else refresh();
});

// « Autour de moi »: the browser's position (asked only on this button), nearest first.
const locate = document.getElementById("locate");
const near = document.getElementById("near");
function say(text) {
  document.getElementById("near-status")?.remove();
  if (text) locate.insertAdjacentHTML("afterend", `<span id="near-status" class="near-status" role="status">${escapeHtml(text)}</span>`);
}
if ("geolocation" in navigator) {
  locate.hidden = false;
  locate.addEventListener("click", () => {
    say(words.locating);
    navigator.geolocation.getCurrentPosition(
      (where) => {
        say("");
        near.value = "";
        form.elements.at.value = `${where.coords.latitude.toFixed(5)},${where.coords.longitude.toFixed(5)}`;
        refresh();
      },
      () => { say(words.refused); near.focus(); },
      { timeout: 10000, maximumAge: 60000 },
    );
  });
}
form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
results.addEventListener("click", (event) => {
  const clear = event.target.closest("#clear");
  if (clear) {
    event.preventDefault();
    for (const field of form.elements) {
      if (field.type === "checkbox") field.checked = false;
      else if (field.name && field.name !== "lang") field.value = "";
    }
    refresh();
    document.getElementById("q").focus();
    return;
  }
  const more = event.target.closest("#more");
  if (more) {
    event.preventDefault();
    const page = Number(new URL(more.href).searchParams.get("page"));
    refresh({ page, focusNew: true });
    return;
  }
  const button = event.target.closest("button.more");
  if (button) showDetail(button.closest("li"), button);
});

// Live: repaint what is shown; with "Ouvert maintenant" or "Peu d'affluence" on, a change of
// state or crowd may change what matches: ask the server again, once the snapshot has landed.
let stale = false;
live.addEventListener("status", (event) => {
  const status = event.detail;
  const li = document.getElementById(`f-${status.facility_id}`);
  const seen = (node) => `${node?.querySelector("[data-state]")?.dataset.state} ${node?.querySelector(".crowd")?.className ?? ""} ${node?.dataset.stepFree}`;
  const before = seen(li);
  paint(status);
  const liveFilter = form.elements.open_now.checked || form.elements.low_crowd.checked || form.elements.wheelchair_now?.checked;
  if (!liveFilter || !li || before === seen(li) || stale) return;
  stale = true;
  setTimeout(() => { stale = false; refresh({ remember: false, page: pagesShown() }); }, 1000);
});

function pagesShown() {
  const list = document.getElementById("facilities");
  return Math.max(1, Math.ceil(list.querySelectorAll("li.facility").length / Number(list.dataset.pageSize || 24)));
}

settle();
// bench/directory.py reads this: the results painted, the live figures asked for.
performance.mark("directory-first-render");
