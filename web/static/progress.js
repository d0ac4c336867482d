// chancery-web: keeps a campaign page's delivery counts current.
// Reads div#progress[data-url] (the campaign's progress.json) every few
// seconds and updates progress#progress-bar, span#progress-text and the
// td#count-STATE cells; stops once the campaign is finished. No inline
// script: the page loads this file from /static/ (the CSP allows 'self').
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !box.dataset.url) return;
  var url = box.dataset.url;
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  var state = document.getElementById("campaign-state");
  var delay = 3000;

  function show(p) {
    if (bar) {
      bar.max = p.total > 0 ? p.total : 1;
      bar.value = p.settled;
    }
    if (text)
      text.textContent = p.settled + " of " + p.total + " settled (" +
        p.state + ")";
    if (state) state.textContent = p.state;
    var total = document.getElementById("count-total");
    if (total) total.textContent = String(p.total);
    Object.keys(p.deliveries || {}).forEach(function (k) {
      var cell = document.getElementById("count-" + k);
      if (cell) cell.textContent = String(p.deliveries[k]);
    });
    box.dataset.state = p.state;
    box.dataset.finished = p.finished ? "yes" : "no";
  }

  function poll() {
    fetch(url, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (p) {
        show(p);
        if (!p.finished) setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, delay * 3); });
  }
  poll();
})();
