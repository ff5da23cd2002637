// Copy buttons (progressive enhancement): the text they copy is always shown as selectable
// text, so the page works without JavaScript; with it, the button appears and copies. What it
// says comes from the button's data-copied and data-selected (translated by the template).
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var status = button.parentNode.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () { if (status) { status.textContent = button.getAttribute("data-copied") || "Copied."; } };
      var fallback = function () {
        field.focus();
        field.select();
        if (status) { status.textContent = button.getAttribute("data-selected") || "Selected: press Ctrl+C (or Cmd+C) to copy."; }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
}());
