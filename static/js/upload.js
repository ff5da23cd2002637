// Progressive enhancement of the upload page (templates/documents/upload.html). Each chosen
// file is sent in parts over the resumable protocol of documents/upload/views.py: start,
// PUT the parts in order, complete. Progress is shown per file, from the first moment (its
// total size) and within each part as its bytes leave (XMLHttpRequest's upload progress,
// which fetch does not report); a part that fails because
// the connection dropped or the file store is briefly unavailable is sent again after a
// growing wait (the server accepts the same part twice); after a reload, choosing the same
// file again resumes where the server stopped. Without this script (or without
// data-upload-api on the form) the form posts the files itself.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.Promise || !window.Blob ||
      !Blob.prototype.slice) {
    return;
  }
  var api = form.getAttribute("data-upload-api");
  var input = form.querySelector('input[type="file"]');
  var section = document.getElementById("upload-progress");
  var list = document.getElementById("upload-progress-list");
  var done = document.getElementById("upload-progress-done");
  if (!api || !input || !section || !list || !done) { return; }
  var csrf = form.getAttribute("data-csrf");
  var KB = 1024;
  var MB = 1024 * 1024;
  var RETRIES = 8;
  var STORED = "Stored. It is checked for viruses and personal data before anyone else can see it.";
  var queue = Promise.resolve();
  var pending = 0;

  // "0 MB of 23.4 MB", "120 KB of 340 KB": both amounts in the unit that suits the total.
  function amount(bytes, total) {
    if (total < MB) { return Math.round(bytes / KB) + " KB"; }
    var mb = bytes / MB;
    return (total < 10 * MB ? Math.round(mb * 10) / 10 : Math.round(mb)) + " MB";
  }
  function sentOf(bytes, total) {
    return amount(bytes, total) + " of " + amount(total, total);
  }

  function wait(seconds) {
    return new Promise(function (resolve) { setTimeout(resolve, seconds * 1000); });
  }

  function Failure(message, retry) {
    this.message = message;
    this.retry = retry;
  }

  // One call of the protocol: JSON back, or a Failure saying whether trying again may help.
  // ``sending(bytes)``, when given, hears how much of the body has left so far.
  function call(method, url, body, sending) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open(method, url);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", csrf);
      if (body instanceof Blob) { request.setRequestHeader("Content-Type", "application/octet-stream"); }
      if (sending && request.upload) {
        request.upload.addEventListener("progress", function (event) { sending(event.loaded); });
      }
      request.onload = function () {
        var data = {};
        try { data = JSON.parse(request.responseText) || {}; } catch (ignored) { data = {}; }
        var status = request.status;
        if (status >= 200 && status < 300) { resolve(data); return; }
        if (status === 404) {
          reject(new Failure("This upload is no longer open. Choose the file again.", false));
          return;
        }
        var retry = status === 502 || status === 503 || status === 504;
        reject(new Failure(data.error || "The file could not be sent (error " + status + ").", retry));
      };
      request.onerror = request.onabort = request.ontimeout = function () {
        reject(new Failure("The connection was lost.", true));
      };
      request.send(body === undefined ? null : body);
    });
  }

  function withRetries(attempt, row) {
    var tries = 0;
    function go() {
      return attempt().catch(function (failure) {
        if (!(failure instanceof Failure) || !failure.retry || tries >= RETRIES || row.cancelled) {
          throw failure;
        }
        tries += 1;
        var seconds = Math.min(30, Math.pow(2, tries - 1));
        row.say(failure.message + " Trying again in " + seconds + (seconds === 1 ? " second." : " seconds."));
        return wait(seconds).then(go);
      });
    }
    return go();
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function makeRow(file) {
    var item = make("li", "upload-item");
    var name = make("strong", "", file.name);
    var bar = make("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", "Progress of " + file.name);
    // The amount sent changes many times a second: screen readers hear it from the bar when
    // they ask (aria-valuetext), not from the live list around it at every change.
    var sent = make("span", "upload-amount", sentOf(0, file.size));
    sent.setAttribute("aria-hidden", "true");
    bar.setAttribute("aria-valuetext", sent.textContent);
    var text = make("span", "upload-text", "Waiting to send " + amount(file.size, file.size) + ".");
    var shown = 0;
    var cancel = make("button", "link-button", "Cancel");
    cancel.type = "button";
    cancel.appendChild(make("span", "visually-hidden", " " + file.name));
    [name, bar, sent, text, document.createTextNode(" "), cancel].forEach(function (node) {
      item.appendChild(node);
    });
    list.appendChild(item);
    var row = {
      cancelled: false,
      say: function (message) {
        if (text.textContent !== message) { text.textContent = message; }
      },
      // Never backwards: a part sent again after a lost connection starts where it was.
      progress: function (received) {
        shown = Math.max(shown, Math.min(received, file.size));
        bar.value = shown;
        sent.textContent = sentOf(shown, file.size);
        bar.setAttribute("aria-valuetext", sent.textContent);
      },
      finish: function (ok, message, url, shownName) {
        item.className = "upload-item " + (ok ? "upload-ok" : "upload-refused");
        item.removeChild(bar);
        item.removeChild(sent);
        item.removeChild(cancel);
        if (url) {
          var link = document.createElement("a");
          link.href = url;
          link.textContent = shownName || file.name;
          name.textContent = "";
          name.appendChild(link);
        }
        text.textContent = ": " + (ok ? message : "not stored. " + message);
      }
    };
    cancel.addEventListener("click", function () {
      row.cancelled = true;
      cancel.disabled = true;
      row.say("Cancelling.");
    });
    return row;
  }

  // After a reload, the same file (name, size, date) picks up its unfinished upload.
  function memoryKey(file) {
    return "upload:" + api + ":" + file.name + ":" + file.size + ":" + file.lastModified;
  }
  function remember(file, id) {
    try {
      if (id) { sessionStorage.setItem(memoryKey(file), id); } else { sessionStorage.removeItem(memoryKey(file)); }
    } catch (ignored) { /* private browsing: no resuming after a reload */ }
  }
  function recalled(file) {
    var id = null;
    try { id = sessionStorage.getItem(memoryKey(file)); } catch (ignored) { id = null; }
    if (!id) { return Promise.resolve(null); }
    return call("GET", api + id + "/").then(function (status) {
      return status.size === file.size ? status : null;
    }, function () { remember(file, null); return null; });
  }

  function start(file, row) {
    return recalled(file).then(function (status) {
      if (status) { return status; }
      var body = new FormData();
      body.append("filename", file.name);
      body.append("size", String(file.size));
      return withRetries(function () { return call("POST", api, body); }, row).then(function (created) {
        remember(file, created.id);
        return created;
      });
    });
  }

  function sendParts(file, status, row) {
    var id = status.id;
    var size = status.chunk_size;
    function next(received) {
      row.progress(received);
      if (received < file.size && !row.cancelled) { row.say("Sending."); }
      if (row.cancelled) {
        remember(file, null);
        return call("POST", api + id + "/cancel/").then(function () {
          throw new Failure("Cancelled.", false);
        });
      }
      if (received >= file.size) { return id; }
      var index = Math.floor(received / size);
      var part = file.slice(index * size, Math.min(file.size, (index + 1) * size));
      return withRetries(function () {
        return call("PUT", api + id + "/chunks/" + index, part, function (bytes) {
          row.progress(index * size + bytes);
        });
      }, row).then(function (answer) { return next(answer.received); });
    }
    return next(status.received);
  }

  function upload(file, row) {
    return start(file, row)
      .then(function (status) { return sendParts(file, status, row); })
      .then(function (id) {
        row.say("Finishing.");
        return withRetries(function () { return call("POST", api + id + "/complete/"); }, row);
      })
      .then(function (result) {
        remember(file, null);
        row.finish(true, STORED, result.url || result.redirect, result.filename);
      }, function (failure) {
        var message = (failure && failure.message) || "The file could not be sent.";
        if (failure && failure.retry) {
          message += " Choose the same file again to go on from where it stopped.";
        } else {
          remember(file, null);
        }
        row.finish(false, message);
      });
  }

  form.addEventListener("submit", function (event) {
    if (!input.files || !input.files.length) { return; } // the server says what is missing
    event.preventDefault();
    var files = Array.prototype.slice.call(input.files);
    input.value = "";
    section.hidden = false;
    done.hidden = true;
    files.forEach(function (file) {
      var row = makeRow(file);
      pending += 1;
      queue = queue.then(function () { return upload(file, row); }).then(function () {
        pending -= 1;
        if (!pending) { done.hidden = false; }
      });
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (pending) { event.preventDefault(); event.returnValue = ""; }
  });
})();
