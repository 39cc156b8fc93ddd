// Labelling, QA and schema-preview pages: keyboard first. No inline scripts (CSP); everything hangs off data-
// attributes. The card ([data-labelling]) carries its keys as data-keymap (labelling/keys.py).
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
  // Enter: the card's submit button (label: Submit, QA: Accept), or "Save the fix" while QA's Fix panel is open.
  function submit() {
    var c = card();
    var button = c && (c.querySelector('details[data-fix][open] [data-action="fix"]') ||
                       c.querySelector('[data-action="submit"]'));
    if (button) { button.click(); }  // a click, so htmx sends the button's action (accept / fix) with the form
  }
  // An answer changed by a key inside a closed panel (QA's Fix) opens it, so the change is seen and Enter saves it.
  function reveal(el) {
    var panel = el && el.closest("details");
    if (panel && !panel.open) { panel.open = true; }
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
    if (event.target.matches && event.target.matches("form[data-preview]")) { event.preventDefault(); return; }
    var field = event.target.querySelector && event.target.querySelector("[data-time-spent]");
    if (field) { field.value = String(Date.now() - started); }
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.closest('[data-action="close-help"]')) { toggleHelp(false); }
  });

  // The keys come from the card's data-keymap (labelling/keys.py), the same data the help overlay lists.
  var picked = null;   // the task-type or rating question picked by its letter: number keys answer it
  var level1 = null;   // the task type's top level chosen so far, waiting for its sub-type
  var typed = "";      // the rating's digits typed so far, while a longer score could still follow
  var typedTimer = null;
  function keymap() {
    var c = card();
    try { return JSON.parse((c && c.getAttribute("data-keymap")) || "{}"); } catch (e) { return {}; }
  }
  function find(list, key) {
    for (var i = 0; list && i < list.length; i++) { if (list[i].key === key) { return list[i]; } }
    return null;
  }
  function fieldset(name) {
    var c = card();
    return c && c.querySelector('fieldset[data-question="' + name + '"]');
  }
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
    if (box) { box.classList.add("picked"); reveal(box); }
    if (question.kind === "task_type") { showLevel(question.name, ""); }
  }
  function unpick() {
    if (picked) {
      var box = fieldset(picked.name);
      if (box) { box.classList.remove("picked"); }
    }
    picked = null; level1 = null; typed = "";
    clearTimeout(typedTimer);
  }
  function setValue(name, value) {
    var el = card().querySelector('select[name="' + name + '"]');
    if (el) { reveal(el); el.value = value; el.dispatchEvent(new Event("change", { bubbles: true })); return; }
    var radio = card().querySelector('input[name="' + name + '"][value="' + CSS.escape(value) + '"]');
    if (radio) { reveal(radio); radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
  }
  // The rating's scores that begin with these digits.
  function scoresFrom(digits) {
    var out = [];
    for (var v = picked.min; v <= picked.max; v++) { if (String(v).indexOf(digits) === 0) { out.push(v); } }
    return out;
  }
  // A digit for the picked rating: the digits so far form the score, chosen at once; while a longer score could
  // still follow (1 on a 1-12 scale) the next digit has window_ms to come, else the question is done.
  function typeScore(key) {
    if (!/^[0-9]$/.test(key)) { return false; }
    var digits = typed + key;
    var scores = scoresFrom(digits);
    if (!scores.length) { return typed !== ""; }  // no score goes on like that: ignored while one is being typed
    typed = digits;
    if (scores.indexOf(Number(digits)) >= 0) { setValue(picked.field, digits); }
    clearTimeout(typedTimer);
    var longer = scores.some(function (v) { return String(v).length > digits.length; });
    if (longer) { typedTimer = setTimeout(unpick, picked.window_ms); } else { unpick(); }
    return true;
  }
  // A number key while a question is picked: true when it answered (part of) the question.
  function answerPicked(key) {
    if (picked.kind === "rating") { return typeScore(key); }
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
    reveal(input);
    if (option.toggles) { input.checked = !input.checked; } else { input.checked = true; }
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  document.addEventListener("htmx:afterSwap", function () { picked = null; unpick(); });
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
      if (["BUTTON", "A", "SUMMARY"].indexOf(target.tagName) >= 0) { return; }  // let the focused control act
      event.preventDefault(); submit(); return;
    }
    if (event.key === "s" && page.indexOf("s") >= 0) { event.preventDefault(); click("skip"); return; }
    if (event.key === "u" && page.indexOf("u") >= 0) { event.preventDefault(); click("back"); return; }
    if (picked && answerPicked(event.key)) { event.preventDefault(); return; }
    var question = find(keys.questions, event.key);
    if (question) { event.preventDefault(); pick(question); return; }
    var option = find(keys.options, event.key);
    if (option) { event.preventDefault(); toggleOption(option); }
  });
})();
