/* The SPARQL page: an editor with highlighting and prefix/term completion (no library: a <pre> under a
   transparent <textarea>), queries sent by POST (long queries do not hit URL limits), results as a paged
   table, downloads in every format the endpoint offers.  Everything is served by Gapmap: works offline. */
(function () {
  "use strict";
  var G = window.Gapmap, el = G.el;
  var form = document.getElementById("sparql-form");
  if (!form) return;
  var q = document.getElementById("query"), hl = document.getElementById("query-highlight");
  var status = document.getElementById("sparql-status"), err = document.getElementById("sparql-error");
  var box = document.getElementById("sparql-results"), table = document.getElementById("results-table");
  var pre = document.getElementById("results-text"), pager = document.getElementById("results-pager");
  var downloads = document.getElementById("results-downloads"), menu = document.getElementById("completion");
  var cfg = JSON.parse(document.getElementById("sparql-config").textContent);
  var PREFIXES = cfg.prefixes;          // {"gm": "https://w3id.org/gapmap/ns#", ...}
  var TERMS = cfg.terms;                // {"gm": ["Competency", ...], "skos": [...]}
  var PAGE = 100;
  var state = {vars: [], rows: [], page: 0, kind: null};

  // ---------------------------------------------------------------- highlighting
  var KEYWORDS = ("SELECT CONSTRUCT DESCRIBE ASK WHERE FROM NAMED PREFIX BASE DISTINCT REDUCED ORDER BY ASC DESC " +
    "LIMIT OFFSET OPTIONAL UNION MINUS GRAPH FILTER BIND VALUES AS GROUP HAVING NOT EXISTS IN SERVICE SILENT " +
    "COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE " +
    "RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE " +
    "STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS NOW UUID STRUUID MD5 SHA1 SHA256 COALESCE IF STRLANG " +
    "STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE TRUE FALSE A").split(" ");
  var KW = {};
  KEYWORDS.forEach(function (k) { KW[k] = true; });
  var TOKEN = /(#[^\n]*)|("""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)|(<[^<>"{}|^`\\\s]*>)|([?$][A-Za-z_0-9]+)|([A-Za-z][\w.-]*)?:([\w.-]*)|(\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z_]\w*)/g;

  function esc(s) { return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

  function highlight(text) {
    var out = "", last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text))) {
      if (m[0] === "") { TOKEN.lastIndex++; continue; }
      out += esc(text.slice(last, m.index));
      var cls = m[1] ? "c" : m[2] ? "s" : m[3] ? "i" : m[4] ? "v" : m[6] !== undefined ? "p" : m[7] ? "n"
        : (m[8] && KW[m[8].toUpperCase()]) ? "k" : null;
      out += cls ? '<span class="tok-' + cls + '">' + esc(m[0]) + "</span>" : esc(m[0]);
      last = m.index + m[0].length;
    }
    return out + esc(text.slice(last)) + "\n";
  }

  function refresh() {
    hl.innerHTML = highlight(q.value);
    hl.scrollTop = q.scrollTop; hl.scrollLeft = q.scrollLeft;
  }
  q.addEventListener("input", function () { refresh(); complete(false); });
  q.addEventListener("scroll", function () { hl.scrollTop = q.scrollTop; hl.scrollLeft = q.scrollLeft; });

  // ---------------------------------------------------------------- completion (prefixes, then terms)
  var choices = [], chosen = 0, span = null;

  function wordBefore() {
    // scan back over name characters (linear: no regex backtracking on long queries)
    var pos = q.selectionStart, text = q.value, start = pos;
    while (start > 0 && pos - start < 200 && /[\w.:-]/.test(text.charAt(start - 1))) start--;
    var word = text.slice(start, pos), colon = word.indexOf(":");
    var prefix = colon < 0 ? word : word.slice(0, colon), local = colon < 0 ? "" : word.slice(colon + 1);
    if (!word || (prefix && !/^[A-Za-z][\w.-]*$/.test(prefix)) || (!prefix && colon < 0)) return null;
    return {start: start, end: pos, prefix: prefix, colon: colon >= 0, local: local};
  }

  function complete(force) {
    var w = wordBefore();
    choices = [];
    if (w && w.colon && PREFIXES[w.prefix]) {
      choices = (TERMS[w.prefix] || []).filter(function (t) { return t.toLowerCase().indexOf(w.local.toLowerCase()) === 0; })
        .slice(0, 30).map(function (t) { return {label: w.prefix + ":" + t, insert: w.prefix + ":" + t}; });
    } else if (w && !w.colon && (force || w.prefix.length >= 1)) {
      choices = Object.keys(PREFIXES).filter(function (p) { return p.indexOf(w.prefix.toLowerCase()) === 0; })
        .map(function (p) { return {label: p + ":  <" + PREFIXES[p] + ">", insert: p + ":"}; });
      if (choices.length === 1 && choices[0].insert === w.prefix + ":" && !force) choices = [];
    }
    if (choices.length && !(choices.length === 1 && choices[0].insert === q.value.slice(w.start, w.end))) {
      span = w; chosen = 0; renderMenu();
    } else {
      closeMenu();
    }
  }

  function renderMenu() {
    menu.textContent = "";
    choices.forEach(function (c, i) {
      var li = el("li", {role: "option", id: "completion-" + i, "aria-selected": String(i === chosen), text: c.label});
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); chosen = i; accept(); });
      menu.append(li);
    });
    menu.hidden = false;
    q.setAttribute("aria-expanded", "true");
    q.setAttribute("aria-activedescendant", "completion-" + chosen);
  }

  function closeMenu() {
    menu.hidden = true; choices = [];
    q.setAttribute("aria-expanded", "false"); q.removeAttribute("aria-activedescendant");
  }

  function accept() {
    var c = choices[chosen];
    if (!c || !span) return closeMenu();
    q.value = q.value.slice(0, span.start) + c.insert + q.value.slice(span.end);
    var pos = span.start + c.insert.length;
    q.setSelectionRange(pos, pos);
    closeMenu(); refresh(); q.focus();
  }

  q.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); closeMenu(); run(); return; }
    if (ev.key === " " && ev.ctrlKey) { ev.preventDefault(); complete(true); return; }
    if (menu.hidden) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      chosen = (chosen + (ev.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
      renderMenu();
    } else if (ev.key === "Enter" || ev.key === "Tab") {
      ev.preventDefault(); accept();
    } else if (ev.key === "Escape") {
      ev.preventDefault(); closeMenu();
    }
  });
  q.addEventListener("blur", function () {
    setTimeout(function () { if (document.activeElement !== q) closeMenu(); }, 150);
  });

  // ---------------------------------------------------------------- running (POST) and results
  function post(accept) {
    var headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept};
    // a cookie-authenticated POST carries the session's CSRF token, like every page script's
    if (window.Gapmap && Gapmap.csrf()) headers["X-CSRF-Token"] = Gapmap.csrf();
    return fetch("/sparql", {method: "POST", credentials: "same-origin", headers: headers,
      body: new URLSearchParams({query: q.value}).toString()});
  }

  function term(t) {
    if (!t) return el("span", {"class": "muted", text: ""});
    if (t.type === "uri") {
      for (var p in PREFIXES) {
        var ns = PREFIXES[p];
        if (t.value.indexOf(ns) === 0) return el("code", {title: t.value, text: p + ":" + t.value.slice(ns.length)});
      }
      return el("code", {text: t.value});
    }
    var s = el("span", {text: t.value});
    if (t["xml:lang"]) s.title = "@" + t["xml:lang"];
    else if (t.datatype) s.title = t.datatype;
    return s;
  }

  function showPage() {
    var thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
    thead.textContent = ""; tbody.textContent = "";
    var vars = state.vars, rows = state.rows, n = rows.length;
    var pages = Math.max(1, Math.ceil(n / PAGE)), from = state.page * PAGE;
    thead.append(el("tr", {}, [el("th", {"class": "rownum", text: "#"})].concat(
      vars.map(function (v) { return el("th", {text: "?" + v}); }))));
    rows.slice(from, from + PAGE).forEach(function (b, i) {
      tbody.append(el("tr", {}, [el("td", {"class": "rownum", text: String(from + i + 1)})].concat(
        vars.map(function (v) { return el("td", {}, [term(b[v])]); }))));
    });
    pager.textContent = "";
    if (pages > 1) {
      var prev = el("button", {type: "button", id: "page-prev", text: "‹ Previous"});
      var next = el("button", {type: "button", id: "page-next", text: "Next ›"});
      prev.disabled = state.page === 0; next.disabled = state.page >= pages - 1;
      prev.addEventListener("click", function () { state.page--; showPage(); });
      next.addEventListener("click", function () { state.page++; showPage(); });
      pager.append(prev, el("span", {id: "page-info", text: " rows " + (from + 1) + "–" + Math.min(n, from + PAGE) +
        " of " + n + " (page " + (state.page + 1) + " of " + pages + ") "}), next);
    }
  }

  var FORMATS = {
    results: [["CSV", "text/csv", "csv"], ["TSV", "text/tab-separated-values", "tsv"],
              ["JSON", "application/sparql-results+json", "srj"], ["XML", "application/sparql-results+xml", "srx"]],
    graph: [["Turtle", "text/turtle", "ttl"], ["N-Triples", "application/n-triples", "nt"],
            ["RDF/XML", "application/rdf+xml", "rdf"], ["JSON-LD", "application/ld+json", "jsonld"]]
  };

  function showDownloads(kind) {
    downloads.textContent = "";
    downloads.append(el("span", {"class": "muted", text: "Download: "}));
    FORMATS[kind].forEach(function (f, i) {
      var b = el("button", {type: "button", "class": "link dl", "data-format": f[2], text: f[0]});
      b.addEventListener("click", function () { download(f[1], f[2]); });
      downloads.append(b);
      if (i < FORMATS[kind].length - 1) downloads.append(document.createTextNode(" · "));
    });
  }

  function download(mediaType, ext) {
    post(mediaType).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(G.problemText(r.status, t)); });
      return r.blob();
    }).then(function (blob) {
      var a = el("a", {href: URL.createObjectURL(blob), download: "query-results." + ext});
      document.body.append(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    }).catch(function (e) { err.textContent = e.message; err.hidden = false; });
  }

  function run() {
    err.hidden = true;
    status.textContent = "Running…";
    var t0 = performance.now();
    post("application/sparql-results+json, text/turtle;q=0.8")
      .then(function (r) {
        return r.text().then(function (text) {
          if (!r.ok) throw new Error(G.problemText(r.status, text));
          return {type: r.headers.get("Content-Type") || "", text: text};
        });
      })
      .then(function (res) {
        var ms = Math.round(performance.now() - t0);
        box.hidden = false;
        if (res.type.indexOf("json") < 0) {  // CONSTRUCT / DESCRIBE: a graph
          table.hidden = true; pager.textContent = ""; pre.hidden = false; pre.textContent = res.text;
          state.kind = "graph"; showDownloads("graph");
          status.textContent = "Graph result, " + ms + " ms";
          return;
        }
        var data = JSON.parse(res.text);
        table.hidden = false; pre.hidden = true;
        state.kind = "results"; showDownloads("results");
        if ("boolean" in data) {
          state.vars = ["ASK"]; state.rows = [{ASK: {type: "literal", value: String(data.boolean)}}]; state.page = 0;
          showPage();
          status.textContent = "Answer: " + data.boolean + " (" + ms + " ms)";
          return;
        }
        state.vars = data.head.vars; state.rows = data.results.bindings; state.page = 0;
        showPage();
        var n = state.rows.length;
        status.textContent = n + " row" + (n === 1 ? "" : "s") + " in " + ms + " ms";
      })
      .catch(function (e) {
        status.textContent = "";
        err.textContent = e.message;
        err.hidden = false;
        box.hidden = true;
      });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); closeMenu(); run(); });
  document.getElementById("examples").addEventListener("click", function (ev) {
    var b = ev.target.closest("button.example");
    if (!b) return;
    q.value = b.dataset.query;
    refresh();
    document.querySelectorAll("button.example").forEach(function (x) { x.classList.toggle("active", x === b); });
    run();
  });
  refresh();
  window.GapmapSparql = {highlight: highlight, run: run};
})();
