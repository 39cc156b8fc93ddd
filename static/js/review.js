// Blind review keyboard: 1–5 score the active row, j/k move, l/r/t/b pick the overall preference,
// c comments, Enter submits, s skips, ? shows the key overlay. The card is swapped by htmx, so every
// lookup happens at key time (event delegation), never cached.
(function () {
  "use strict";
  var active = 0;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-score-row]")); }
  function mark() {
    rows().forEach(function (row, i) { row.classList.toggle("active", i === active); });
  }
  function move(delta) {
    var n = rows().length;
    if (!n) { return; }
    active = Math.max(0, Math.min(n - 1, active + delta));
    mark();
  }
  function toggleHelp(force) {
    var help = document.getElementById("review-help");
    if (help) { help.classList.toggle("hidden", force === undefined ? undefined : !force); }
  }
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text"));
  }
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "review-card") { active = 0; mark(); }
  });
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-review-help]")) { toggleHelp(); }
    var row = e.target.closest("[data-score-row]");
    if (row) { active = rows().indexOf(row); mark(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var form = document.querySelector("[data-review-form]");
    if (typing(document.activeElement)) {
      if (e.key === "Escape") { document.activeElement.blur(); }
      return;
    }
    if (e.key === "?") { toggleHelp(); e.preventDefault(); return; }
    if (e.key === "Escape") { toggleHelp(false); return; }
    if (!form) { return; }
    var k = e.key;
    if (k >= "1" && k <= "5") {
      var row = rows()[active];
      var input = row && row.querySelector('input[value="' + k + '"]');
      if (input) { input.checked = true; move(1); }
      e.preventDefault();
    } else if (k === "j" || k === "ArrowDown") { move(1); e.preventDefault(); }
    else if (k === "k" || k === "ArrowUp") { move(-1); e.preventDefault(); }
    else if (k === "l" || k === "r" || k === "t" || k === "b") {
      var pref = form.querySelector('input[name="preference"][data-key="' + k + '"]');
      if (pref) { pref.checked = true; }
      e.preventDefault();
    } else if (k === "c") { var c = form.querySelector("[data-review-comment]"); if (c) { c.focus(); } e.preventDefault(); }
    else if (k === "s") { var s = form.querySelector("[data-review-skip]"); if (s) { s.click(); } e.preventDefault(); }
    else if (k === "Enter") { form.requestSubmit(); e.preventDefault(); }
  });
})();
