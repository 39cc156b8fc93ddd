// Labelling and QA pages: keyboard first. No inline scripts (CSP); everything hangs off data- attributes.
(function () {
  "use strict";
  var started = Date.now();

  function card() { return document.querySelector("[data-labelling]"); }
  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable ||
      (tag === "INPUT" && ["text", "search", "number", "email", "url", "password"].indexOf(el.type) >= 0);
  }
  function help() { return document.querySelector("[data-key-help]"); }
  function toggleHelp(show) {
    var h = help();
    if (!h) { return; }
    h.classList.toggle("hidden", show === undefined ? !h.classList.contains("hidden") : !show);
  }
  function click(action) {
    var c = card();
    var el = c && c.querySelector('[data-action="' + action + '"]');
    if (el) { el.click(); return true; }
    return false;
  }
  function submit() {
    var form = card() && card().querySelector("form.label-form");
    if (form) { form.requestSubmit(); }
  }

  // Time on the item: from when it was shown to when it is submitted (the server bounds it again).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && (event.target.id === "label-card" || card())) { started = Date.now(); }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.parameters && "time_spent_ms" in event.detail.parameters) {
      event.detail.parameters.time_spent_ms = String(Date.now() - started);
    }
  });
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector && event.target.querySelector("[data-time-spent]");
    if (field) { field.value = String(Date.now() - started); }
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.closest('[data-action="close-help"]')) { toggleHelp(false); }
  });

  // The keys come from the card's data-keymap (labelling/keys.py), the same data the help overlay lists.
  var picked = null;   // the task-type or rating question picked by its letter: number keys answer it
  var level1 = null;   // the task type's top level chosen so far, waiting for its sub-type
  function keymap() {
    var c = card();
    try { return JSON.parse((c && c.getAttribute("data-keymap")) || "{}"); } catch (e) { return {}; }
  }
  function find(list, key) {
    for (var i = 0; list && i < list.length; i++) { if (list[i].key === key) { return list[i]; } }
    return null;
  }
  function fieldset(name) { return card().querySelector('fieldset[data-question="' + name + '"]'); }
  function showLevel(name, key) {
    var box = fieldset(name);
    if (!box) { return; }
    box.querySelectorAll("[data-tt-level]").forEach(function (ol) {
      ol.classList.toggle("hidden", ol.getAttribute("data-tt-level") !== key);
    });
  }
  function pick(question) {
    unpick();
    picked = question; level1 = null;
    var box = fieldset(question.name);
    if (box) { box.classList.add("picked"); }
    if (question.kind === "task_type") { showLevel(question.name, ""); }
  }
  function unpick() {
    if (picked) {
      var box = fieldset(picked.name);
      if (box) { box.classList.remove("picked"); }
    }
    picked = null; level1 = null;
  }
  function setValue(name, value) {
    var el = card().querySelector('select[name="' + name + '"]');
    if (el) { el.value = value; el.dispatchEvent(new Event("change", { bubbles: true })); return; }
    var radio = card().querySelector('input[name="' + name + '"][value="' + CSS.escape(value) + '"]');
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
  }
  // A number key while a question is picked: true when it answered (part of) the question.
  function answerPicked(key) {
    if (picked.kind === "rating") {
      var point = find(picked.points, key);
      if (point) { setValue(picked.field, point.value); unpick(); }
      return !!point;
    }
    if (level1) {
      var sub = find(level1.subs, key);
      if (sub) { setValue(picked.field, sub.value); unpick(); }
      return !!sub;
    }
    var top = find(picked.levels, key);
    if (!top) { return false; }
    if (!top.subs.length) { setValue(picked.field, top.value); unpick(); return true; }
    level1 = top;
    showLevel(picked.name, top.key);
    return true;
  }
  function toggleOption(option) {
    var input = card().querySelector('input[name="' + option.field + '"][value="' + CSS.escape(option.value) + '"]');
    if (!input) { return; }
    if (option.toggles) { input.checked = !input.checked; } else { input.checked = true; }
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  document.addEventListener("htmx:afterSwap", function () { picked = null; level1 = null; });
  // Tab into a keyed question (its rating buttons) picks it too, so its number keys answer what has the focus.
  document.addEventListener("focusin", function (event) {
    var box = card() && event.target.closest && event.target.closest("fieldset[data-question]");
    if (!box) { return; }
    var name = box.getAttribute("data-question");
    var questions = keymap().questions || [];
    for (var i = 0; i < questions.length; i++) {
      if (questions[i].name === name) { if (!picked || picked.name !== name) { pick(questions[i]); } return; }
    }
    unpick();
  });

  document.addEventListener("keydown", function (event) {
    if (!card() || event.altKey || event.metaKey || event.isComposing) { return; }
    var target = event.target;
    var keys = keymap();
    var page = keys.page || [];
    if (event.key === "Escape") {
      toggleHelp(false);
      unpick();
      if (typing(target)) { target.blur(); }
      return;
    }
    if (typing(target)) {
      // Inside a field keys are text; Enter submits from a one-line field or a select, Ctrl+Enter from a text box.
      if (event.key === "Enter" && page.indexOf("Enter") >= 0 && (event.ctrlKey || target.tagName !== "TEXTAREA")) {
        event.preventDefault();
        submit();
      }
      return;
    }
    if (event.ctrlKey) { return; }
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (event.key === "Enter" && page.indexOf("Enter") >= 0) {
      if (target.tagName === "BUTTON" || target.tagName === "A") { return; }  // let the focused control act
      event.preventDefault(); submit(); return;
    }
    if (event.key === "s" && page.indexOf("s") >= 0) { event.preventDefault(); click("skip"); return; }
    if (event.key === "u") { event.preventDefault(); click("back"); return; }
    if (picked && answerPicked(event.key)) { event.preventDefault(); return; }
    var question = find(keys.questions, event.key);
    if (question) { event.preventDefault(); pick(question); return; }
    var option = find(keys.options, event.key);
    if (option) { event.preventDefault(); toggleOption(option); }
  });
})();
