// weft ui: live updates. The pages are complete without this script; it
// listens to /events (server-sent events tailing the state directory's
// event log) and, when an event concerns the page, fetches the page again
// and swaps <main id="live">, keeping which <details> are open.
(function () {
  "use strict";
  var body = document.body;
  var scope = body.getAttribute("data-live") || "none";
  if (scope === "none" || !window.EventSource || !window.fetch) return;
  var dot = document.getElementById("live-status");
  var since = body.getAttribute("data-offset") || "0";

  function concerns(ev) {
    if (scope === "all") return true;
    var parts = scope.split(":");
    if (parts[0] === "run") {
      return ev.run_id === parts[1] || (ev.kind || "").indexOf("worker_") === 0;
    }
    if (parts[0] === "worker") return ev.worker_id === parts[1] || ev.kind === "worker_started";
    return false;
  }

  var timer = null;
  var busy = false;
  function refresh() {
    timer = null;
    if (busy) { schedule(); return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Weft-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        busy = false;
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live");
        var live = document.getElementById("live");
        if (!fresh || !live) return;
        var open = {};
        live.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
        live.innerHTML = fresh.innerHTML;
        live.querySelectorAll("details[id]").forEach(function (d) {
          if (d.id in open) d.open = open[d.id];
        });
        body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { busy = false; });
  }
  function schedule() { if (!timer) timer = setTimeout(refresh, 150); }

  var source = new EventSource("/events?since=" + encodeURIComponent(since));
  source.addEventListener("open", function () { if (dot) dot.className = "on"; });
  source.addEventListener("error", function () { if (dot) dot.className = "off"; });
  source.addEventListener("weft", function (msg) {
    try { if (concerns(JSON.parse(msg.data))) schedule(); } catch (e) { /* not JSON: ignore */ }
  });
})();
