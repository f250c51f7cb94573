// Feedback forms (survey, complaint): submit as JSON, tie each error to its field, keep focus sane.
// Without JavaScript the same forms post as HTML forms and the server answers with a page.

const form = document.querySelector("form.feedback-form");

function bodyOf(formElement) {
  const doc = {};
  for (const [name, value] of new FormData(formElement).entries()) {
    if (typeof value !== "string" || value.trim() === "") continue;
    const path = name.split(".");
    let target = doc;
    for (const part of path.slice(0, -1)) target = target[part] ??= {};
    target[path.at(-1)] = value.trim();
  }
  for (const key of ["rating"]) if (key in doc) doc[key] = Number(doc[key]);
  if (doc.rule_ratings) {
    for (const [rule, value] of Object.entries(doc.rule_ratings)) doc.rule_ratings[rule] = Number(value);
  }
  return doc;
}

function clearErrors(formElement, summary) {
  summary.hidden = true;
  summary.querySelector("ul").replaceChildren();
  for (const node of formElement.querySelectorAll(".field-error")) { node.hidden = true; node.textContent = ""; }
  for (const node of formElement.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of formElement.querySelectorAll("fieldset.invalid")) node.classList.remove("invalid");
}

function showErrors(formElement, summary, fields, message) {
  const list = summary.querySelector("ul");
  const entries = Object.entries(fields || {});
  if (!entries.length) {
    const li = document.createElement("li");
    li.textContent = message;
    list.append(li);
  }
  for (const [name, text] of entries) {
    const holder = formElement.querySelector(`[data-field="${CSS.escape(name)}"]`)
      || formElement.querySelector(`[data-field="${CSS.escape(name.split(".")[0])}"]`);
    const li = document.createElement("li");
    if (holder) {
      const error = holder.querySelector(".field-error");
      if (error) { error.textContent = text; error.hidden = false; }
      const control = holder.querySelector("input:not([type=hidden]), select, textarea");
      if (holder.tagName === "FIELDSET") holder.classList.add("invalid");
      else if (control) control.setAttribute("aria-invalid", "true");
      const link = document.createElement("a");
      const target = control || holder;
      if (!target.id) target.id = `ctl-${name.replace(/\W/g, "-")}`;
      link.href = `#${target.id}`;
      link.textContent = `${holder.querySelector("legend, label")?.textContent?.trim() || name} : ${text}`;
      link.addEventListener("click", (event) => { event.preventDefault(); target.focus(); });
      li.append(link);
    } else {
      li.textContent = `${name} : ${text}`;
    }
    list.append(li);
  }
  summary.hidden = false;
  summary.focus();
}

async function submit(event) {
  event.preventDefault();
  const summary = document.querySelector(".error-summary");
  const button = form.querySelector("button[type=submit]");
  clearErrors(form, summary);
  const doc = bodyOf(form);
  const label = button.textContent;
  button.disabled = true;
  button.textContent = form.dataset.sending;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(doc),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      if (form.dataset.kind === "complaint" && answer.status_page) {
        window.location.assign(`${answer.status_page}?lang=${form.dataset.lang}&nouveau=1`);
        return;
      }
      form.hidden = true;
      const done = document.querySelector(".done");
      done.hidden = false;
      done.querySelector("h2").focus();
      return;
    }
    const error = answer.error || {};
    let message = error.message || `HTTP ${response.status}`;
    if (response.status === 429) {
      const wait = response.headers.get("Retry-After");
      if (wait) message += ` (${wait} s)`;
    }
    showErrors(form, summary, error.fields, message);
  } catch (failure) {
    showErrors(form, summary, null, String(failure));
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

function setUpComplaint() {
  const search = document.getElementById("f-facility-search");
  const select = document.getElementById("f-facility");
  if (search && select) {
    search.closest(".field").hidden = false;
    search.addEventListener("input", () => {
      const words = search.value.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().split(/\s+/).filter(Boolean);
      let first = null;
      for (const option of select.querySelectorAll("option[data-search]")) {
        const match = words.every((w) => option.dataset.search.includes(w));
        option.hidden = !match;
        if (match && !first) first = option;
      }
      if (first && select.selectedOptions[0]?.hidden !== false) select.value = first.value;
      preview();
    });
  }
  const topic = document.getElementById("f-topic");
  const rules = form.querySelectorAll("input[name=rule]");
  function filterTopics() {
    const rule = form.querySelector("input[name=rule]:checked")?.value;
    if (!topic) return;
    for (const group of topic.querySelectorAll("optgroup")) {
      const visible = !rule || group.dataset.rule === rule;
      group.hidden = !visible;
      group.disabled = !visible;
    }
    if (topic.selectedOptions[0]?.parentElement?.disabled) topic.value = "";
  }
  for (const radio of rules) radio.addEventListener("change", () => { filterTopics(); preview(); });
  topic?.addEventListener("change", preview);
  select?.addEventListener("change", preview);
  filterTopics();
  const out = document.getElementById("routing-preview");
  async function preview() {
    const rule = form.querySelector("input[name=rule]:checked")?.value;
    if (!out || !select?.value || !rule) return;
    const params = new URLSearchParams({ facility_id: select.value, rule });
    if (topic?.value) params.set("topic", topic.value);
    const response = await fetch(`/v1/complaints/routing?${params}`);
    if (!response.ok) return;
    const route = await response.json();
    const fr = form.dataset.lang !== "en";
    out.textContent = fr
      ? `Votre réclamation sera transmise à : ${route.service.name.fr}. Réponse sous ${route.answer_days} jours.`
      : `Your complaint will go to: ${route.service.name.en}. Answer within ${route.answer_days} days.`;
  }
  preview();
}

if (form) {
  form.addEventListener("submit", submit);
  if (form.dataset.kind === "complaint") setUpComplaint();
}
