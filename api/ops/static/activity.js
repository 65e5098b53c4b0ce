// The console's live activity list: the public /activity event stream, newest first.
// Text only (no HTML from the feed); the browser resumes with Last-Event-ID on reconnect.
"use strict";
(function () {
  var list = document.getElementById("activity");
  if (!list || !window.EventSource) {
    return;
  }
  var MAX_ITEMS = 50;

  function summary(event) {
    var text = event.action.replace(/_/g, " ") + " by " + event.actor;
    if (event.job) {
      text += " on job " + event.job;
    }
    var parts = [];
    Object.keys(event.details || {}).forEach(function (key) {
      parts.push(key.replace(/_/g, " ") + " " + event.details[key]);
    });
    return parts.length ? text + " (" + parts.join(", ") + ")" : text;
  }

  function add(event) {
    var item = document.createElement("li");
    item.dataset.seq = String(event.seq);
    item.dataset.action = event.action;
    var time = document.createElement("time");
    time.dateTime = event.at || "";
    time.textContent = (event.at || "").slice(11, 19);
    item.appendChild(time);
    item.appendChild(document.createTextNode(" " + summary(event)));
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_ITEMS) {
      list.removeChild(list.lastChild);
    }
  }

  var source = new EventSource(list.dataset.source);
  source.onmessage = function (message) {
    try {
      add(JSON.parse(message.data));
    } catch (ignored) {
      // a malformed event is skipped, the stream goes on
    }
  };
  source.onopen = function () {
    list.dataset.connected = "true";
  };
})();
