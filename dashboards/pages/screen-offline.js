// What the in-facility screen keeps for a reload without network: the last status it showed and
// when it last knew it to be current (saved on every update, and every 30 s while live), and the
// service worker that keeps the page itself (screen-sw.js). Offline, the screen shows that status
// with its age: « Dernière information à 10:42 ».
import { fmtTime } from "/embed/card.js";

const W = {
  fr: { age: (t) => `Dernière information à ${t}` },
  en: { age: (t) => `Last information at ${t}` },
};
const REFRESH_MS = 30000;
const keyOf = (facilityId) => `paris-live:screen:${facilityId}`;

function read(facilityId) {
  try {
    const saved = JSON.parse(localStorage.getItem(keyOf(facilityId)) || "null");
    return saved && saved.status && saved.at ? saved : null;
  } catch {
    return null;
  }
}

function save(status) {
  try {
    localStorage.setItem(keyOf(status.facility_id), JSON.stringify({ status, at: new Date().toISOString() }));
  } catch { /* storage full or refused: the screen still works online */ }
}

/** The status to show first: the one embedded in the page, or a newer one this screen saw (the
 * page came from the service worker's cache, older than what was shown before the reload). */
export function lastKnown(initial) {
  const saved = read(initial.facility_id);
  return saved && saved.status.seq > initial.seq ? saved.status : initial;
}

/** Save what the live client shows; show the age line while the connection is lost. */
export function keepLastKnown(live, facilityId, line, lang) {
  const other = lang === "fr" ? "en" : "fr";
  const show = () => {
    const saved = read(facilityId);
    line.hidden = live.state !== "lost" || !saved;
    if (line.hidden) { line.innerHTML = ""; return; }
    const at = (l) => W[l].age(fmtTime(saved.at, l));
    line.innerHTML = `<span class="l1">${at(lang)}</span><span class="l2" lang="${other}">${at(other)}</span>`;
  };
  live.addEventListener("status", (event) => { if (event.detail.facility_id === facilityId) save(event.detail); });
  live.addEventListener("state", show);
  setInterval(() => {
    const saved = read(facilityId);
    if (live.state === "open" && saved) save(saved.status);
  }, REFRESH_MS);
  if (!read(facilityId)) save(live.statuses.get(facilityId) || { facility_id: facilityId, seq: -1 });
  show();
}

/** Register the service worker and have it keep this page; ``body[data-offline-ready]`` once kept. */
export async function keepPageOffline() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/screen-sw.js", { scope: "/screen/" });
    const registration = await navigator.serviceWorker.ready;
    const channel = new MessageChannel();
    const kept = new Promise((resolve) => { channel.port1.onmessage = (event) => resolve(event.data.kept); });
    registration.active.postMessage({ op: "keep", url: location.href }, [channel.port2]);
    if (await kept) document.body.dataset.offlineReady = "1";
  } catch { /* no service worker (private mode, old browser): the screen works online */ }
}
