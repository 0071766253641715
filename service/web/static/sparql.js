/* The SPARQL page: fetch /sparql (SPARQL JSON results), render a table; errors shown as given. */
(function () {
  "use strict";
  var G = window.Gapmap, el = G.el;
  var form = document.getElementById("sparql-form");
  if (!form) return;
  var q = document.getElementById("query"), status = document.getElementById("sparql-status");
  var err = document.getElementById("sparql-error"), box = document.getElementById("sparql-results");
  var table = document.getElementById("results-table"), pre = document.getElementById("results-text");
  var PREFIXES = {"https://w3id.org/gapmap/ns#": "gm:", "http://www.w3.org/2004/02/skos/core#": "skos:",
                  "https://schema.org/": "schema:", "http://www.w3.org/ns/prov#": "prov:"};

  function term(t) {
    if (!t) return el("span", {"class": "muted", text: ""});
    if (t.type === "uri") {
      for (var ns in PREFIXES) if (t.value.indexOf(ns) === 0) return el("code", {title: t.value, text: PREFIXES[ns] + t.value.slice(ns.length)});
      return el("code", {text: t.value});
    }
    return document.createTextNode(t.value);
  }

  function run() {
    err.hidden = true;
    status.textContent = "Running…";
    var t0 = performance.now();
    fetch("/sparql?query=" + encodeURIComponent(q.value), {
      headers: {"Accept": "application/sparql-results+json, text/turtle;q=0.8"}})
      .then(function (r) {
        return r.text().then(function (text) {
          if (!r.ok) throw new Error(G.problemText(r.status, text));
          return {type: r.headers.get("Content-Type") || "", text: text};
        });
      })
      .then(function (res) {
        var ms = Math.round(performance.now() - t0);
        box.hidden = false;
        var thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
        thead.textContent = ""; tbody.textContent = "";
        if (res.type.indexOf("json") < 0) {  // CONSTRUCT / DESCRIBE: a graph
          table.hidden = true; pre.hidden = false; pre.textContent = res.text;
          status.textContent = "Graph result, " + ms + " ms";
          return;
        }
        var data = JSON.parse(res.text);
        table.hidden = false; pre.hidden = true;
        if ("boolean" in data) {
          thead.append(el("tr", {}, [el("th", {text: "ASK"})]));
          tbody.append(el("tr", {}, [el("td", {text: String(data.boolean)})]));
          status.textContent = "Answer: " + data.boolean + " (" + ms + " ms)";
          return;
        }
        var vars = data.head.vars, rows = data.results.bindings;
        thead.append(el("tr", {}, vars.map(function (v) { return el("th", {text: "?" + v}); })));
        rows.forEach(function (b) {
          tbody.append(el("tr", {}, vars.map(function (v) { return el("td", {}, [term(b[v])]); })));
        });
        status.textContent = rows.length + " row" + (rows.length === 1 ? "" : "s") + " in " + ms + " ms";
      })
      .catch(function (e) {
        status.textContent = "";
        err.textContent = e.message;
        err.hidden = false;
        box.hidden = true;
      });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); run(); });
  q.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); } });
  document.getElementById("examples").addEventListener("click", function (ev) {
    var b = ev.target.closest("button.example");
    if (!b) return;
    q.value = b.dataset.query;
    document.querySelectorAll("button.example").forEach(function (x) { x.classList.toggle("active", x === b); });
    run();
  });
})();
