// Draw redaction boxes on page previews (progressive enhancement: without this script the
// box form is typed by hand, in percent of the page). Shows saved draft boxes too.
(function () {
  "use strict";
  var form = document.querySelector("#box-form form");
  function field(name) { return form && form.querySelector('[name="' + name + '"]'); }

  document.querySelectorAll(".redact-box").forEach(function (box) {
    var w = parseFloat(box.dataset.width), h = parseFloat(box.dataset.height);
    box.style.left = (100 * parseFloat(box.dataset.x0) / w) + "%";
    box.style.top = (100 * parseFloat(box.dataset.y0) / h) + "%";
    box.style.width = (100 * (parseFloat(box.dataset.x1) - parseFloat(box.dataset.x0)) / w) + "%";
    box.style.height = (100 * (parseFloat(box.dataset.y1) - parseFloat(box.dataset.y0)) / h) + "%";
  });

  document.querySelectorAll(".redact-page").forEach(function (figure) {
    var canvas = figure.querySelector(".redact-canvas");
    var start = null, outline = null;
    function percent(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: Math.max(0, Math.min(100, 100 * (event.clientX - rect.left) / rect.width)),
        y: Math.max(0, Math.min(100, 100 * (event.clientY - rect.top) / rect.height))
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      start = percent(event);
      outline = document.createElement("span");
      outline.className = "redact-box redact-drawing";
      canvas.appendChild(outline);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!start) { return; }
      var now = percent(event);
      outline.style.left = Math.min(start.x, now.x) + "%";
      outline.style.top = Math.min(start.y, now.y) + "%";
      outline.style.width = Math.abs(now.x - start.x) + "%";
      outline.style.height = Math.abs(now.y - start.y) + "%";
    });
    canvas.addEventListener("pointerup", function (event) {
      if (!start || !form) { start = null; return; }
      var now = percent(event);
      field("page").value = figure.dataset.page;
      field("left").value = Math.min(start.x, now.x).toFixed(2);
      field("top").value = Math.min(start.y, now.y).toFixed(2);
      field("width").value = Math.abs(now.x - start.x).toFixed(2);
      field("height").value = Math.abs(now.y - start.y).toFixed(2);
      start = null;
      form.closest("details").open = true;
      field("reason").focus();
    });
  });
})();
