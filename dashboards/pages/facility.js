// The facility page: the card (defined by /embed/card.js) and the best-time chart.
import { langOf } from "/embed/card.js";
import { bestTime } from "/static/pages/chart.js";

const section = document.getElementById("best-time");
if (section) bestTime(section, section.dataset.facility, langOf(section));
