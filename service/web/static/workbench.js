/* Workbench actions: run a crosswalk, decide mappings, create / edit / apply / discard drafts (JSON API). */
(function () {
  "use strict";
  var G = window.Gapmap;
  var status = document.getElementById("wb-status");
  function say(msg, bad) {
    if (!status) return;
    status.textContent = msg;
    status.className = bad ? "problem" : "notice";
  }
  function fail(e) { say(e.message, true); }
  function fields(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.value !== "") out[el.name] = el.value;
    });
    return out;
  }
  var INTS = {year: 1, level: 1, top_k: 1};
  function typed(obj) {
    Object.keys(obj).forEach(function (k) { if (INTS[k]) obj[k] = parseInt(obj[k], 10); });
    return obj;
  }

  var run = document.querySelector('[data-wb-form="crosswalk-run"]');
  if (run) run.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var b = typed(fields(run));
    say("Running the crosswalk " + b.source + " → " + b.target + "…");
    G.api("POST", "/api/crosswalks", b).then(function (r) {
      say(r.suggestions + " suggestions, " + r.kept_decisions + " decisions kept.");
      window.location.href = "/crosswalks/" + encodeURIComponent(r.source) + "/" + encodeURIComponent(r.target);
    }, fail);
  });

  var table = document.getElementById("mappings");
  if (table) table.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-decision]");
    if (!btn) return;
    var row = btn.closest("tr");
    var rel = row.querySelector("select.relation");
    var url = "/api/crosswalks/" + encodeURIComponent(table.dataset.source) + "/" +
      encodeURIComponent(table.dataset.target) + "/mappings/" + encodeURIComponent(row.dataset.mapping) + "/decision";
    btn.disabled = true;
    G.api("POST", url, {decision: btn.dataset.decision, relation: rel ? rel.value : undefined}).then(function (r) {
      row.className = "map-" + r.status;
      var badge = row.querySelector(".badge");
      badge.className = "badge al-" + r.status;
      badge.textContent = r.status;
      say(r.status + " as " + r.relation + " match.");
      btn.disabled = false;
    }, function (e) { btn.disabled = false; fail(e); });
  });

  var create = document.querySelector('[data-wb-form="draft-create"]');
  if (create) create.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = create.elements.name.value;
    G.api("POST", "/api/programs/" + encodeURIComponent(create.dataset.program) + "/drafts", {name: name}).then(function () {
      window.location.href = "/drafts/" + encodeURIComponent(name);
    }, fail);
  });

  var courseEdit = document.querySelector('[data-wb-form="course-edit"]');
  if (courseEdit) courseEdit.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var b = typed(fields(courseEdit));
    G.api("PATCH", "/api/programs/" + encodeURIComponent(courseEdit.dataset.program) + "/courses/" +
      encodeURIComponent(courseEdit.dataset.course), b).then(function () { say("Course saved."); }, fail);
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[data-edit-level]"), function (inp) {
    inp.addEventListener("change", function () {
      var oid = inp.getAttribute("data-edit-level");
      G.api("PATCH", "/api/objectives/" + encodeURIComponent(oid), {level: parseInt(inp.value, 10)}).then(function (r) {
        say(oid + ": target level " + r.level.to + ".");
      }, fail);
    });
  });

  var version = document.querySelector('[data-wb-form="version-create"]');
  if (version) version.addEventListener("submit", function (ev) {
    ev.preventDefault();
    G.api("POST", "/api/programs/" + encodeURIComponent(version.dataset.program) + "/versions",
      {name: version.elements.name.value}).then(function () { window.location.reload(); }, fail);
  });

  var COURSE_OPS = {add_course: 1, remove_course: 1, move_course: 1, set_course: 1};
  var edit = document.querySelector('[data-wb-form="draft-edit"]');
  if (edit) edit.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var b = typed(fields(edit));
    if (COURSE_OPS[b.op] && b.id) { b.code = b.id; delete b.id; }
    if (b.op !== "add_assessment") delete b.kind;
    if (b.op !== "swap_framework") delete b.framework;
    G.api("POST", "/api/drafts/" + encodeURIComponent(edit.dataset.draft) + "/edits", b).then(function () {
      window.location.reload();
    }, fail);
  });

  var apply = document.getElementById("draft-apply");
  if (apply) apply.addEventListener("click", function () {
    if (!window.confirm("Apply draft " + apply.dataset.draft + " to the live curriculum? Today's report is saved first.")) return;
    G.api("POST", "/api/drafts/" + encodeURIComponent(apply.dataset.draft) + "/apply").then(function (r) {
      say("Applied by " + r.applied_by + ": " + r.graphs.length + " graphs replaced.");
      apply.disabled = true;
    }, fail);
  });
  var discard = document.getElementById("draft-discard");
  if (discard) discard.addEventListener("click", function () {
    if (!window.confirm("Discard draft " + discard.dataset.draft + "?")) return;
    G.api("DELETE", "/api/drafts/" + encodeURIComponent(discard.dataset.draft)).then(function () {
      window.location.href = "/programs/" + encodeURIComponent(discard.dataset.program) + "/drafts";
    }, fail);
  });
})();
