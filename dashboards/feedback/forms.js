// Feedback forms (survey, complaint): submit as JSON, tie each error to its field (message next to
// it, aria-invalid, a summary at the top linking to each field: the DSFR / GOV.UK pattern), and take
// an error away as soon as its field is fixed. Messages come from the API in the page's language
// (the form's action carries ?lang=); without JavaScript the same forms post as HTML forms and the
// server answers with a page.

const form = document.querySelector("form.feedback-form");
const CONTROLS = "input:not([type=hidden]), select, textarea";

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

// What the server accepts as a contact (api/feedback/contact.py), loosely: enough to take the
// message away once the person has typed something usable; the server still decides on sending.
function contactLooksValid(value) {
  if (value.includes("@")) return /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/.test(value);
  if (/^[+0-9 ().\-/]+$/.test(value)) {
    const digits = value.replace(/\D/g, "");
    if (value.startsWith("+") || digits.startsWith("00")) return digits.length >= 8 && digits.length <= 15;
    return digits.length === 10 && digits.startsWith("0");
  }
  return /(^|\D)\d{5}(\D|$)/.test(value) && /\p{L}{2,}/u.test(value);
}

function isFixed(holder) {
  const controls = [...holder.querySelectorAll(CONTROLS)];
  if (!controls.length) return true;
  if (controls[0].type === "radio") return controls.some((radio) => radio.checked);
  const control = controls[0];
  const value = control.value.trim();
  if (value === holder.dataset.rejected) return false;
  if (control.dataset.check === "contact") return value === "" || contactLooksValid(value);
  if (control.required && value === "") return false;
  if (control.minLength > 0 && value.length < control.minLength) return false;
  return !(control.maxLength > 0 && value.length > control.maxLength);
}

function summaryOf() {
  return document.querySelector(".error-summary");
}

function clearField(holder) {
  const error = holder.querySelector(".field-error");
  if (error) { error.hidden = true; error.textContent = ""; }
  holder.classList.remove("invalid");
  for (const node of holder.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  delete holder.dataset.rejected;
  const summary = summaryOf();
  for (const item of summary.querySelectorAll("li")) {
    if (item.dataset.field === holder.dataset.field) item.remove();
  }
  if (!summary.querySelector("li")) summary.hidden = true;
}

function clearErrors(formElement, summary) {
  summary.hidden = true;
  summary.querySelector("ul").replaceChildren();
  for (const holder of formElement.querySelectorAll("[data-field]")) clearField(holder);
}

function holderOf(formElement, name) {
  return formElement.querySelector(`[data-field="${CSS.escape(name)}"]`)
    || formElement.querySelector(`[data-field="${CSS.escape(name.split(".")[0])}"]`);
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
    const holder = holderOf(formElement, name);
    const li = document.createElement("li");
    if (holder) {
      li.dataset.field = holder.dataset.field;
      const error = holder.querySelector(".field-error");
      if (error) { error.textContent = text; error.hidden = false; }
      const control = holder.querySelector(CONTROLS);
      if (holder.tagName === "FIELDSET") holder.classList.add("invalid");
      else if (control) {
        control.setAttribute("aria-invalid", "true");
        holder.dataset.rejected = control.value.trim();
      }
      const link = document.createElement("a");
      const target = control || holder;
      if (!target.id) target.id = `ctl-${name.replace(/\W/g, "-")}`;
      link.href = `#${target.id}`;
      const title = holder.querySelector("legend .question") || holder.querySelector("legend, label");
      const label = title?.textContent?.trim() || name;
      // « — », not « : »: a label that ends in « ? » read « ? : champ obligatoire », and English
      // has no space before a colon
      link.textContent = `${label} — ${text}`;
      link.addEventListener("click", (event) => { event.preventDefault(); target.focus(); });
      li.append(link);
    } else {
      li.textContent = `${name} — ${text}`;
    }
    list.append(li);
  }
  summary.hidden = false;
  summary.focus();
}

function onEdit(event) {
  const holder = event.target.closest?.("[data-field]");
  if (!holder || !holder.querySelector(".field-error:not([hidden])")) return;
  if (isFixed(holder)) clearField(holder);
}

async function submit(event) {
  event.preventDefault();
  const summary = summaryOf();
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
    let message = error.message || form.dataset.failed;
    if (response.status === 429) {
      const wait = response.headers.get("Retry-After");
      if (wait) message += ` (${wait} s)`;
    }
    showErrors(form, summary, error.fields, message);
  } catch {
    showErrors(form, summary, null, form.dataset.failed);
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
    // A démarche's complaint goes to the démarche's service: the page already says which.
    if (form.elements.procedure_id) return;
    if (!out || !select?.value || !rule) return;
    const params = new URLSearchParams({ facility_id: select.value, rule });
    if (topic?.value) params.set("topic", topic.value);
    const response = await fetch(`/v1/complaints/routing?${params}`);
    if (!response.ok) return;
    const route = await response.json();
    const lang = form.dataset.lang === "en" ? "en" : "fr";
    const service = (route.service.full_name || route.service.name)[lang];
    out.textContent = form.dataset.preview
      .replace("{service}", service)
      .replace("{days}", String(route.answer_days));
  }
  preview();
}

if (form) {
  form.addEventListener("submit", submit);
  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);
  form.addEventListener("focusout", onEdit);
  if (form.dataset.kind === "complaint") setUpComplaint();
}
