// Progressive auto-refresh: a page that asks for it (<meta name="quarry-refresh">) reloads
// every N seconds while visible, unless someone is typing in a form. Pages work without it.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="quarry-refresh"]');
  if (!meta) { return; }
  var seconds = parseInt(meta.getAttribute("content"), 10);
  if (!(seconds >= 2)) { return; }
  window.setInterval(function () {
    var active = document.activeElement;
    var typing = active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
    if (document.visibilityState === "visible" && !typing) { window.location.reload(); }
  }, seconds * 1000);
})();
