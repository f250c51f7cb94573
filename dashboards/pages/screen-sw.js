// The in-facility screen's service worker (served as /screen-sw.js, scope /screen/): a kiosk
// reloaded while the network is down shows its page again instead of a blank one. The page and
// its shell (stylesheet, scripts) go network first — a reachable server always wins — and are
// kept in a cache to answer when the network fails; the last known status is kept by the page
// itself (screen-offline.js) and shown with its age. The API and /v1/live are never touched.
const CACHE = "paris-live-screen-v1";
const SHELL = ["/static/pages/screen.css", "/static/pages/screen.js", "/static/pages/screen-offline.js", "/embed/card.js"];
const NETWORK_WAIT_MS = 5000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("paris-live-screen-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page asks for itself to be kept (its first load was not yet under this worker's control).
self.addEventListener("message", (event) => {
  const { op, url } = event.data || {};
  if (op !== "keep" || typeof url !== "string" || new URL(url).origin !== location.origin) return;
  const reply = event.ports[0];
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll([url, ...SHELL]))
      .then(() => reply && reply.postMessage({ kept: true }), () => reply && reply.postMessage({ kept: false })),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  const page = request.mode === "navigate" && url.pathname.startsWith("/screen/");
  const shell = SHELL.includes(url.pathname);
  if (page || shell) event.respondWith(networkFirst(request));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), NETWORK_WAIT_MS);
  try {
    const response = await fetch(request, { signal: abort.signal });
    if (response.ok) await cache.put(request.url, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request.url, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
