// After a failed submit the page opens on its error summary (templates/_form_errors.html):
// the summary has autofocus, and this makes sure of it where a browser ignores autofocus on
// an element that is not a form control. It never takes the focus from something the person
// has already moved to.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary[tabindex]");
  if (!summary) { return; }
  var active = document.activeElement;
  if (!active || active === document.body || active === document.documentElement) {
    summary.focus();
  }
})();
