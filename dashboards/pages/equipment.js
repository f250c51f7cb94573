// The facility page's « prévenez-moi quand l'ascenseur remarche » (templates/_equipment.html).
// Follows the facility on /v1/live (the card's socket: LiveClient.for the same base); for each
// equipment out of service, a button to be told when it works again. The watch list is kept in
// localStorage (a reload keeps it). When a watched equipment is back in service, the page says
// so in a visible status line, and a system notification says it too when the visitor allowed
// them (the Notification API is asked on the first press, never before).
import { LiveClient, langOf } from "/embed/card.js";
import { EQUIPMENT_TEXT, esc, inLang, isDown, notifyWords, outageLine } from "/embed/equipment.js";

const section = document.getElementById("equipment-alerts");
if (section) start(section);

function start(section) {
  const facilityId = section.dataset.facility;
  const lang = langOf(section);
  const t = EQUIPMENT_TEXT[lang];
  const list = section.querySelector("#equipment-watch");
  const notice = section.querySelector("#equipment-notice");
  const storeKey = `paris-live:watch:${facilityId}`;
  const live = LiveClient.for(new URL("/", location.href).href);
  let watched = new Set(read());
  let previous = new Map();

  function read() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch { return []; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify([...watched])); } catch { /* private mode */ }
  }

  function tell(text) {
    notice.textContent = text;
    notice.hidden = false;
    section.hidden = false;
    if ("Notification" in window && Notification.permission === "granted") {
      try { new Notification(text, { tag: `${facilityId}-equipment`, lang }); } catch { /* the page said it */ }
    }
  }

  function render(status) {
    const items = status.accessibility?.equipment || [];
    const now = new Date();
    for (const e of items) {
      const before = previous.get(e.equipment_id);
      const returned = before ? isDown(before) : true;  // first look after a reload: it is back
      if (returned && !isDown(e) && watched.has(e.equipment_id)) {
        watched.delete(e.equipment_id);
        save();
        const name = inLang(e.name, lang) || e.equipment_id;
        tell(t.back(name, e.since ? new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" }).format(new Date(e.since)) : ""));
      }
    }
    previous = new Map(items.map((e) => [e.equipment_id, e]));
    const down = items.filter(isDown);
    list.innerHTML = down.map((e) => {
      const on = watched.has(e.equipment_id);
      return `<li data-equipment="${esc(e.equipment_id)}"><span class="line">${esc(outageLine(e, lang, now))}</span>`
        + `<button type="button" class="watch" data-equipment="${esc(e.equipment_id)}" aria-pressed="${on}">${esc(on ? t.stop : notifyWords(e, lang))}</button>`
        + (on ? `<p class="watching">${t.watching}</p>` : "") + "</li>";
    }).join("");
    section.hidden = !down.length && notice.hidden;
  }

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button.watch");
    if (!button) return;
    const id = button.dataset.equipment;
    const watching = !watched.has(id);
    if (watching) watched.add(id);
    else watched.delete(id);
    // the page answers at once (and keeps it across a reload); the browser's permission prompt,
    // which may stay open, comes after — the in-page notice works whatever it answers
    save();
    const status = live.statuses.get(facilityId);
    if (status) render(status);
    list.querySelector(`button.watch[data-equipment="${CSS.escape(id)}"]`)?.focus();
    if (watching && "Notification" in window && Notification.permission === "default") {
      try { await Notification.requestPermission(); } catch { /* the in-page notice remains */ }
    }
  });

  live.addEventListener("status", (event) => {
    if (event.detail.facility_id === facilityId) render(event.detail);
  });
  const known = live.statuses.get(facilityId);
  if (known) render(known);
  live.follow([facilityId]);
}
