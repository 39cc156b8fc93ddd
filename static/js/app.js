// Site-wide behaviour. No inline scripts anywhere (the CSP forbids them): pages opt in with data- attributes.
(function () {
  "use strict";
  // Elements with data-confirm ask before submitting.
  document.addEventListener("submit", function (event) {
    var msg = event.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { event.preventDefault(); }
  }, true);
})();
