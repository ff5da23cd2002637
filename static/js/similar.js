// Progressive enhancement: while a resident types their request, show public requests that
// look similar. The page works without this script (the search box above the form).
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  var results = document.getElementById("similar-results");
  if (!form || !results || !window.fetch) { return; }
  var url = form.getAttribute("data-similar-url");
  var fields = [document.getElementById("id_title"), document.getElementById("id_description")];
  var timer = null;
  var last = "";
  function lookUp() {
    var text = fields.map(function (f) { return f ? f.value : ""; }).join(" ").trim();
    if (text.length < 3 || text === last) { return; }
    last = text;
    fetch(url + "?q=" + encodeURIComponent(text.slice(0, 200)), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (html) { results.innerHTML = html; } })
      .catch(function () { /* the no-script search box still works */ });
  }
  fields.forEach(function (field) {
    if (!field) { return; }
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookUp, 400);
    });
  });
})();
