// The console's own script: live countdowns on the board and incident pages.
// Each .countdown carries its deadline and the server's time when the page was made
// (data-deadline, data-now, epoch ms), so the count follows the server's clock, not the PC's.
(function () {
  "use strict";
  function two(n) { return n < 10 ? "0" + n : "" + n; }
  function span(ms) {
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    if (d > 0) { return d + "天" + h + "小时"; }
    if (h > 0) { return h + ":" + two(m) + ":" + two(s % 60); }
    return two(m) + ":" + two(s % 60);
  }
  function tick() {
    var els = document.querySelectorAll(".countdown[data-deadline]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.dataset.loaded) {
        el.dataset.loaded = String(Date.now());
        el.dataset.kind = el.textContent.trim();
      }
      var serverNow = Number(el.dataset.now) + (Date.now() - Number(el.dataset.loaded));
      var left = Number(el.dataset.deadline) - serverNow;
      var kind = el.dataset.kind || "";
      if (left >= 0) {
        el.textContent = kind + " 剩余 " + span(left);
        el.classList.remove("late");
      } else {
        el.textContent = kind + " 超时 " + span(-left);
        el.classList.add("late");
      }
    }
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
