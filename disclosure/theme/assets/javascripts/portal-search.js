// Search page: Pagefind's JS API with the filters and date sort our record pages carry.
// Kept in a file (no inline script) so a strict Content-Security-Policy can allow it.
(function () {
  "use strict";
  var form = document.getElementById("portal-search");
  if (!form) return;
  var statusEl = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var input = document.getElementById("q");
  var sortSel = document.getElementById("sort");
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
  // import() resolves against this script's URL, so anchor the bundle path on the page instead.
  var base = new URL(form.getAttribute("data-pagefind-base") || "../pagefind/", window.location.href).href;
  var pagefind = null;
  var PAGE = 20;
  var moreBtn = el("button", { type: "button", "class": "md-button portal-more", hidden: "" }, "显示更多结果");
  list.parentNode.insertBefore(moreBtn, list.nextSibling);

  function setStatus(text) { statusEl.textContent = text; }

  function params() { return new URLSearchParams(window.location.search); }

  function readForm() {
    var filters = {};
    selects.forEach(function (s) { if (s.value) filters[s.getAttribute("data-filter")] = s.value; });
    return { q: input.value.trim(), filters: filters, sort: sortSel.value };
  }

  function writeUrl(state) {
    var p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    Object.keys(state.filters).forEach(function (k) { p.set("f." + k, state.filters[k]); });
    if (state.sort) p.set("sort", state.sort);
    var qs = p.toString();
    history.replaceState(null, "", qs ? "?" + qs : window.location.pathname);
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function fillFilters() {
    var available = await pagefind.filters();
    selects.forEach(function (s) {
      var name = s.getAttribute("data-filter");
      var values = available[name] || {};
      Object.keys(values).sort(function (a, b) {
        return name === "年份" ? b.localeCompare(a) : a.localeCompare(b, "zh-CN");
      }).forEach(function (v) {
        s.appendChild(el("option", { value: v }, v + "（" + values[v] + "）"));
      });
    });
  }

  // Chinese segmenters split an organ's full name differently at index and query time (Pagefind #1237),
  // so a query naming a publishing unit becomes the 发布机构 filter, which is exact.
  function unitAsFilter(state) {
    var unitSel = selects.filter(function (s) { return s.getAttribute("data-filter") === "发布机构"; })[0];
    if (!unitSel || state.filters["发布机构"]) return state;
    var names = Array.prototype.map.call(unitSel.options, function (o) { return o.value; }).filter(Boolean);
    names.sort(function (a, b) { return b.length - a.length; });
    for (var i = 0; i < names.length; i++) {
      if (state.q.indexOf(names[i]) !== -1) {
        state.filters["发布机构"] = names[i];
        state.q = state.q.replace(names[i], " ").trim();
        state.unitFromQuery = names[i];
        break;
      }
    }
    return state;
  }

  var latest = 0; // a newer search (typing, changing a filter) supersedes any still in flight

  async function run() {
    var token = ++latest;
    var state = readForm();
    writeUrl(state);
    list.innerHTML = "";
    if (!state.q && Object.keys(state.filters).length === 0) {
      setStatus("请输入关键词，或选择筛选条件。");
      return;
    }
    setStatus("正在搜索……");
    state = unitAsFilter(state);
    var opts = { filters: state.filters };
    if (state.sort) opts.sort = { date: state.sort };
    var search = await pagefind.search(state.q || null, opts);
    if (token !== latest) return;
    var shown = 0;
    async function more() {
      var batch = await Promise.all(search.results.slice(shown, shown + PAGE).map(function (r) { return r.data(); }));
      if (token !== latest) return;
      batch.forEach(render);
      shown += batch.length;
      moreBtn.hidden = shown >= search.results.length;
    }
    moreBtn.onclick = function () { more(); };
    await more();
    if (token !== latest) return;
    var n = search.results.length;
    var scope = state.unitFromQuery ? "（发布机构：" + state.unitFromQuery + "）" : "";
    setStatus(n === 0 ? "没有找到相关信息" + scope + "。可以换个关键词，或减少筛选条件。"
      : "找到 " + n + " 条相关信息" + scope + "。");
  }

  function render(d) {
    var li = el("li", { "class": "portal-result" });
    var h = el("h2", { "class": "portal-result__title" });
    h.appendChild(el("a", { href: d.url }, d.meta.title || d.url));
    li.appendChild(h);
    var facts = [];
    if (d.meta["发布日期"]) facts.push("发布日期：" + d.meta["发布日期"]);
    if (d.meta["文号"]) facts.push("文号：" + d.meta["文号"]);
    if (d.meta["发布机构"]) facts.push("发布机构：" + d.meta["发布机构"]);
    li.appendChild(el("p", { "class": "portal-result__meta" }, facts.join("　")));
    var ex = el("p", { "class": "portal-result__excerpt" });
    ex.innerHTML = d.excerpt; // Pagefind escapes the text and marks hits with <mark>
    li.appendChild(ex);
    list.appendChild(li);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  selects.concat([sortSel]).forEach(function (s) { s.addEventListener("change", function () { if (pagefind) run(); }); });

  (async function init() {
    try {
      pagefind = await import(base + "pagefind.js");
      await pagefind.options({ excerptLength: 40 });
      await pagefind.init();
      await fillFilters();
    } catch (err) {
      setStatus("搜索索引加载失败，请稍后再试，或通过信息目录浏览。");
      return;
    }
    var p = params();
    input.value = p.get("q") || "";
    selects.forEach(function (s) { var v = p.get("f." + s.getAttribute("data-filter")); if (v) s.value = v; });
    sortSel.value = p.get("sort") || "";
    form.setAttribute("data-ready", "true");
    if (input.value || selects.some(function (s) { return s.value; })) { run(); } else { setStatus("请输入关键词，或选择筛选条件。"); }
  })();
})();
