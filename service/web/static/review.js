/* The review queue: decisions through the JSON API, updated in place; keyboard shortcuts. */
(function () {
  "use strict";
  var G = window.Gapmap, el = G.el;
  var root = document.getElementById("review");
  if (!root) return;
  var program = root.dataset.program, framework = root.dataset.framework;
  var toast = document.getElementById("toast");
  var current = null;

  function say(msg, ok) {
    toast.textContent = msg;
    toast.className = "toast " + (ok ? "ok" : "err");
    toast.hidden = false;
    clearTimeout(say.t);
    say.t = setTimeout(function () { toast.hidden = true; }, ok ? 2500 : 8000);
  }

  function rows() { return Array.prototype.slice.call(root.querySelectorAll("tr.sugg")); }
  function actionable() { return rows().filter(function (r) { return !r.classList.contains("curator"); }); }
  /* Decisions only where the page offered them (the signed-in user may review that objective's course). */
  function mayDecide(row) {
    if (!row) return false;
    var art = row.closest("article");
    if (art && art.dataset.mayReview === "1") return true;
    say("You may not decide on " + (art ? art.dataset.course : "this course") + ": it is not one of your courses.", false);
    return false;
  }

  function highlight(row) {
    var art = row.closest("article"), p = art.querySelector(".otext"), text = art.dataset.text;
    var s = parseInt(row.dataset.spanStart, 10), e = parseInt(row.dataset.spanEnd, 10);
    p.textContent = "";
    if (isNaN(s) || isNaN(e) || s >= e) { p.textContent = text; return; }
    p.append(text.slice(0, s), el("mark", {text: text.slice(s, e)}), text.slice(e));
  }

  function select(row, scroll) {
    if (!row) return;
    if (current) current.classList.remove("current");
    current = row;
    row.classList.add("current");
    highlight(row);
    if (scroll !== false) { row.focus({preventScroll: true}); row.scrollIntoView({block: "nearest"}); }
  }

  function move(delta) {
    var list = actionable();
    if (!list.length) return;
    var i = current ? list.indexOf(current) : -1;
    select(list[Math.max(0, Math.min(list.length - 1, i + delta))]);
  }

  function nextPending(from) {
    var list = actionable(), i = list.indexOf(from);
    for (var k = i + 1; k < list.length; k++) if (list[k].dataset.status === "suggested") return list[k];
    return null;
  }

  function setStatus(row, status, note) {
    row.dataset.status = status;
    row.className = row.className.replace(/\bst-\w+/, "st-" + status);
    var cell = row.querySelector("td.status");
    cell.textContent = "";
    cell.append(el("span", {"class": "badge al-" + status, text: status}));
    if (note) cell.append(el("span", {"class": "muted small note", text: note}));
    row.classList.add("flash");
    setTimeout(function () { row.classList.remove("flash"); }, 900);
  }

  function decide(row, decision) {
    if (!row || row.classList.contains("curator") || !mayDecide(row)) return;
    // expected_status: what this page showed; someone else's decision meanwhile is a 409, not an overwrite
    G.api("POST", "/api/alignments/" + row.dataset.alignment + "/decision",
          {decision: decision, expected_status: row.dataset.status})
      .then(function (d) {
        setStatus(row, d.new, "by " + d.user);
        say((decision === "accept" ? "Accepted " : "Rejected ") + row.dataset.notation, true);
        var n = nextPending(row);
        if (n) select(n);
      })
      .catch(function (e) { say(e.message, false); });
  }

  /* A search box under a row (or an objective): pick a competency, then post it. */
  function searchBox(anchorRow, colspan, onPick) {
    closeSearch();
    var tr = el("tr", {"class": "replace-row"});
    var input = el("input", {type: "search", placeholder: "Search competencies (label, alt label, definition)…",
                             "aria-label": "Search competencies", "class": "comp-search"});
    var list = el("ul", {"class": "results"});
    var box = el("div", {"class": "search-box"}, [input, list]);
    tr.append(el("td", {colspan: String(colspan)}, [box]));
    anchorRow.after(tr);
    var timer = null, results = [];
    function render() {
      list.textContent = "";
      results.slice(0, 12).forEach(function (c, i) {
        var b = el("button", {type: "button", "class": "pick" + (i === 0 ? " first" : "")},
                   [el("code", {text: c.notation}), " " + c.label]);
        b.title = c.definition || "";
        b.addEventListener("click", function () { onPick(c, tr); });
        list.append(el("li", {}, [b]));
      });
      if (!results.length && input.value.trim()) list.append(el("li", {"class": "muted", text: "No competency matches."}));
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { results = []; render(); return; }
      timer = setTimeout(function () {
        G.api("GET", "/api/competencies?framework=" + encodeURIComponent(framework) + "&q=" + encodeURIComponent(q))
          .then(function (r) { if (input.value.trim() === q) { results = r.competencies; render(); } })
          .catch(function (e) { say(e.message, false); });
      }, 150);
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); if (results.length) onPick(results[0], tr); }
      if (ev.key === "Escape") { ev.preventDefault(); closeSearch(); if (current) current.focus(); }
    });
    input.focus();
    return tr;
  }
  function closeSearch() { root.querySelectorAll("tr.replace-row").forEach(function (r) { r.remove(); }); }

  function newRow(before, c, decision) {
    var id = decision.alignment.split("/").pop();
    var tr = el("tr", {"class": "sugg st-accepted", "data-alignment": id, "data-status": "accepted",
                       "data-notation": c.notation, tabindex: "-1"});
    var link = el("a", {href: "/competencies/" + encodeURIComponent(c.framework) + "/" + encodeURIComponent(c.notation)},
                  [el("code", {text: c.notation})]);
    tr.append(el("td", {}, [link, " " + c.label]), el("td", {"class": "num", text: "—"}),
              el("td", {"class": "num", text: "—"}), el("td", {"class": "evidence"}, [el("span", {"class": "muted", text: "chosen by " + decision.user})]),
              el("td", {"class": "status"}, [el("span", {"class": "badge al-accepted", text: "accepted"}),
                                              el("span", {"class": "muted small note", text: "manual"})]),
              el("td", {"class": "acts"}, [el("button", {type: "button", "data-act": "accept", text: "Accept"}), " ",
                                           el("button", {type: "button", "data-act": "reject", text: "Reject"}), " ",
                                           el("button", {type: "button", "data-act": "replace", text: "Replace…"}), " ",
                                           el("a", {href: "/api/alignments/" + id + "/history", "data-act": "history", "class": "hist", text: "history"})]));
    before.after(tr);
    var none = tr.closest("tbody").querySelector("tr.none");
    if (none) none.remove();
    tr.closest("table").classList.remove("empty");
    return tr;
  }

  function replace(row) {
    if (!row || row.classList.contains("curator") || !mayDecide(row)) return;
    select(row, false);
    searchBox(row, 6, function (c, box) {
      if (c.notation === row.dataset.notation) { box.remove(); decide(row, "accept"); return; }  // same one: accept it
      G.api("POST", "/api/alignments/" + row.dataset.alignment + "/decision",
            {decision: "replace", framework: c.framework, competency: c.notation, expected_status: row.dataset.status})
        .then(function (d) {
          box.remove();
          setStatus(row, "rejected", "replaced by " + c.notation);
          var existing = row.closest("tbody").querySelector('tr.sugg[data-alignment="' + d.alignment.split("/").pop() + '"]');
          var added = existing || newRow(row, c, d);
          if (existing) setStatus(existing, "accepted", "by " + d.user);
          say("Replaced " + row.dataset.notation + " by " + c.notation, true);
          select(added);
        })
        .catch(function (e) { say(e.message, false); });
    });
  }

  function addManual(art) {
    var last = art.querySelector("tbody tr:last-child");
    searchBox(last, 6, function (c, box) {
      G.api("POST", "/api/objectives/" + encodeURIComponent(art.dataset.objective) + "/alignments",
            {framework: c.framework, competency: c.notation})
        .then(function (d) {
          box.remove();
          var existing = art.querySelector('tr.sugg[data-alignment="' + d.alignment.split("/").pop() + '"]');
          if (existing) setStatus(existing, "accepted", "by " + d.user);
          else select(newRow(art.querySelector("tbody tr:last-child"), c, d));
          say("Added " + c.notation, true);
        })
        .catch(function (e) { say(e.message, false); });
    });
  }

  function history(row) {
    var next = row.nextElementSibling;
    if (next && next.classList.contains("history-row")) { next.remove(); return; }
    G.api("GET", "/api/alignments/" + row.dataset.alignment + "/history").then(function (r) {
      var tr = el("tr", {"class": "history-row"}), td = el("td", {colspan: "6"});
      if (!r.history.length) td.append(el("span", {"class": "muted", text: "No decision yet: proposed by the alignment engine."}));
      else {
        var t = el("table", {"class": "history"});
        t.append(el("tr", {}, ["When", "Who", "From", "To", "Score", "Note"].map(function (h) { return el("th", {text: h}); })));
        var seen = {};
        r.history.forEach(function (h) {
          if (seen[h.decision]) return;  // one row per decision (the agent's label may sit in several graphs)
          seen[h.decision] = true;
          t.append(el("tr", {}, [h.at.replace("T", " ").slice(0, 19), h.user, h.previous || "—", h.new,
                                 h.score == null ? "" : String(h.score), h.note || ""].map(function (x) { return el("td", {text: x}); })));
        });
        td.append(t);
      }
      tr.append(td);
      row.after(tr);
    }).catch(function (e) { say(e.message, false); });
  }

  function assessed(art) {
    var sel = art.querySelector("select.assessment"), msg = art.querySelector("footer .msg");
    if (!sel.value) { say("Choose an assessment first.", false); sel.focus(); return; }
    G.api("POST", "/api/objectives/" + encodeURIComponent(art.dataset.objective) + "/assessed-by", {assessment: sel.value})
      .then(function (d) { msg.textContent = "Assessed by " + sel.value + " (" + d.user + ")"; say("Marked as assessed by " + sel.value, true); })
      .catch(function (e) { say(e.message, false); });
  }

  /* The other courses' assessments are added to an "assessed by" list when it is first used
     (one copy in a <template>, not one per objective). */
  var assessmentOptions = document.getElementById("assessment-options");
  function fillAssessments(sel) {
    var group = sel.querySelector('optgroup[data-fill="other"]');
    if (!group || group.dataset.filled) return;
    group.dataset.filled = "1";
    Array.prototype.forEach.call(assessmentOptions.content.querySelectorAll("option"), function (o) {
      if (o.dataset.course !== group.dataset.course) group.append(o.cloneNode(true));
    });
  }
  ["focusin", "mousedown"].forEach(function (type) {
    root.addEventListener(type, function (ev) {
      if (ev.target.matches && ev.target.matches("select.assessment")) fillAssessments(ev.target);
    });
  });

  root.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-act]");
    if (!t) { var r = ev.target.closest("tr.sugg"); if (r && !r.classList.contains("curator")) select(r, false); return; }
    var row = t.closest("tr.sugg"), art = t.closest("article"), act = t.dataset.act;
    if (act === "history") { ev.preventDefault(); history(row); return; }
    if (act === "accept" || act === "reject") decide(row, act);
    else if (act === "replace") replace(row);
    else if (act === "assessed") assessed(art);
    else if (act === "add") addManual(art);
  });

  /* Bulk accept acts only on the suggestions this page shows, after a preview of exactly what it will accept. */
  var bulkForm = document.getElementById("bulk-form");
  if (bulkForm) bulkForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var t = parseFloat(document.getElementById("bulk-threshold").value);
    var msg = document.getElementById("bulk-msg");
    var shown = rows().filter(function (r) {
      return r.dataset.status === "suggested" && !r.classList.contains("curator") &&
        parseFloat(r.dataset.precision || "0") >= t;
    }).map(function (r) { return r.dataset.alignment; });
    if (!shown.length) { msg.textContent = "No suggestion on this page has expected precision ≥ " + t + "."; return; }
    var url = "/api/programs/" + encodeURIComponent(program) + "/review/bulk-accept-shown";
    G.api("POST", url, {alignments: shown, min_precision: t, preview: true}).then(function (p) {
      if (!p.accept.length) { msg.textContent = "Nothing to accept (" + p.skipped.length + " already decided)."; return null; }
      var lines = p.accept.slice(0, 15).map(function (a) {
        return a.objective + " → " + a.competency.split("/").pop() + " (" + Math.round(a.precision * 100) + "%)";
      });
      if (p.accept.length > 15) lines.push("… and " + (p.accept.length - 15) + " more");
      if (!confirm("Accept these " + p.accept.length + " suggestion(s) shown on this page?\n\n" + lines.join("\n"))) return null;
      return G.api("POST", url, {alignments: p.accept.map(function (a) { return a.alignment; }), min_precision: t});
    }).then(function (r) {
      if (!r) return;
      msg.textContent = r.accepted + " suggestion(s) accepted" + (r.skipped.length ? ", " + r.skipped.length + " skipped" : "") + ".";
      var done = {};
      r.decisions.forEach(function (d) { done[d.alignment.split("/").pop()] = true; });
      rows().forEach(function (row) { if (done[row.dataset.alignment]) setStatus(row, "accepted", "bulk"); });
    }).catch(function (e) { say(e.message, false); });
  });

  var help = document.getElementById("help");
  function toggleHelp() { if (help.open) help.close(); else help.showModal(); }
  document.getElementById("help-toggle").addEventListener("click", toggleHelp);

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var k = ev.key;
    if (k === "?") { ev.preventDefault(); toggleHelp(); return; }
    if (help.open) return;
    if (k === "j" || k === "ArrowDown" && ev.target.closest && ev.target.closest("tr.sugg")) { ev.preventDefault(); move(1); }
    else if (k === "k" || k === "ArrowUp" && ev.target.closest && ev.target.closest("tr.sugg")) { ev.preventDefault(); move(-1); }
    else if (k === "a") { ev.preventDefault(); decide(current, "accept"); }
    else if (k === "r") { ev.preventDefault(); decide(current, "reject"); }
    else if (k === "e") { ev.preventDefault(); replace(current); }
    else if (k === "h") { ev.preventDefault(); if (current) history(current); }
    else if (k === "Escape") closeSearch();
  });

  /* Start on the first pending suggestion. */
  var first = actionable().filter(function (r) { return r.dataset.status === "suggested"; })[0] || actionable()[0];
  if (first) select(first, false);
})();
