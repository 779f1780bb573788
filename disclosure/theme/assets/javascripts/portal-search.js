// Search page: our analysis (portal-analysis.js) asks Pagefind's JS API; see disclosure/site/search.py.
// Kept in a file (no inline script) so a strict Content-Security-Policy can allow it.
//
// Every query word is one exact phrase of bigram tokens (all tokens at consecutive positions,
// nothing guessed: Pagefind's quoted search, or, to fetch fewer index chunks, every other bigram
// looked up alone and their positions checked here, phraseIds); words combine with AND. Results come in three tiers:
// the title, 文号 or 索引号 equals the query (checked on the few candidates' data), every word is
// in the title (the title fills each record's first TITLE_SPAN positions, so the position of a
// word's first match tells), the rest; within a tier newest first: exact searches return records in
// index order, and records are indexed newest first (one bundle: the shards are merged at build
// time, newest first). The token ｗ is on every record; its search orders filter-only and
// one-character (prefix, ranked) searches.
(function () {
  "use strict";
  var form = document.getElementById("portal-search");
  if (!form) return;
  var A = window.PortalAnalysis;
  var statusEl = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var applied = document.getElementById("search-applied");
  var input = document.getElementById("q");
  var sortSel = document.getElementById("sort");
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
  var unitSel = selects.filter(function (s) { return s.getAttribute("data-filter") === "发布机构"; })[0];
  // import() resolves against this script's URL, so anchor the bundle paths on the page instead.
  var base = new URL(form.getAttribute("data-pagefind-base") || "../pagefind/", window.location.href).href;
  var t2sUrl = new URL(form.getAttribute("data-t2s") || "../assets/javascripts/portal-t2s.json", window.location.href).href;
  var STATUS_CLASS = { "失效": "expired", "废止": "repealed", "已修改": "amended", "已撤回": "withdrawn" };
  var ALL = "\uff57"; // ｗ: on every record; its exact search lists every record in index order
  // results shown at once, and per 「显示更多结果」: each needs its fragment (~0.75 KB), and ten fill a
  // phone's screen twice at the large type elderly readers use
  var PAGE = 10;
  var EXACT_CANDIDATES = 30;
  var TITLE_SPAN = Number(form.getAttribute("data-title-span") || 96);
  var moreBtn = el("button", { type: "button", "class": "md-button portal-more", hidden: "" }, "显示更多结果");
  list.parentNode.insertBefore(moreBtn, list.nextSibling);

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function setStatus(text) { statusEl.textContent = text; }

  // ------------------------------------------------------------------ state <-> form <-> URL
  function readForm() {
    var filters = {};
    selects.forEach(function (s) { if (s.value) filters[s.getAttribute("data-filter")] = s.value; });
    return { q: input.value.trim(), filters: filters, sort: sortSel.value };
  }
  function stateToQuery(state) {
    var p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    Object.keys(state.filters).forEach(function (k) { p.set("f." + k, state.filters[k]); });
    if (state.sort) p.set("sort", state.sort);
    var qs = p.toString();
    return qs ? "?" + qs : window.location.pathname;
  }
  function fillForm(p) {
    input.value = p.get("q") || "";
    selects.forEach(function (s) {
      var v = p.get("f." + s.getAttribute("data-filter")) || "";
      if (v && !Array.prototype.some.call(s.options, function (o) { return o.value === v; })) v = "";
      s.value = v;
    });
    sortSel.value = p.get("sort") || "";
  }

  // ------------------------------------------------------------------ loading
  // The traditional → simplified table is fetched only when a query or a result may need it.
  var t2sKeys = null;
  if (form.getAttribute("data-t2s-bits")) {
    var raw = atob(form.getAttribute("data-t2s-bits")), bits = new Uint8Array(raw.length);
    for (var b = 0; b < raw.length; b++) bits[b] = raw.charCodeAt(b);
    t2sKeys = { start: Number(form.getAttribute("data-t2s-start")), bits: bits, extra: form.getAttribute("data-t2s-extra") || "" };
  }
  var tableLoad = null;
  function needTable(text) {
    if (!text || !A.mayFold(text, t2sKeys)) return tableLoad || Promise.resolve();
    if (!tableLoad) {
      tableLoad = fetch(t2sUrl).then(function (r) {
        if (!r.ok) throw new Error("t2s " + r.status);
        return r.json();
      }).then(function (t) { A.setTable(t); });
      tableLoad.catch(function () { tableLoad = null; });
    }
    return tableLoad;
  }

  var pagefind = null;
  var ready = (async function load() {
    var pf = await import(base + "pagefind.js");
    // Pagefind 1.5 splits Chinese queries with Intl.Segmenter when <html lang> is Chinese; our
    // queries are already analysed, so the instance is created as language "und" (the index's).
    var html = document.documentElement, lang = html.getAttribute("lang");
    html.setAttribute("lang", "und");
    // Searched on this thread: Pagefind's web worker is a second copy of its search code (~12 KB of
    // the ~180 KB a first query downloads), and a search here takes milliseconds (its chunks are
    // small; benchmarks/search.py download prints the time).
    await pf.options({ noWorker: true });
    var init;
    try { init = pf.init(); } finally { if (lang === null) html.removeAttribute("lang"); else html.setAttribute("lang", lang); }
    await init;
    pagefind = pf;
  })();
  ready.catch(function () {});

  // ------------------------------------------------------------------ searching
  var orderCache = null; // id -> rank (0 = newest), from the exact search for ALL
  async function order() {
    if (!orderCache) {
      var res = await pagefind.search('"' + ALL + '"', {});
      orderCache = new Map();
      res.results.forEach(function (r, i) { orderCache.set(r.id, i); });
    }
    return orderCache;
  }
  async function ids(term, filters) {
    var res = await pagefind.search(term, { filters: filters });
    var m = new Map();
    res.results.forEach(function (r) { m.set(r.id, r); });
    return m;
  }

  // A phrase's pages, as id -> {id, words (the phrase's start positions), data}. For an all-Chinese
  // word only the bigrams at phrase.lookups are asked for (every other one: each index chunk
  // fetched is ~8 KB; analysis.py query_phrases says why it is exact), each with Pagefind's plain
  // search, which lists every position of a word; the quoted search of the first one (same chunk)
  // gives the pages in index order. A page has the word where they sit at those offsets from one start.
  async function phraseIds(phrase, filters) {
    var keys = phrase.lookups;
    if (!keys || keys.length === phrase.tokens.length) return ids(A.pagefindQuery(phrase), filters);
    var found = await Promise.all([ids('"' + phrase.tokens[keys[0]] + '"', filters)].concat(
      keys.map(function (k) { return ids(phrase.tokens[k], filters); })));
    var inOrder = found[0], sets = found.slice(1);
    var out = new Map();
    inOrder.forEach(function (r, id) {
      if (!sets.every(function (m) { return m.has(id); })) return;
      var at = sets.map(function (m) { return new Set(m.get(id).words || []); });
      var starts = Array.from(at[0]).sort(function (a, b) { return a - b; }).filter(function (start) {
        return keys.every(function (k, j) { return at[j].has(start + k - keys[0]); });
      });
      if (starts.length) out.set(id, { id: id, words: starts, data: function () { return r.data(); } });
    });
    return out;
  }

  function inTitle(r) { return r.words && r.words.length > 0 && Math.min.apply(null, r.words) < TITLE_SPAN; }

  // [result] in display order, each {id, r (Pagefind result), tier}
  async function find(state, phrases) {
    if (!phrases.length || (phrases.length === 1 && phrases[0].prefix)) {
      // filter-only, or a single character (a prefix search, ranked by Pagefind): order by the index
      var rank = await order();
      var found = phrases.length ? await ids(A.pagefindQuery(phrases[0]), state.filters)
                                 : await ids('"' + ALL + '"', state.filters);
      var rowsP = Array.from(found, function (kv) {
        return { id: kv[0], r: kv[1], tier: phrases.length && inTitle(kv[1]) ? 1 : 2 };
      });
      rowsP.sort(function (a, b) { return (state.sort ? 0 : a.tier - b.tier) || rank.get(a.id) - rank.get(b.id); });
      if (state.sort === "asc") rowsP.reverse();
      return rowsP;
    }
    // exact phrase searches return records in index order: newest first (see the file's header)
    var sets = await Promise.all(phrases.map(function (p) { return phraseIds(p, state.filters); }));
    var rows = [];
    sets[0].forEach(function (r, id) {
      if (!sets.every(function (m) { return m.has(id); })) return;
      var title = sets.every(function (m) { return inTitle(m.get(id)); });
      rows.push({ id: id, r: r, tier: title ? 1 : 2 });
    });
    // exact title / 文号 / 索引号: among few candidates only (a broad query is no title or number)
    var key = A.exactKey(state.q);
    var candidates = rows.filter(function (row) { return row.tier === 1 || rows.length <= EXACT_CANDIDATES; });
    if (key.length >= 2 && candidates.length <= EXACT_CANDIDATES) {
      var data = await Promise.all(candidates.map(function (row) { return row.r.data(); }));
      await needTable(data.map(function (d) { return value(d, "标题") + value(d, "文号") + value(d, "索引号"); }).join(""));
      data.forEach(function (d, i) {
        if (["标题", "文号", "索引号"].some(function (k) { var v = value(d, k); return v && A.exactKey(v) === key; })) {
          candidates[i].tier = 0;
        }
      });
    }
    if (!state.sort) rows.sort(function (a, b) { return a.tier - b.tier; }); // stable: newest first within a tier
    if (state.sort === "asc") rows.reverse();
    return rows;
  }

  var latest = 0; // a newer search supersedes any still in flight
  var current = null; // {rows, shown, token, phrases, loading}

  function unitInQuery(state) {
    if (!unitSel || state.filters["发布机构"]) return "";
    var q = A.exactKey(state.q), best = "";
    Array.prototype.forEach.call(unitSel.options, function (o) {
      var k = o.value && A.exactKey(o.value);
      if (k && q.indexOf(k) !== -1 && o.value.length > best.length) best = o.value;
    });
    return best;
  }

  function showApplied(state) {
    applied.textContent = "";
    var unit = state.filters["发布机构"];
    if (unit) {
      applied.appendChild(el("span", {}, "已按发布机构筛选：" + unit + " "));
      var rm = el("button", { type: "button", "class": "md-button portal-chip" }, "取消此筛选");
      rm.addEventListener("click", function () { unitSel.value = ""; submit(); });
      applied.appendChild(rm);
    } else {
      var found = unitInQuery(state);
      if (found) {
        var add = el("button", { type: "button", "class": "md-button portal-chip" }, "只看“" + found + "”发布的信息");
        add.addEventListener("click", function () { unitSel.value = found; submit(); unitSel.focus(); });
        applied.appendChild(add);
      }
    }
    applied.hidden = !applied.firstChild;
  }

  async function run(push) {
    var token = ++latest;
    var state = readForm();
    if (push) {
      var url = stateToQuery(state);
      if (url !== window.location.search && !(url === window.location.pathname && !window.location.search)) {
        history.pushState(null, "", url);
      }
    }
    list.textContent = "";
    moreBtn.hidden = true;
    current = null;
    showApplied(state);
    var phrases = A ? A.queryPhrases(state.q) : [];
    if (!state.q && Object.keys(state.filters).length === 0) {
      setStatus("请输入关键词，或选择筛选条件。");
      return;
    }
    if (state.q && !phrases.length && Object.keys(state.filters).length === 0) {
      setStatus("请输入汉字、字母或数字。");
      return;
    }
    setStatus("正在搜索……");
    try {
      await ready;
      await needTable(state.q);
    } catch (err) {
      if (token === latest) setStatus("搜索索引加载失败，请稍后再试，或通过信息目录浏览。");
      return;
    }
    if (token !== latest) return;
    phrases = A.queryPhrases(state.q); // with the traditional → simplified table loaded
    var rows;
    try {
      rows = await find(state, phrases);
    } catch (err) {
      if (token === latest) setStatus("搜索出错，请稍后再试。");
      return;
    }
    if (token !== latest) return;
    current = { rows: rows, shown: 0, token: token, phrases: phrases, loading: false };
    await more(false);
    if (token !== latest) return;
    var n = rows.length;
    var filtersNote = Object.keys(state.filters).length ? "（已筛选）" : "";
    setStatus(n === 0
      ? (state.q ? "没有找到包含“" + state.q + "”的信息" + filtersNote + "。可以换个关键词，或减少筛选条件。"
                 : "没有符合筛选条件的信息。")
      : "找到 " + n + " 条相关信息" + filtersNote + "。");
  }

  async function more(moveFocus) {
    var c = current;
    if (!c || c.loading || c.shown >= c.rows.length) return;
    c.loading = true;
    moreBtn.disabled = true;
    try {
      var slice = c.rows.slice(c.shown, c.shown + PAGE);
      var batch = await Promise.all(slice.map(function (row) { return row.r.data(); }));
      var sources = await Promise.all(batch.map(function (d, i) { return excerptSource(d, slice[i]); }));
      // the marks fold the results' text too
      await needTable(batch.map(function (d, i) { return value(d, "标题") + sources[i].text; }).join(""));
      if (c !== current) return;
      var first = null;
      batch.forEach(function (d, i) {
        var li = render(d, slice[i], c.phrases, sources[i]);
        first = first || li;
      });
      c.shown += batch.length;
      moreBtn.hidden = c.shown >= c.rows.length;
      if (moveFocus && first) first.querySelector("a").focus();
    } finally {
      c.loading = false;
      moreBtn.disabled = false;
    }
  }

  function value(d, key) {
    var v = d.filters && d.filters[key];
    return v && v.length ? v[0] : "";
  }

  // The excerpt's text: the body's first block (正文), or, when the first match in the body lies in
  // a later block of a long body (正文块: [start, end, file] token spans, search.py body_blocks),
  // that one block, fetched once. Any failure falls back to the first block.
  var blocks = {};
  function block(name) {
    if (!blocks[name]) {
      blocks[name] = fetch(base + "text/" + name + ".json").then(function (r) {
        if (!r.ok) throw new Error("text " + r.status);
        return r.json();
      });
      blocks[name].catch(function () { delete blocks[name]; });
    }
    return blocks[name];
  }
  async function excerptSource(d, row) {
    var first = { text: value(d, "正文"), mid: false };
    var table = value(d, "正文块"), words = row.r.words || [];
    if (!table || !words.length) return first;
    var spans;
    try { spans = JSON.parse(table); } catch (err) { return first; }
    var at = words.reduce(function (m, w) { return w >= spans[0][0] && (m < 0 || w < m) ? w : m; }, -1);
    for (var i = 1; i < spans.length && at >= 0; i++) {
      if (at >= spans[i][0] && at < spans[i][1]) {
        try {
          var text = await block(spans[i][2]);
          return typeof text === "string" ? { text: text, mid: true } : first;
        } catch (err) { return first; }
      }
    }
    return first;
  }

  // text with the spans [[start, end]] (code points) marked; textContent only, never innerHTML
  function marked(parent, text, spans) {
    var chars = Array.from(text), pos = 0;
    spans.forEach(function (s) {
      if (s[0] > pos) parent.appendChild(document.createTextNode(chars.slice(pos, s[0]).join("")));
      parent.appendChild(el("mark", {}, chars.slice(s[0], s[1]).join("")));
      pos = s[1];
    });
    if (pos < chars.length) parent.appendChild(document.createTextNode(chars.slice(pos).join("")));
  }

  function excerpt(body, phrases, mid) {
    var text = body.replace(/\s+/g, " ").trim();
    var chars = Array.from(text);
    var spans = A.matches(text, phrases);
    var start = 0;
    if (spans.length) start = Math.max(0, spans[0][0] - 30);
    var end = Math.min(chars.length, start + 110);
    var inside = spans.filter(function (s) { return s[0] >= start && s[1] <= end; })
      .map(function (s) { return [s[0] - start, s[1] - start]; });
    var lead = start > 0 || mid; // a later block starts mid-document
    return { text: (lead ? "……" : "") + chars.slice(start, end).join("") + (end < chars.length ? "……" : ""),
             spans: inside.map(function (s) { return lead ? [s[0] + 2, s[1] + 2] : s; }) };
  }

  function render(d, row, phrases, source) {
    var li = el("li", { "class": "portal-result" });
    var h = el("h2", { "class": "portal-result__title" });
    var a = el("a", { href: new URL(d.url.replace(/^\//, ""), base.replace(/pagefind\/$/, "")).href });
    var title = value(d, "标题") || d.url;
    marked(a, title, A.matches(title, phrases));
    h.appendChild(a);
    li.appendChild(h);
    var tags = el("p", { "class": "portal-result__tags" });
    var type = value(d, "类型");
    if (type) tags.appendChild(el("span", { "class": "portal-result__type" }, type));
    var st = value(d, "有效性");
    if (st) {
      tags.appendChild(document.createTextNode(" "));
      tags.appendChild(el("span", { "class": "portal-status portal-status--" + (STATUS_CLASS[st] || "valid") }, st));
    }
    if (row.tier === 0) {
      tags.appendChild(document.createTextNode(" "));
      tags.appendChild(el("span", { "class": "portal-result__exact" }, "完全匹配"));
    }
    li.appendChild(tags);
    var facts = [];
    if (value(d, "发布机构")) facts.push("发布机构：" + value(d, "发布机构"));
    if (value(d, "发布日期")) facts.push("发布日期：" + value(d, "发布日期"));
    if (value(d, "文号")) facts.push("文号：" + value(d, "文号"));
    li.appendChild(el("p", { "class": "portal-result__meta" }, facts.join("　")));
    var body = source ? source.text : value(d, "正文");
    if (body) {
      var ex = excerpt(body, phrases, source && source.mid);
      var p = el("p", { "class": "portal-result__excerpt" });
      marked(p, ex.text, ex.spans);
      li.appendChild(p);
    }
    list.appendChild(li);
    return li;
  }

  function submit() { run(true); }

  // Programmatic access to the same search (tests and diagnostics): every result, in display order.
  window.PortalSearch = {
    ready: ready,
    query: async function (q, filters, sort) {
      await ready;
      await needTable(q || "");
      var state = { q: (q || "").trim(), filters: filters || {}, sort: sort || "" };
      var rows = await find(state, A.queryPhrases(state.q));
      var data = await Promise.all(rows.map(function (row) { return row.r.data(); }));
      return data.map(function (d, i) { return { url: d.url, tier: rows[i].tier, title: value(d, "标题") }; });
    },
  };

  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  selects.concat([sortSel]).forEach(function (s) { s.addEventListener("change", submit); });
  moreBtn.addEventListener("click", function () { more(true); });
  window.addEventListener("popstate", function () { fillForm(new URLSearchParams(window.location.search)); run(false); });

  // The URL's query fills the form now, before the index loads, so nothing typed later is overwritten.
  var initial = new URLSearchParams(window.location.search);
  fillForm(initial);
  if (input.value || selects.some(function (s) { return s.value; })) {
    run(false);
  } else {
    setStatus("正在加载搜索索引……");
    ready.then(function () {
      if (latest === 0) setStatus("请输入关键词，或选择筛选条件。");
    }, function () {
      if (latest === 0) setStatus("搜索索引加载失败，请稍后再试，或通过信息目录浏览。");
    });
  }
  ready.then(function () { form.setAttribute("data-ready", "true"); }, function () {});
})();
