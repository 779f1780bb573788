/* Live reload for `disclosure serve` (never part of a built site: the preview server adds it to the
 * HTML it serves). Listens to /.portal-serve/events (Server-Sent Events) and reloads this page when a
 * rebuild wrote it, wrote a stylesheet or script, or went from failed to built (or back), and when
 * the page is older than the server's last build. EventSource reconnects by itself after a restart. */
(function () {
  "use strict";
  var script = document.currentScript;
  var params = new URL(script ? script.src : location.href, location.href).searchParams;
  var loaded = Number(params.get("g") || "0");
  var server = null;
  var failed = document.documentElement.hasAttribute("data-portal-serve-error");
  var building = document.documentElement.hasAttribute("data-portal-serve-building");
  var here = decodeURIComponent(location.pathname).replace(/index\.html$/, "");

  function reload() {
    source.close();
    location.reload();
  }

  var source = new EventSource("/.portal-serve/events");
  // the first build writes pages as it goes: a page not written yet asks again every 3 seconds
  if (building) setTimeout(reload, 3000);
  source.addEventListener("hello", function (event) {
    var state = JSON.parse(event.data);
    if (server !== null && state.server !== server) return reload(); // the server was restarted
    server = state.server;
    document.documentElement.setAttribute("data-portal-serve", "live"); // connected (tests wait for it)
    if (state.generation !== loaded && state.ok !== null) return reload(); // a build finished since this page was served
  });
  source.addEventListener("build", function (event) {
    var state = JSON.parse(event.data);
    loaded = state.generation;
    if (building || failed || !state.ok || state.all || state.assets) return reload();
    if (state.written.indexOf(here) !== -1) return reload();
  });
})();
