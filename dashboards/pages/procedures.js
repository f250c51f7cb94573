// A démarche's page, live: each place serving it follows /v1/live — open state, queue wait at the
// services the steps use, next appointment at the services booked — and the soonest slot across
// them is kept up to date. The server rendered the same figures (api/pages/procedures.py,
// templates/procedure.html); this only repaints them as they change. Words: fr/en below.
import { LiveClient, langOf, renderState } from "/embed/card.js";

const lang = langOf(document.body);
const places = new Map([...document.querySelectorAll("li.place")].map((li) => [li.dataset.id, li]));
const soonest = document.getElementById("soonest");
const words = {
  fr: {
    wait: (wait, n) => `Attente : environ ${wait} min (${n} ${n > 1 ? "personnes" : "personne"} avant vous)`,
    served: (p50, p90, n) => `Servi dans environ ${p50} min, au plus ${p90} min pour 9 personnes sur 10 (${n} ${n > 1 ? "personnes" : "personne"} avant vous) — estimation`,
    queue: (n) => `File d'attente : ${n} ${n > 1 ? "personnes" : "personne"}`,
    slot: (when) => `Prochain rendez-vous : ${when}`,
  },
  en: {
    wait: (wait, n) => `Wait: about ${wait} min (${n} ${n === 1 ? "person" : "people"} ahead of you)`,
    served: (p50, p90, n) => `Served in about ${p50} min, at most ${p90} min for 9 people in 10 (${n} ${n === 1 ? "person" : "people"} ahead of you) — estimate`,
    queue: (n) => `Queue: ${n} ${n === 1 ? "person" : "people"}`,
    slot: (when) => `Next appointment: ${when}`,
  },
}[lang];

/** « jeudi 4 décembre, 10:30 » / « Thursday 4 December, 10:30 », Paris time (as the server). */
export function when(iso) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", {
      timeZone: "Europe/Paris", weekday: "long", day: "numeric", month: "long",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.day} ${parts.month}, ${parts.hour}:${parts.minute}`;
}

function paint(status) {
  const li = places.get(status.facility_id);
  if (!li) return;
  const services = li.dataset.services.split(" ").filter(Boolean);
  const booked = li.dataset.booked.split(" ").filter(Boolean);
  li.querySelector(".state").innerHTML = renderState(status, lang, 18);
  li.querySelector(".no-live").hidden = true;
  const queues = (status.queues || []).filter((q) => services.includes(q.service_id));
  const expected = (q) => q.served_within?.p50_minutes ?? q.wait_minutes ?? Infinity;
  queues.sort((a, b) => expected(a) - expected(b));
  const queue = queues[0];
  const served = queue?.served_within;
  li.querySelector(".queue").textContent = !queue ? ""
    : served ? words.served(Math.round(served.p50_minutes), Math.round(served.p90_minutes), queue.length)
    : queue.wait_minutes != null ? words.wait(Math.round(queue.wait_minutes), queue.length)
    : words.queue(queue.length);
  const slots = (status.appointments || [])
    .filter((a) => booked.includes(a.service_id) && a.next_available_at)
    .map((a) => a.next_available_at)
    .sort((a, b) => new Date(a) - new Date(b));
  const slot = li.querySelector(".slot");
  slot.dataset.at = slots[0] || "";
  slot.textContent = slots[0] ? words.slot(when(slots[0])) : "";
}

function paintSoonest() {
  if (!soonest) return;
  let best = null;
  for (const li of places.values()) {
    const at = li.querySelector(".slot").dataset.at;
    if (at && (!best || new Date(at) < new Date(best.at))) best = { at, li };
  }
  if (best) soonest.textContent = `${best.li.querySelector("h3").textContent.trim()}, ${when(best.at)}`;
}

let repaint = false;
const live = LiveClient.for("/");
live.addEventListener("status", (event) => {
  paint(event.detail);
  // A snapshot brings every status at once: the soonest slot is computed once after it.
  if (!repaint) { repaint = true; queueMicrotask(() => { repaint = false; paintSoonest(); }); }
});
live.follow([...places.keys()]);
