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

  document.addEventListener("keydown", function (event) {
    if (!card() || event.altKey || event.metaKey || event.isComposing) { return; }
    var target = event.target;
    if (event.key === "Escape") {
      toggleHelp(false);
      if (typing(target)) { target.blur(); }
      return;
    }
    if (typing(target)) {
      // Inside a field keys are text; Enter submits from a one-line field or a select, Ctrl+Enter from a text box.
      if (event.key === "Enter" && (event.ctrlKey || target.tagName !== "TEXTAREA")) {
        event.preventDefault();
        submit();
      }
      return;
    }
    if (event.ctrlKey) { return; }
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (event.key === "Enter") {
      if (target.tagName === "BUTTON" || target.tagName === "A") { return; }  // let the focused control act
      event.preventDefault(); submit(); return;
    }
    if (event.key === "s") { event.preventDefault(); click("skip"); return; }
    if (event.key === "u") { event.preventDefault(); click("back"); return; }
    var inputs = card().querySelectorAll("input[data-key]");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].getAttribute("data-key") === event.key) {
        event.preventDefault();
        var input = inputs[i];
        if (input.type === "checkbox") { input.checked = !input.checked; } else { input.checked = true; }
        input.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
    }
  });
})();
