// usagepipe console: refreshes the live parts of a page (elements with data-fragment) every few seconds
// while the tab is visible, by asking the same URL for that fragment only. Pages are complete without it.
(function () {
  "use strict";
  var every = Number(document.body.getAttribute("data-refresh") || 0);
  if (!every) { return; }
  var live = document.getElementById("live");
  var busy = false, stopped = false;

  function mark(state) { if (live) { live.setAttribute("data-state", state); } }

  function swap(el, html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    var fresh = t.content.firstElementChild;
    if (fresh && fresh.getAttribute("data-fragment") === el.getAttribute("data-fragment")) {
      el.replaceWith(fresh);
    }
  }

  // A part the operator has changed (a ticked letter) is not refreshed any more: a reload shows it anew.
  document.addEventListener("change", function (e) {
    var part = e.target.closest && e.target.closest("[data-fragment]");
    if (part) { part.setAttribute("data-touched", "true"); }
  });

  function one(el) {
    var a = document.activeElement;
    if (a && a !== document.body && el.contains(a)) { return Promise.resolve(); } // the operator is using it
    if (el.hasAttribute("data-touched")) { return Promise.resolve(); }
    return fetch(location.pathname + location.search, {
      headers: { "X-Console-Fragment": el.getAttribute("data-fragment") },
      credentials: "same-origin", cache: "no-store"
    }).then(function (res) {
      if (res.status === 401 || res.status === 403) { stopped = true; mark("stopped"); return; }
      if (!res.ok) { throw new Error(String(res.status)); }
      return res.text().then(function (html) { swap(el, html); });
    });
  }

  function refresh() {
    if (busy || stopped || document.hidden) { return; }
    busy = true;
    var parts = Array.prototype.slice.call(document.querySelectorAll("[data-fragment]"));
    Promise.all(parts.map(one)).then(function () {
      if (!stopped) { mark("fresh"); document.body.setAttribute("data-refreshed", new Date().toISOString()); }
    }, function () { mark("stale"); }).then(function () { busy = false; });
  }

  setInterval(refresh, every * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
})();
