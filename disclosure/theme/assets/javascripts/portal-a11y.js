/* 大字 (large text) toggle and the print date. Our own code, no third-party script, no inline script:
   loaded from <head> so the large-text class is on <html> before the page is painted. */
(function () {
  "use strict";
  var KEY = "portal-bigtext";
  var root = document.documentElement;
  var stored = null;
  try { stored = window.localStorage.getItem(KEY); } catch (e) { /* storage blocked: the toggle still works per page */ }
  if (stored === "1") root.classList.add("portal-big");

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function stampPrintDate() {
    var d = new Date();
    var text = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    var spots = document.querySelectorAll("[data-portal-print-date]");
    for (var i = 0; i < spots.length; i++) spots[i].textContent = text;
  }

  function setup() {
    var buttons = document.querySelectorAll("[data-portal-bigtext]");
    function sync() {
      var on = root.classList.contains("portal-big");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].setAttribute("aria-pressed", on ? "true" : "false");
        buttons[i].textContent = on ? "标准字" : "大字";
        buttons[i].setAttribute("title", on ? "恢复标准字号" : "放大文字和行距");
      }
    }
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function () {
        var on = !root.classList.contains("portal-big");
        root.classList.toggle("portal-big", on);
        try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* ignore */ }
        sync();
      });
    }
    sync();
    stampPrintDate();
    markScrollers();
  }

  /* Tables that scroll sideways inside their frame must be reachable by keyboard (WCAG 2.1.1):
     Material wraps Markdown tables in .md-typeset__scrollwrap; give the ones that scroll a tab stop. */
  function markScrollers() {
    var frames = document.querySelectorAll(".md-typeset__scrollwrap, .portal-table-wrap");
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      if (f.scrollWidth > f.clientWidth + 1) {
        if (!f.hasAttribute("tabindex")) f.setAttribute("tabindex", "0");
        if (!f.hasAttribute("role")) { f.setAttribute("role", "region"); f.setAttribute("aria-label", "表格（可左右滚动）"); }
      }
    }
  }

  window.addEventListener("load", markScrollers);
  window.addEventListener("resize", markScrollers);
  window.addEventListener("beforeprint", stampPrintDate);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
