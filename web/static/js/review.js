// Suggestion review beside the narrative: highlighted spans, a grouped panel, keyboard decisions.
// Nothing here makes data by itself: every accept, edit or reject is a request the server records.
(function () {
  "use strict";
  const panel = document.getElementById("review-panel");
  if (!panel) return;
  const data = JSON.parse(document.getElementById("review-data").textContent);
  const csrf = data.csrf;
  const textarea = document.getElementById("text");
  const readonly = document.getElementById("entry-words");
  const list = panel.querySelector("[data-review-list]");
  const status = panel.querySelector("[data-review-status]");
  const people = new Map(data.people.map((p) => [p.id, p]));
  const GROUPS = [["person", "People"], ["date", "Dates"], ["risk", "Risk indicators"],
    ["tag", "Themes"], ["child_seen", "Children seen"]];
  let entryId = data.entry_id;
  let state = null, running = null, again = false, timer = null;
  window.casenotesReview = { lastRenderMs: null };

  function say(message) { status.textContent = message; }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v; else if (k.startsWith("data-") || k === "role" || k.startsWith("aria-")) node.setAttribute(k, v); else node[k] = v;
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  }

  async function api(method, path, body) {
    const response = await fetch("/api/v1" + path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const reply = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(reply.error || response.statusText);
    return reply;
  }

  function describe(kind, fields) {
    if (kind === "person" || kind === "child_seen") {
      const who = fields.person != null && people.get(fields.person) ? people.get(fields.person).name : "Not on the record";
      return kind === "child_seen" ? who + (fields.alone ? ", seen alone" : ", seen (not alone)") : who;
    }
    if (kind === "date") return fields.value + (fields.precision && fields.precision !== "day" ? " (" + fields.precision + ")" : "") + (fields.ambiguous ? " — check: ambiguous" : "");
    if (kind === "risk") return (data.risks[fields.label] || fields.label) + " · " + fields.assertion + (fields.source ? " (reported by " + fields.source + ")" : "");
    return data.tags[fields.label] || fields.label;
  }

  // --- highlighting -------------------------------------------------------------------
  function words() { return textarea ? textarea.value : readonly.dataset.text; }

  function paintHighlights() {
    const started = performance.now();
    const target = textarea ? document.getElementById("text-backdrop") : readonly;
    if (!target || !state) return;
    const text = words();
    const spans = state.suggestions.filter((s) => s.kind !== "tag" && !s.stale && s.state !== "rejected")
      .map((s) => ({ start: s.start, end: s.start + s.text.length, kind: s.kind, id: s.id, state: s.state }))
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const span of spans) {
      if (span.start < at || span.end > text.length) continue;
      fragment.append(text.slice(at, span.start));
      const mark = el("mark", { class: "cn-mark cn-mark--" + span.kind + " cn-mark--" + span.state, "data-suggestion": span.id });
      mark.textContent = text.slice(span.start, span.end);
      fragment.append(mark);
      at = span.end;
    }
    fragment.append(text.slice(at) + "\n");
    target.replaceChildren(fragment);
    window.casenotesReview.lastRenderMs = performance.now() - started;
  }

  // --- the panel ----------------------------------------------------------------------
  function render() {
    const started = performance.now();
    list.replaceChildren();
    const pending = state.suggestions.filter((s) => s.state === "pending");
    const bulk = pending.filter((s) => s.kind === "person" || s.kind === "date");
    const head = el("div", { class: "cn-review__actions" });
    if (bulk.length) {
      head.append(el("button", { type: "button", class: "govuk-button govuk-button--secondary cn-small-button", "data-action": "bulk", onclick: acceptBulk },
        "Accept all " + bulk.length + " people and dates"));
    }
    list.append(head);
    for (const [kind, title] of GROUPS) {
      const items = state.suggestions.filter((s) => s.kind === kind);
      const added = state.added.filter((a) => a.kind === kind);
      if (!items.length && !added.length) continue;
      const group = el("ul", { class: "cn-review__group", role: "list", "aria-label": title });
      items.forEach((s) => group.append(item(s)));
      added.forEach((a) => group.append(el("li", { class: "cn-review__item cn-review__item--added" },
        el("span", { class: "cn-review__words" }, "“" + a.text + "”"), " ", describe(a.kind, a.fields), " ", el("strong", { class: "govuk-tag govuk-tag--green" }, "added by you"))));
      list.append(el("h3", { class: "govuk-heading-s cn-review__title" }, title + " (" + (items.length + added.length) + ")"), group);
    }
    if (!state.suggestions.length && !state.added.length) list.append(el("p", { class: "govuk-body-s" }, "No suggestions for this text."));
    paintHighlights();
    window.casenotesReview.lastRenderMs = performance.now() - started;
  }

  function item(s) {
    const decided = s.state !== "pending";
    const shown = s.decision ? s.decision.fields : s.fields;
    const li = el("li", { class: "cn-review__item cn-review__item--" + s.state + (s.stale ? " cn-review__item--stale" : ""), tabIndex: 0, "data-id": s.id, "data-kind": s.kind },
      s.text ? el("span", { class: "cn-review__words" }, "“" + s.text + "”") : el("span", { class: "cn-review__words" }, "Whole entry"), " ",
      el("span", { class: "cn-review__value" }, describe(s.kind, shown)),
      s.rule.startsWith("reconfirm") ? el("span", { class: "govuk-body-s" }, " — words changed from “" + (s.fields.was || "") + "”, confirm again") : "",
      " ", decided ? el("strong", { class: "govuk-tag " + (s.state === "rejected" ? "govuk-tag--grey" : "govuk-tag--green") }, s.state) : "");
    li.title = "Suggested by " + s.rule + (s.confidence != null ? " (confidence " + s.confidence.toFixed(2) + ")" : "");
    const buttons = el("span", { class: "cn-review__buttons" },
      el("button", { type: "button", class: "cn-link-button", onclick: () => decide(s, "accept") }, "Accept"),
      el("button", { type: "button", class: "cn-link-button", onclick: () => openEdit(li, s) }, "Edit"),
      el("button", { type: "button", class: "cn-link-button", onclick: () => decide(s, "reject") }, "Reject"));
    if (s.kind === "person" && s.fields.person == null) {
      buttons.append(el("button", { type: "button", class: "cn-link-button", onclick: () => openNewPerson(li, s) }, "New person"));
    }
    if (!s.stale) li.append(" ", buttons);
    li.addEventListener("keydown", (event) => keys(event, li, s));
    li.addEventListener("focus", () => {
      document.querySelectorAll(".cn-mark--focus").forEach((m) => m.classList.remove("cn-mark--focus"));
      const mark = document.querySelector('mark[data-suggestion="' + s.id + '"]');
      if (mark) mark.classList.add("cn-mark--focus");
    });
    return li;
  }

  function keys(event, li, s) {
    if (event.target !== li) return;
    const items = Array.from(list.querySelectorAll(".cn-review__item[data-id]"));
    const index = items.indexOf(li);
    const key = event.key;
    if (key === "ArrowDown" || key === "j") { event.preventDefault(); (items[index + 1] || li).focus(); }
    else if (key === "ArrowUp" || key === "k") { event.preventDefault(); (items[index - 1] || li).focus(); }
    else if (key === "a") { event.preventDefault(); decide(s, "accept"); }
    else if (key === "r") { event.preventDefault(); decide(s, "reject"); }
    else if (key === "e") { event.preventDefault(); openEdit(li, s); }
    else if (key === "A") { event.preventDefault(); acceptBulk(); }
  }

  function focusAfter(id) {
    const items = Array.from(list.querySelectorAll(".cn-review__item[data-id]"));
    const next = items.find((i) => Number(i.dataset.id) > id && i.classList.contains("cn-review__item--pending")) || items.find((i) => i.classList.contains("cn-review__item--pending"));
    if (next) next.focus();
  }

  async function decide(s, decision, fields) {
    try {
      await api("POST", "/entries/" + entryId + "/decisions", { suggestion_id: s.id, decision, fields: fields || {} });
      say((decision === "reject" ? "Rejected" : decision === "edit" ? "Changed and accepted" : "Accepted") + ": “" + s.text + "”.");
      await refresh();
      focusAfter(s.id);
    } catch (error) { say("Not saved: " + error.message); }
  }

  async function acceptBulk() {
    const ids = state.suggestions.filter((s) => s.state === "pending" && !s.stale && (s.kind === "person" || s.kind === "date")).map((s) => s.id);
    if (!ids.length) return;
    try {
      await api("POST", "/entries/" + entryId + "/decisions/bulk", { suggestion_ids: ids });
      say("Accepted " + ids.length + " people and dates.");
      await refresh();
      focusAfter(0);
    } catch (error) { say("Not saved: " + error.message); }
  }

  // --- editing a value ----------------------------------------------------------------
  function fieldsForm(kind, current, onSave) {
    const form = el("form", { class: "cn-review__edit" });
    const controls = [];
    const select = (name, label, options, value) => {
      const id = "edit-" + name + "-" + Math.random().toString(36).slice(2, 7);
      const node = el("select", { class: "govuk-select", id, name }, options.map(([v, l]) => el("option", { value: v, selected: String(v) === String(value) }, l)));
      controls.push(el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: id }, label), node));
    };
    if (kind === "person" || kind === "child_seen") {
      const choices = data.people.filter((p) => kind === "person" || p.category === "child").map((p) => [p.id, p.name + " (" + (p.relationship || p.category) + ")"]);
      if (kind === "person") choices.unshift(["", "Not on the record"]);
      select("person", kind === "person" ? "Who this is" : "Which child", choices, current.person);
      if (kind === "child_seen") select("alone", "Seen alone", [["true", "Yes"], ["false", "No"]], String(!!current.alone));
    } else if (kind === "date") {
      const id = "edit-date-" + Math.random().toString(36).slice(2, 7);
      controls.push(el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: id }, "Date"), el("input", { class: "govuk-input govuk-input--width-10", type: "date", id, name: "value", value: current.value || "" })));
    } else if (kind === "risk") {
      select("label", "Risk indicator", Object.entries(data.risks), current.label);
      select("assertion", "Assertion", data.assertions.map((a) => [a, a]), current.assertion || "present");
    } else {
      select("label", "Theme", Object.entries(data.tags), current.label);
    }
    form.append(...controls, el("button", { type: "submit", class: "govuk-button cn-small-button" }, "Save"), " ",
      el("button", { type: "button", class: "govuk-button govuk-button--secondary cn-small-button", onclick: () => form.remove() }, "Cancel"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = {};
      new FormData(form).forEach((v, k) => {
        values[k] = k === "person" ? (v === "" ? null : Number(v)) : k === "alone" ? v === "true" : v;
      });
      onSave(values);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") form.remove();
      // Enter on a choice saves, as it does in a text box.
      if (event.key === "Enter" && event.target.tagName === "SELECT") { event.preventDefault(); form.requestSubmit(); }
    });
    return form;
  }

  function openEdit(li, s) {
    li.querySelectorAll("form").forEach((f) => f.remove());
    const form = fieldsForm(s.kind, s.decision ? s.decision.fields : s.fields, (values) => decide(s, "edit", values));
    li.append(form);
    form.querySelector("select, input").focus();
  }

  function openNewPerson(li, s) {
    li.querySelectorAll("form").forEach((f) => f.remove());
    const form = el("form", { class: "cn-review__edit" });
    const field = (name, label, value, type) => {
      const id = "new-" + name + "-" + s.id;
      return el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: id }, label),
        el("input", { class: "govuk-input", id, name, value: value || "", type: type || "text" }));
    };
    const category = el("select", { class: "govuk-select", name: "category", id: "new-category-" + s.id }, data.categories.map((c) => el("option", { value: c, selected: c === "other" }, c)));
    const results = el("div", { "data-duplicates": "", role: "status", "aria-live": "polite" });
    form.append(field("name", "Name", s.text.replace(/^(the|her|his|their)\s+/i, "")), field("relationship", "Relationship to the child", s.fields.relationship),
      el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: "new-category-" + s.id }, "Who they are to the family"), category),
      field("dob", "Date of birth (if known)", "", "date"),
      el("button", { type: "submit", class: "govuk-button govuk-button--secondary cn-small-button" }, "Check for existing records"), results);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const details = Object.fromEntries(new FormData(form));
      if (!details.dob) delete details.dob;
      try {
        const found = await api("POST", "/cases/" + data.case_id + "/people/duplicates", details);
        results.replaceChildren();
        if (found.length) {
          results.append(el("p", { class: "govuk-body-s" }, "These records may be the same person:"));
          const ul = el("ul", { class: "govuk-list" });
          found.forEach((c) => ul.append(el("li", {}, c.name + (c.dob ? ", born " + c.dob : "") + " — case " + c.case_reference + " (" + c.reasons.join(", ") + ") ",
            c.same_case ? el("button", { type: "button", class: "cn-link-button", onclick: () => decide(s, "edit", { person: c.id }) }, "Link to this person") : el("span", { class: "govuk-body-s" }, "on another case: ask your manager before creating a second record"))));
          results.append(ul);
        } else {
          results.append(el("p", { class: "govuk-body-s" }, "No existing record looks like this person."));
        }
        results.append(el("button", { type: "button", class: "govuk-button cn-small-button", onclick: async () => {
          try {
            await api("POST", "/entries/" + entryId + "/people", { suggestion_id: s.id, ...details });
            data.people = (await api("GET", "/cases/" + data.case_id)).people;
            data.people.forEach((p) => people.set(p.id, p));
            say("Added " + details.name + " to the record.");
            await refresh();
          } catch (error) { say("Not saved: " + error.message); }
        } }, "Create new person"));
      } catch (error) { say(error.message); }
    });
    li.append(form);
    form.querySelector("input").focus();
  }

  // --- adding a fact from selected words ----------------------------------------------
  const addButton = document.getElementById("add-fact");
  if (addButton && textarea) {
    addButton.addEventListener("click", async () => {
      const start = textarea.selectionStart, end = textarea.selectionEnd;
      if (start === end) { say("Select the words in the narrative first, then choose Add a fact."); return; }
      const selected = textarea.value.slice(start, end);
      const kindSelect = el("select", { class: "govuk-select", id: "add-kind" }, GROUPS.map(([k, t]) => el("option", { value: k }, t)));
      const box = el("div", { class: "cn-review__edit", id: "add-fact-form" }, el("p", { class: "govuk-body-s" }, "Selected: “" + selected + "”"),
        el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: "add-kind" }, "What these words are"), kindSelect));
      const showFields = () => {
        box.querySelectorAll("form").forEach((f) => f.remove());
        box.append(fieldsForm(kindSelect.value, { assertion: "present" }, async (values) => {
          try {
            if (window.casenotesDraft) await window.casenotesDraft.saveNow();
            entryId = entryId || (window.casenotesDraft && window.casenotesDraft.entryId());
            await api("POST", "/entries/" + entryId + "/facts", { kind: kindSelect.value, start, end, fields: values });
            box.remove();
            say("Added: “" + selected + "”.");
            await refresh();
          } catch (error) { say("Not saved: " + error.message); }
        }));
      };
      kindSelect.addEventListener("change", showFields);
      document.getElementById("add-fact-form")?.remove();
      addButton.after(box);
      showFields();
      kindSelect.focus();
    });
  }

  // --- running and refreshing ---------------------------------------------------------
  async function refresh() {
    state = await api("GET", "/entries/" + entryId + "/suggestions");
    render();
  }

  let lastRunText = null;
  async function run(force) {
    entryId = entryId || (window.casenotesDraft && window.casenotesDraft.entryId());
    if (!entryId) { say("Start writing: suggestions appear once the draft is saved."); return; }
    // Automatic refreshes skip unchanged text and never pull a form from under the worker.
    if (!force && (words() === lastRunText || panel.querySelector("form"))) return;
    if (running) { again = true; return running; }
    const asked_text = words();
    say("Looking for suggestions…");
    const asked = performance.now();
    running = api("POST", "/entries/" + entryId + "/suggestions").then((reply) => {
      state = reply;
      lastRunText = asked_text;
      render();
      window.casenotesReview.suggestToPaintMs = performance.now() - asked;
      const pending = state.suggestions.filter((s) => s.state === "pending").length;
      say(pending + " suggestion" + (pending === 1 ? "" : "s") + " to review.");
    }).catch((error) => say(error.message)).finally(() => {
      running = null;
      if (again) { again = false; run(false); }
    });
    return running;
  }
  window.casenotesReview.run = run;

  document.getElementById("run-suggestions")?.addEventListener("click", async () => {
    if (window.casenotesDraft) await window.casenotesDraft.saveNow();
    await run(true);
    const first = list.querySelector(".cn-review__item--pending");
    if (first) first.focus();
  });
  // Refresh by themselves after a pause in typing, once the draft has been saved.
  document.addEventListener("casenotes:draft-saved", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(false), 1500);
  });
  if (textarea) {
    const backdrop = document.getElementById("text-backdrop");
    textarea.addEventListener("scroll", () => { if (backdrop) backdrop.scrollTop = textarea.scrollTop; });
    textarea.addEventListener("input", () => { if (state) { state.suggestions.forEach((s) => { s.stale = s.stale || textarea.value.slice(s.start, s.start + s.text.length) !== s.text; }); paintHighlights(); } });
  }
  if (entryId) refresh().catch(() => {});
})();
