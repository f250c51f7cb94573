// The map of /carte (api/pages/map.py): the facilities the directory's filters keep, drawn as
// points on a Leaflet map (window.L, vendored), each arrondissement labelled at its town hall.
// The points and labels are the page's own elements: they show whether or not the background
// tiles load, and when none loads the page says the background is unavailable. Every point is a
// keyboard button (Enter opens its popup, Escape closes it and focus goes back to the point);
// the popup says the state in words (the point's colour and sign are never the only cue). The
// points and the list under the map follow the facilities' states live (/v1/live).
import { LiveClient } from "/embed/card.js";

const L = window.L;
const data = JSON.parse(document.getElementById("map-data").textContent);
const words = JSON.parse(document.getElementById("map-words").textContent);
const box = document.getElementById("map");
const noTiles = document.getElementById("map-no-tiles");

const PARIS = [[48.815, 2.224], [48.902, 2.47]];
const TONES = { open: "ok", closing_soon: "warn", partially_closed: "warn", exceptionally_closed: "alert" };
const SIGNS = { open: "✓", closing_soon: "◔", partially_closed: "◑", exceptionally_closed: "✕", unknown: "?" };
const OPEN = new Set(["open", "closing_soon", "partially_closed"]);

/** An element with a class and text (never HTML from data). */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const unconfirmed = (point) => OPEN.has(point.state) && point.hours_confidence !== "official";

/** The state of a point in words, with "horaires non confirmés" when its hours are not official. */
function stateWords(point) {
  const state = words.states[point.state] ?? words.states.unknown;
  return unconfirmed(point) ? `${state} (${words.unconfirmed})` : state;
}

/** The state as the list under the map shows it (templates/map.html renders the same). */
function stateNode(point) {
  const node = el("span", "map-state");
  const badge = el("span", `badge ${TONES[point.state] ?? "off"}`);
  badge.dataset.state = point.state;
  const sign = el("span", "", SIGNS[point.state] ?? "☾");
  sign.setAttribute("aria-hidden", "true");
  badge.append(sign, ` ${words.states[point.state] ?? words.states.unknown}`);
  node.append(badge);
  if (unconfirmed(point)) node.append(" ", el("span", "unconfirmed", `(${words.unconfirmed})`));
  return node;
}

function popup(point) {
  const node = el("div", "map-popup");
  const name = el("p", "map-popup-name");
  const link = el("a", "", point.name);
  link.href = point.href;
  name.append(link);
  const arrondissement = data.arrondissements.find((a) => a.n === point.arrondissement);
  const what = el("p", "map-popup-meta", `${words.types[point.type] ?? point.type} · ${arrondissement?.title ?? point.arrondissement}`);
  const state = el("p", "map-popup-state");
  state.append(stateNode(point));
  node.append(name, what, state);
  if (!point.located) node.append(el("p", "map-popup-meta", words.estimated_place));
  return node;
}

function pointIcon(point) {
  const html = el("span", "map-point-body");
  const sign = el("span", "map-point-sign", SIGNS[point.state] ?? "☾");
  sign.setAttribute("aria-hidden", "true");
  html.append(sign, el("span", "visually-hidden", `${point.name} — ${stateWords(point)}`));
  return L.divIcon({ className: `map-point state-${TONES[point.state] ?? "off"}`, html, iconSize: [22, 22] });
}

function labelIcon(mark) {
  const html = el("span", "map-arr-text", mark.label);
  html.title = mark.title;
  return L.divIcon({ className: "map-arr", html, iconSize: null });
}

box.replaceChildren();
// No fade: a popup is readable (full contrast) the moment it opens, not 200 ms later
const map = L.map(box, { zoomControl: false, zoomSnap: 0.25, minZoom: 10, maxBounds: [[48.7, 2.0], [49.0, 2.7]], fadeAnimation: false });
L.control.zoom({ zoomInTitle: words.zoom_in, zoomOutTitle: words.zoom_out }).addTo(map);
map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');

let tileLoaded = false;
const tiles = L.tileLayer(data.tiles.url, {
  attribution: el("span", "", data.tiles.attribution).innerHTML, // plain text, escaped
  maxZoom: 19,
});
tiles.on("tileload", () => {
  tileLoaded = true;
  noTiles.hidden = true;
  box.classList.remove("no-tiles");
});
tiles.on("tileerror", () => {
  if (tileLoaded) return;
  noTiles.hidden = false;
  box.classList.add("no-tiles");
});

// The labels have their own pane above the points (a whole city of points would hide them) and
// below the popups; clicks go through them to the points.
map.createPane("labels").classList.add("map-labels");
for (const mark of data.arrondissements) {
  L.marker([mark.lat, mark.lon], { icon: labelIcon(mark), interactive: false, keyboard: false, pane: "labels" }).addTo(map);
}

// Keyboard: a popup opened from a focused point takes the focus (its link); closing it gives the
// focus back to the point. Escape closes it wherever the focus is in the map.
let open = null;
function opened(marker, popupOf) {
  const root = popupOf.getElement();
  const close = root.querySelector(".leaflet-popup-close-button");
  close?.setAttribute("aria-label", words.close);
  close?.setAttribute("title", words.close);
  const icon = marker.getElement();
  open = { marker, fromKeyboard: document.activeElement === icon };
  if (open.fromKeyboard) root.querySelector(".map-popup a")?.focus({ preventScroll: true });
}
function closed(marker) {
  const focusInMap = box.contains(document.activeElement) || document.activeElement === document.body;
  if (open?.marker === marker && open.fromKeyboard && focusInMap) marker.getElement()?.focus({ preventScroll: true });
  if (open?.marker === marker) open = null;
}
box.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && open) {
    event.stopPropagation();
    map.closePopup();
  }
});

const markers = new Map();
for (const point of data.points) {
  const marker = L.marker([point.lat, point.lon], { icon: pointIcon(point), title: `${point.name} — ${stateWords(point)}`, riseOnHover: true })
    .bindPopup(() => popup(point), { autoPanPadding: [16, 16], maxWidth: 260 })
    .on("popupopen", (event) => opened(event.target, event.popup))
    .on("popupclose", (event) => closed(event.target))
    .addTo(map);
  markers.set(point.id, { marker, point });
}

// Live: a change of state repaints the point (same element: the focus stays), its title, the
// list's line and, when it is open, the popup's state.
const live = LiveClient.for("/");
live.addEventListener("status", (event) => {
  const status = event.detail;
  const shown = markers.get(status.facility_id);
  if (!shown) return;
  const { marker, point } = shown;
  const confidence = status.hours_confidence ?? point.hours_confidence;
  if (point.state === status.open_state && point.hours_confidence === confidence) return;
  point.state = status.open_state;
  point.hours_confidence = confidence;
  marker.options.title = `${point.name} — ${stateWords(point)}`;
  marker.setIcon(pointIcon(point));
  document.querySelector(`#m-${CSS.escape(point.id)} .map-state`)?.replaceWith(stateNode(point));
  if (marker.isPopupOpen()) marker.getPopup().getElement()?.querySelector(".map-state")?.replaceWith(stateNode(point));
});
live.follow(data.points.map((p) => p.id));

tiles.addTo(map);
if (markers.size) {
  map.fitBounds(L.latLngBounds(data.points.map((p) => [p.lat, p.lon])), { padding: [24, 24], maxZoom: 15 });
} else {
  map.fitBounds(PARIS);
}
