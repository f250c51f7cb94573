// The agent console's equipment panel (live accessibility, issue 20): for the facility chosen in
// the console (agent.js), each equipment with its state now, « Hors service » / « Service
// réduit » with an optional expected return, and « Remis en service ». Every action goes to
// /v1/facilities/{id}/equipment-outages — the closures' audited, idempotent path — with the
// console's token and an Idempotency-Key per action. Keyboard first: native buttons and fields,
// the result announced in a status region. Its own module: agent.js is left as it is; the panel
// follows the console's choice of facility (the pressed button of « Mes équipements »).
import { LiveClient } from "/embed/card.js";
import { EQUIPMENT_TEXT, esc, inLang, outageLine } from "/embed/equipment.js";

const TOKEN_KEY = "paris-live-agent-token";
const app = document.getElementById("agent-app");
const lang = app?.dataset.lang === "en" ? "en" : "fr";
const W = {
  fr: {
    title: "Équipements d'accessibilité", none: "Aucun équipement d'accessibilité connu pour ce lieu.",
    inService: "En service", out: "Hors service", degraded: "Service réduit", fixed: "Remis en service",
    back: "Retour prévu (facultatif)", estimated: "Liste estimée (profil type du lieu)",
    sent: { out: "Déclaré : visible sur la fiche publique.", end: "Remis en service : visible sur la fiche publique." },
    errors: {
      401: "Jeton absent, expiré ou invalide : reconnectez-vous.", 403: "Ce jeton ne peut pas agir sur ce lieu.",
      409: "Cet équipement n'a pas de panne en cours.", 422: "Donnée refusée : vérifiez le retour prévu.",
      other: "Le service ne répond pas, réessayez.",
    },
  },
  en: {
    title: "Accessibility equipment", none: "No accessibility equipment known for this place.",
    inService: "In service", out: "Out of order", degraded: "Restricted", fixed: "Back in service",
    back: "Expected back (optional)", estimated: "Estimated list (typical profile of the place)",
    sent: { out: "Declared: shown on the public page.", end: "Back in service: shown on the public page." },
    errors: {
      401: "Missing, expired or invalid token: sign in again.", 403: "This token may not act on this place.",
      409: "This equipment has no outage in force.", 422: "Refused: check the expected return.",
      other: "The service does not answer, try again.",
    },
  },
}[lang];

let facilityId = null;
let status = null;
const live = LiveClient.for(new URL("/", location.href).href);

function chosen() {
  return app.querySelector("#mine button[aria-pressed=true]")?.dataset.id
    || (app.querySelectorAll("#mine button").length === 1 ? app.querySelector("#mine button").dataset.id : null);
}

function panel() {
  let section = document.getElementById("equipment-panel");
  const work = document.getElementById("work");
  if (!work) return null;
  if (!section) {
    section = document.createElement("section");
    section.id = "equipment-panel";
    section.className = "panel";
    section.setAttribute("aria-labelledby", "h-equipment");
    work.after(section);
  }
  return section;
}

function render(message = "", tone = "") {
  const section = panel();
  if (!section || !facilityId) return;
  // a live update re-renders the panel: keep the focus and the typed return times where they were
  const focused = section.contains(document.activeElement) ? document.activeElement : null;
  const focusKey = focused && [focused.closest("li[data-equipment]")?.dataset.equipment, focused.dataset.act || focused.type];
  const typed = new Map([...section.querySelectorAll("input[type=datetime-local]")].map((i) => [i.id, i.value]));
  const items = status?.accessibility?.equipment || [];
  const now = new Date();
  const rows = items.map((e) => {
    const name = esc(inLang(e.name, lang) || e.equipment_id);
    const down = e.status !== "in_service";
    const state = down ? outageLine(e, lang, now) : W.inService;
    const field = `eq-back-${esc(e.equipment_id)}`;
    return `<li data-equipment="${esc(e.equipment_id)}"><h3>${name}</h3><p class="${down ? "alert" : ""}">${esc(state)}</p>`
      + `<p class="field-row"><label for="${field}">${W.back}</label><input id="${field}" type="datetime-local"></p>`
      + `<p class="row"><button type="button" data-act="out_of_service" data-kind="${esc(e.kind)}">${W.out}<span class="visually-hidden"> — ${name}</span></button> `
      + `<button type="button" class="secondary" data-act="degraded" data-kind="${esc(e.kind)}">${W.degraded}<span class="visually-hidden"> — ${name}</span></button> `
      + (down ? `<button type="button" class="secondary" data-act="end">${W.fixed}<span class="visually-hidden"> — ${name}</span></button>` : "")
      + "</p></li>";
  }).join("");
  const estimated = items.some((e) => e.estimated) ? `<p class="hint">${W.estimated}</p>` : "";
  section.innerHTML = `<h2 id="h-equipment">${W.title}</h2>${items.length ? `${estimated}<ul class="equipment-list">${rows}</ul>` : `<p>${W.none}</p>`}`
    + `<p id="equipment-confirm" class="confirm ${tone}" role="status" ${message ? "" : "hidden"}>${esc(message)}</p>`;
  for (const [id, value] of typed) { const input = document.getElementById(id); if (input) input.value = value; }
  if (focusKey) {
    const row = section.querySelector(`li[data-equipment="${CSS.escape(focusKey[0] || "")}"]`);
    (row?.querySelector(focusKey[1] === "datetime-local" ? "input" : `[data-act="${focusKey[1]}"]`) || row?.querySelector("button"))?.focus();
  }
}

async function follow(id) {
  facilityId = id;
  status = live.statuses.get(id) || null;
  if (!status) {
    const response = await fetch(`/v1/facilities/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" } });
    if (response.ok && facilityId === id) status = await response.json();
  }
  live.follow([id]);
  render();
}

async function act(button) {
  const item = button.closest("li[data-equipment]");
  const equipmentId = item.dataset.equipment;
  const act = button.dataset.act;
  const token = sessionStorage.getItem(TOKEN_KEY);
  const back = item.querySelector("input[type=datetime-local]").value;
  const body = act === "end" ? { equipment_id: equipmentId }
    : { equipment_id: equipmentId, kind: button.dataset.kind, status: act, ...(back ? { expected_back_at: new Date(back).toISOString() } : {}) };
  const path = `/v1/facilities/${encodeURIComponent(facilityId)}/equipment-outages${act === "end" ? "/end" : ""}`;
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}`, "Idempotency-Key": crypto.randomUUID() },
      body: JSON.stringify(body),
    });
  } catch {
    render(W.errors.other, "error");
    return;
  }
  if (!response.ok) {
    render(W.errors[response.status] || W.errors.other, "error");
  } else {
    render(act === "end" ? W.sent.end : W.sent.out, "done");
  }
  document.querySelector(`#equipment-panel li[data-equipment="${CSS.escape(equipmentId)}"] button`)?.focus();
}

if (app) {
  app.addEventListener("click", (event) => {
    const button = event.target.closest("#equipment-panel button[data-act]");
    if (button) act(button);
  });
  new MutationObserver(() => {
    const id = chosen();
    if (!id) return;
    if (id !== facilityId) follow(id);
    else if (!document.getElementById("equipment-panel")) render();
  }).observe(app, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-pressed"] });
  live.addEventListener("status", (event) => {
    if (event.detail.facility_id !== facilityId) return;
    status = event.detail;
    const box = document.getElementById("equipment-confirm");
    render(box && !box.hidden ? box.textContent : "", box?.className.replace("confirm", "").trim() || "");
  });
}
