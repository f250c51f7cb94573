// The screen's live accessibility panel (templates/_equipment_screen.html): every equipment out
// of service, oldest first, with step-free access now — in the screen's language, the other one
// below (as the screen's other panels). First from the status embedded in the page, then live.
import { LiveClient } from "/embed/card.js";
import { EQUIPMENT_TEXT, esc, outageLine, outagesOf } from "/embed/equipment.js";

const panel = document.getElementById("equipment");
const data = document.getElementById("screen-data");
if (panel && data) {
  const lang = document.documentElement.lang === "en" ? "en" : "fr";
  const other = lang === "fr" ? "en" : "fr";
  const initial = JSON.parse(data.textContent);
  const both = (pick) => `<span class="l1">${pick(lang)}</span><span class="l2" lang="${other}">${pick(other)}</span>`;

  const render = (status) => {
    const down = outagesOf(status);
    panel.hidden = !down.length;
    if (!down.length) { panel.innerHTML = ""; return; }
    const step = status.accessibility?.step_free_access || "unknown";
    const now = new Date();
    const items = down.map((e) => `<li data-equipment="${esc(e.equipment_id)}" class="${e.overdue ? "overdue" : ""}"><p class="line">${esc(outageLine(e, lang, now))}</p><p class="l2" lang="${other}">${esc(outageLine(e, other, now))}</p></li>`).join("");
    const access = step === "unknown" ? "" : `<p class="step-free step-${step}">${both((l) => EQUIPMENT_TEXT[l].stepFree[step])}</p>`;
    panel.innerHTML = `<h2 id="equipment-title">${both((l) => EQUIPMENT_TEXT[l].title)}</h2>${access}<ul>${items}</ul>`;
  };

  render(initial);
  const live = LiveClient.for(new URL("/", location.href).href);
  let seq = initial.seq ?? 0;
  live.addEventListener("status", (event) => {
    const status = event.detail;
    if (status.facility_id !== initial.facility_id || status.seq < seq) return;
    seq = status.seq;
    render(status);
  });
  live.follow([initial.facility_id]);
}
