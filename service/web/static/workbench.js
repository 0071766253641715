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
      if (el.name && el.value !== "" && !el.disabled) out[el.name] = el.value;
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

  /* The draft edit form: each change type's fields (name: label), in the order shown; the others are hidden
     and disabled (not sent).  Course changes send the course as "code", as the API expects. */
  var DRAFT_FIELDS = {
    add_course: {course: "New course code", title: "Course title", year: "Year"},
    remove_course: {course: "Course code"},
    move_course: {course: "Course code", year: "Move to year"},
    set_course: {course: "Course code", title: "New title (optional)", year: "New year (optional)"},
    add_session: {course: "Course code", id: "New session id", title: "Session title (optional)"},
    remove_session: {course: "Course code", id: "Session id"},
    add_objective: {course: "Course code", id: "New objective id", text: "Objective text",
                    session: "Session id (optional)", level: "Target level (optional)",
                    competencies: "Competencies taught (optional, ; between)"},
    remove_objective: {id: "Objective id"},
    move_objective: {id: "Objective id", course: "To course code", session: "To session id (optional)"},
    set_level: {id: "Objective id", level: "Target level"},
    add_assessment: {course: "Course code", id: "New assessment id", title: "Assessment title", kind: "Assessment kind",
                     level: "Assessed level (optional)", competencies: "Competencies assessed (optional, ; between)",
                     objectives: "Objectives assessed (optional, ; between)"},
    remove_assessment: {id: "Assessment id"},
    swap_framework: {framework: "Framework to swap to"}
  };
  var COURSE_OPS = {add_course: 1, remove_course: 1, move_course: 1, set_course: 1};
  var edit = document.querySelector('[data-wb-form="draft-edit"]');
  function shownFields() {
    var op = edit.elements.op.value, spec = DRAFT_FIELDS[op] || {};
    var near = document.getElementById("draft-edit-status");
    if (near) near.hidden = true;
    Array.prototype.forEach.call(edit.querySelectorAll("label[data-field]"), function (lab) {
      var name = lab.getAttribute("data-field"), on = Object.prototype.hasOwnProperty.call(spec, name);
      var input = lab.querySelector("input, select");
      lab.hidden = !on;
      input.disabled = !on;
      input.required = on && !/optional/.test(spec[name]) && input.tagName === "INPUT";
      input.removeAttribute("aria-invalid");
      if (on) lab.querySelector(".lbl").textContent = spec[name];
    });
    // in the order of the table: the label's position follows its field's
    var before = edit.querySelector('button[type="submit"]');
    Object.keys(spec).forEach(function (name) {
      var lab = edit.querySelector('label[data-field="' + name + '"]');
      if (lab) edit.insertBefore(lab, before);
    });
  }
  /* An API error names its field as the API does ("code"): say it with the visible field's label. */
  function editFailed(op) {
    return function (e) {
      var msg = e.message, field = e.problem && e.problem.field;
      var name = field === "code" && COURSE_OPS[op] ? "course" : field;
      var lab = name && edit.querySelector('label[data-field="' + name + '"]:not([hidden])');
      if (lab) {
        var label = lab.querySelector(".lbl").textContent.replace(/ \(.*\)$/, "");
        var detail = (e.problem.detail || "").replace(new RegExp("^" + field + "\\b"), label);
        msg = (e.problem.title ? e.problem.title + ": " : "") + detail + " (field “" + label + "”)";
        var input = lab.querySelector("input, select");
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
      say(msg, true);
      var near = document.getElementById("draft-edit-status");  // also beside the form, where the user looks
      if (near) { near.textContent = msg; near.hidden = false; }
    };
  }
  if (edit) {
    edit.elements.op.addEventListener("change", shownFields);
    shownFields();
    edit.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var b = typed(fields(edit));
      if (COURSE_OPS[b.op] && b.course) { b.code = b.course; delete b.course; }
      G.api("POST", "/api/drafts/" + encodeURIComponent(edit.dataset.draft) + "/edits", b).then(function () {
        window.location.reload();
      }, editFailed(b.op));
    });
  }

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
