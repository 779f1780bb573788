// The browser's copy of disclosure/site/analysis.py: the same folding, units and tokens, so what is
// asked is analysed exactly as what was indexed. tests/test_search.py runs both on the same strings
// and requires equal output. Keep the two files in step.
(function (root) {
  "use strict";
  var RUN_SEPARATOR = "\u00b7";
  var table = new Map();
  var SPACE = /^[\p{Zs}\p{Zl}\p{Zp}\t\n\v\f\r\x85]$/u;
  var CHAR_UNIT = /^[\p{L}\p{N}]$/u;

  function setTable(data) {
    table = new Map();
    var from = Array.from(data.from), to = Array.from(data.to);
    for (var i = 0; i < from.length; i++) table.set(from[i], to[i]);
  }

  // Whether text may hold a character of the traditional → simplified table, from a bitmap of the
  // table's keys (search_page.t2s_keys), so the table is fetched only for such a query or result.
  function mayFold(text, keys) {
    if (!keys) return true;
    for (var c of text.normalize("NFKC").toLowerCase()) {
      var cp = c.codePointAt(0), i = cp - keys.start;
      if (i >= 0 && i < keys.bits.length * 8 ? (keys.bits[i >> 3] >> (i & 7)) & 1 : keys.extra.indexOf(c) !== -1) return true;
    }
    return false;
  }

  function foldChar(ch) {
    var out = "";
    for (var c of ch.normalize("NFKC").toLowerCase()) out += table.has(c) ? table.get(c) : c;
    return out;
  }

  function fold(text) {
    var out = "";
    for (var c of text) out += foldChar(c);
    return out;
  }

  function isAsciiWord(c) { return (c >= "0" && c <= "9") || (c >= "a" && c <= "z"); }
  function isDigit(c) { return c >= "0" && c <= "9"; }

  // Units grouped in whitespace-separated runs; start/end are code-point offsets into `text`
  // (use Array.from(text) to slice the original characters).
  function runs(text) {
    var out = [], run = [], word = "", wstart = 0, wend = 0;
    var chars = Array.from(text);
    var folded = chars.map(foldChar);
    function flushWord() {
      if (word) { run.push({ text: word, kind: "w", start: wstart, end: wend }); word = ""; }
    }
    for (var i = 0; i < folded.length; i++) {
      var f = Array.from(folded[i]);
      for (var k = 0; k < f.length; k++) {
        var c = f[k];
        if (isAsciiWord(c)) {
          if (!word) wstart = i;
          word += c;
          wend = i + 1;
          continue;
        }
        if (c === "." && word && isDigit(word[word.length - 1])) {
          var nxt = "";
          if (k + 1 < f.length) nxt = f[k + 1];
          else {
            for (var j = i + 1; j < folded.length; j++) { if (folded[j]) { nxt = Array.from(folded[j])[0]; break; } }
          }
          if (isDigit(nxt)) { word += c; wend = i + 1; continue; }
        }
        flushWord();
        if (SPACE.test(c)) {
          if (run.length) { out.push(run); run = []; }
        } else if (c === "%") {
          run.push({ text: "%", kind: "w", start: i, end: i + 1 });
        } else if (CHAR_UNIT.test(c)) {
          run.push({ text: c, kind: "c", start: i, end: i + 1 });
        }
      }
    }
    flushWord();
    if (run.length) out.push(run);
    return out;
  }

  function runTokens(run, query) {
    var toks = [], n = run.length, i = 0;
    while (i < n) {
      var u = run[i];
      if (u.kind === "w") { toks.push(u.text); i++; continue; }
      var j = i;
      while (j < n && run[j].kind === "c") j++;
      var stretch = run.slice(i, j).map(function (x) { return x.text; });
      var afterWord = i > 0, beforeWord = j < n;
      if (stretch.length === 1) {
        toks.push(stretch[0]);
      } else {
        if (afterWord) toks.push(stretch[0]);
        for (var k = 0; k + 1 < stretch.length; k++) toks.push(stretch[k] + stretch[k + 1]);
        if (beforeWord || !query) toks.push(stretch[stretch.length - 1]);
      }
      i = j;
    }
    return toks;
  }

  function indexTokens(text) {
    var out = [];
    runs(text).forEach(function (run) {
      if (out.length) out.push(RUN_SEPARATOR);
      Array.prototype.push.apply(out, runTokens(run, false));
    });
    return out;
  }

  // [{tokens: [...], prefix: bool, lookups: [...], units: [...]}], one per query word with a letter
  // or digit. lookups: the token offsets to ask the index for (analysis.py query_phrases says why
  // every other bigram of an all-Chinese word is enough).
  function queryPhrases(query) {
    var out = [];
    runs(query).forEach(function (run) {
      var toks = runTokens(run, true);
      if (!toks.length) return;
      var lookups = [];
      // only Chinese-stretch units: the query's tokens are then that stretch's bigrams, nothing else
      var skip = run.every(function (u) { return u.kind === "c" && u.text.normalize("NFD") === u.text; });
      for (var i = 0; i < toks.length; i++) if (!skip || i === toks.length - 1 || i % 2 === 0) lookups.push(i);
      out.push({ tokens: toks, prefix: run.length === 1 && run[0].kind === "c", lookups: lookups,
                 units: run.map(function (u) { return u.text; }) });
    });
    return out;
  }

  function pagefindQuery(phrase) {
    var toks = phrase.tokens.join(" ");
    return phrase.prefix ? toks : '"' + toks + '"';
  }

  function exactKey(text) {
    var out = "";
    runs(text).forEach(function (run) { run.forEach(function (u) { out += u.text; }); });
    return out;
  }

  // Where the query words occur in `text`: [[start, end], ...] in code points of the ORIGINAL text,
  // whole characters (a match of 预算 in 預算 marks 預算).
  function matches(text, phrases) {
    var textRuns = runs(text), spans = [];
    phrases.forEach(function (ph) {
      var want = ph.units, m = want.length;
      textRuns.forEach(function (run) {
        for (var i = 0; i + m <= run.length; i++) {
          var ok = true;
          for (var k = 0; k < m; k++) { if (run[i + k].text !== want[k]) { ok = false; break; } }
          if (ok) spans.push([run[i].start, run[i + m - 1].end]);
        }
      });
    });
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var merged = [];
    spans.forEach(function (s) {
      var last = merged[merged.length - 1];
      if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
      else merged.push([s[0], s[1]]);
    });
    return merged;
  }

  var api = {
    RUN_SEPARATOR: RUN_SEPARATOR,
    setTable: setTable, mayFold: mayFold, fold: fold, runs: runs, indexTokens: indexTokens, queryPhrases: queryPhrases,
    pagefindQuery: pagefindQuery, exactKey: exactKey,
    matches: matches,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  root.PortalAnalysis = api;
})(typeof self !== "undefined" ? self : this);
