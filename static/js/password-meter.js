// Progressive enhancement: a rough strength meter under password fields. Only a hint while
// typing: the server's validators (accounts/passwords.py) decide, and also check names and
// breached passwords, which this script cannot know. The plain-text rules work without it.
(function () {
  "use strict";
  var MIN_LENGTH = 12;
  var SLACK = 2; // like the server, a couple of characters tacked on don't hide a pattern
  var SEQUENCES = ["abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm"];
  // English unless the page gives its own words (data-label, data-levels: "a|b|c|d").
  var LABEL = "Strength:";
  var LEVELS = ["Too short", "Weak", "Fair", "Strong"];

  function periodic(text) {
    for (var p = 1; p <= text.length / 2; p++) {
      if (text.slice(p) === text.slice(0, text.length - p)) { return true; }
    }
    return false;
  }

  function run(text) {
    return SEQUENCES.some(function (seq) {
      return [1, seq.length - 1].some(function (step) { // forwards, or backwards round the cycle
        for (var i = 1; i < text.length; i++) {
          var at = seq.indexOf(text[i - 1]);
          if (at < 0 || seq[(at + step) % seq.length] !== text[i]) { return false; }
        }
        return true;
      });
    });
  }

  function repetitive(password) {
    var text = password.toLowerCase();
    for (var dropped = 0; dropped <= SLACK; dropped++) {
      for (var head = 0; head <= dropped; head++) {
        var core = text.slice(head, text.length - (dropped - head));
        if (core.length >= 3 && (periodic(core) || run(core))) { return true; }
      }
    }
    return false;
  }

  function score(password) {
    if (password.length < MIN_LENGTH) { return 0; }
    if (repetitive(password)) { return 1; }
    var kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter(function (re) {
      return re.test(password);
    }).length;
    var distinct = new Set(password.toLowerCase()).size;
    var points = 1 + (password.length >= 16 ? 1 : 0) + (password.length >= 20 ? 1 : 0);
    points += kinds >= 3 || password.trim().split(/\s+/).length >= 4 ? 1 : 0;
    return distinct < 6 ? 1 : Math.min(points, 4);
  }

  function attach(container) {
    var input = document.getElementById(container.getAttribute("data-password-meter-for"));
    if (!input || container.getAttribute("data-ready")) { return; }
    container.setAttribute("data-ready", "1");
    var label = container.getAttribute("data-label") || LABEL;
    var levels = (container.getAttribute("data-levels") || "").split("|");
    if (levels.length !== LEVELS.length) { levels = LEVELS; }
    var word = document.createElement("span");
    var meter = document.createElement("meter");
    meter.min = 0; meter.max = 4; meter.low = 1.5; meter.high = 2.5; meter.optimum = 4;
    meter.setAttribute("aria-hidden", "true"); // the word says it; the bar only repeats it
    container.append(word, " ", meter);
    container.hidden = false;
    input.addEventListener("input", function () {
      var value = input.value ? score(input.value) : 0;
      var text = input.value ? label + " " + levels[Math.min(value, levels.length - 1)] : "";
      meter.value = value;
      if (word.textContent !== text) { word.textContent = text; } // announce changes only
    });
  }

  document.querySelectorAll("[data-password-meter-for]").forEach(attach);
})();
