// Service inbox: list the service's complaints, acknowledge and answer them (bearer token).
const connect = document.getElementById("connect");
const status = document.getElementById("inbox-status");
const list = document.querySelector("#inbox .items");
const fr = connect.dataset.lang !== "en";
const t = (f, e) => (fr ? f : e);
const tokenInput = document.getElementById("f-token");
tokenInput.value = sessionStorage.getItem("pl-service-token") || "";

function when(value) {
  return value ? new Date(value).toLocaleString(fr ? "fr-FR" : "en-GB", { timeZone: "Europe/Paris" }) : "—";
}

async function call(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${tokenInput.value.trim()}`, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error?.message || `HTTP ${response.status}`);
  return body;
}

function item(c) {
  const article = document.createElement("article");
  article.className = "inbox-item";
  const late = !c.answered_at && new Date(c.answer_due_at) < new Date();
  const h3 = document.createElement("h3");
  const about = [c.procedure?.title?.[fr ? "fr" : "en"], c.facility_name].filter(Boolean).join(" · ");
  h3.textContent = `${c.reference} — ${about}`;
  const meta = document.createElement("p");
  meta.textContent = `${c.rule} / ${c.topic} · ${t("déposée", "filed")} ${when(c.filed_at)} · ${t("réponse avant", "answer by")} ${when(c.answer_due_at)}`;
  if (late) { const s = document.createElement("strong"); s.className = "late"; s.textContent = ` ${t("en retard", "late")}`; meta.append(s); }
  const text = document.createElement("blockquote");
  text.textContent = c.text ?? t("(texte effacé après la durée de conservation)", "(text deleted after retention)");
  const contact = document.createElement("p");
  contact.textContent = `${t("Contact", "Contact")} : ${c.contact ?? t("aucun", "none")}`;
  article.append(h3, meta, text, contact);
  if (!c.acknowledged_at) {
    const ack = document.createElement("button");
    ack.type = "button"; ack.className = "secondary";
    ack.textContent = t("Accuser réception", "Acknowledge");
    ack.addEventListener("click", () => act(`/v1/complaints/${c.reference}/acknowledge`, {}, ack));
    article.append(ack);
  }
  if (!c.answered_at) {
    const form = document.createElement("form");
    const id = `answer-${c.reference}`;
    form.innerHTML = `<div class="field"><label for="${id}"></label><textarea id="${id}" rows="3" maxlength="2000" required></textarea></div><p><button type="submit"></button></p>`;
    form.querySelector("label").textContent = t("Réponse (français)", "Answer (French)");
    form.querySelector("button").textContent = t("Envoyer la réponse", "Send the answer");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = form.querySelector("textarea").value.trim();
      if (!value) { form.querySelector("textarea").setAttribute("aria-invalid", "true"); form.querySelector("textarea").focus(); return; }
      act(`/v1/complaints/${c.reference}/answer`, { answer: { fr: value } }, form.querySelector("button"));
    });
    article.append(form);
  } else {
    const done = document.createElement("p");
    done.className = c.answered_on_time ? "ok" : "late";
    done.textContent = `${t("Répondue le", "Answered on")} ${when(c.answered_at)}`;
    article.append(done);
  }
  return article;
}

async function act(path, body, button) {
  button.disabled = true;
  try {
    await call(path, { method: "POST", body: JSON.stringify(body) });
    status.textContent = t("Enregistré.", "Saved.");
    await load();
  } catch (error) {
    status.textContent = error.message;
    button.disabled = false;
  }
}

async function load() {
  sessionStorage.setItem("pl-service-token", tokenInput.value.trim());
  const state = document.getElementById("f-state").value;
  try {
    const page = await call(`/v1/inbox/complaints?state=${state}&limit=200`);
    list.replaceChildren(...page.items.map(item));
    status.textContent = page.items.length ? `${page.items.length} ${t("réclamation(s)", "complaint(s)")}` : list.closest("section").dataset.empty;
  } catch (error) {
    list.replaceChildren();
    status.textContent = error.message;
  }
}

connect.addEventListener("submit", (event) => { event.preventDefault(); load(); });
if (tokenInput.value) load();
