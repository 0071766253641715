/* Syllabus upload: multipart POST to the API with upload progress (XMLHttpRequest), then the objectives. */
(function () {
  "use strict";
  var G = window.Gapmap, el = G.el;
  var form = document.getElementById("upload-form");
  if (!form) return;
  var program = form.dataset.program;
  var $ = function (id) { return document.getElementById(id); };
  var progress = $("progress"), ptext = $("progress-text"), err = $("upload-error"), button = $("upload-button");

  function mode() { return form.querySelector('input[name="mode"]:checked').value; }
  form.querySelectorAll('input[name="mode"]').forEach(function (r) {
    r.addEventListener("change", function () {
      var isNew = mode() === "new";
      $("new-course").hidden = !isNew;
      $("course-select").disabled = isNew;
      $("new-code").required = isNew;
      $("new-year").required = isNew;
    });
  });

  function fail(msg) {
    err.textContent = msg;
    err.hidden = false;
    progress.hidden = true;
    ptext.textContent = "";
    button.disabled = false;
  }

  function show(res) {
    var ex = res.extraction || {}, objs = ex.objectives || [];
    var tbody = $("objectives").querySelector("tbody");
    tbody.textContent = "";
    objs.forEach(function (o, i) {
      tbody.append(el("tr", {}, [
        el("td", {"class": "num", text: o.number || String(i + 1)}),
        el("td", {text: o.text}),
        el("td", {}, [o.bloom_level ? el("span", {"class": "badge bloom", text: o.bloom_level}) : el("span", {"class": "muted", text: "—"})]),
        el("td", {"class": "num", text: o.page != null ? "p. " + o.page : (o.paragraph != null ? "¶ " + o.paragraph : "—")})]));
    });
    if (!objs.length) tbody.append(el("tr", {}, [el("td", {colspan: "4", "class": "muted", text: "No learning objective was found in this document."})]));
    var meta = [objs.length + " objective" + (objs.length === 1 ? "" : "s"), res.course, "version " + res.version];
    if (ex.title) meta.push("“" + ex.title + "”");
    if (ex.format) meta.push(ex.format);
    if (res.alignment) meta.push("competencies suggested (" + res.alignment.suggestions + " pending in the program)");
    $("result-meta").textContent = "· " + meta.join(" · ");
    var warn = $("result-warnings");
    warn.hidden = !(ex.warnings && ex.warnings.length);
    warn.textContent = (ex.warnings || []).join(" · ");
    $("review-link").href = "/programs/" + encodeURIComponent(program) + "/review?course=" + encodeURIComponent(res.course);
    $("dashboard-link").href = "/programs/" + encodeURIComponent(program) + "?course=" + encodeURIComponent(res.course);
    $("result").hidden = false;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    err.hidden = true;
    var file = $("file").files[0];
    if (!file) { fail("Choose a file to upload."); return; }
    var code, data = new FormData();
    if (mode() === "new") {
      code = $("new-code").value.trim();
      if (!code) { fail("Give the new course's code."); return; }
      if (!$("new-year").value) { fail("Give the new course's year."); return; }
      data.append("year", $("new-year").value);
      if ($("new-title").value.trim()) data.append("title", $("new-title").value.trim());
    } else {
      code = $("course-select").value;
    }
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/programs/" + encodeURIComponent(program) + "/courses/" + encodeURIComponent(code) + "/syllabus");
    xhr.setRequestHeader("Accept", "application/json");
    if (G.csrf()) xhr.setRequestHeader("X-CSRF-Token", G.csrf());
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var pct = Math.round(100 * e.loaded / e.total);
        progress.value = pct;
        ptext.textContent = "Uploading… " + pct + "%";
      }
    });
    xhr.upload.addEventListener("load", function () {
      progress.removeAttribute("value");  // indeterminate while the server extracts and aligns
      ptext.textContent = "Extracting objectives and suggesting competencies…";
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        progress.value = 100;
        progress.hidden = true;
        ptext.textContent = "Done.";
        button.disabled = false;
        show(JSON.parse(xhr.responseText));
      } else {
        fail(G.problemText(xhr.status, xhr.responseText));
      }
    });
    xhr.addEventListener("error", function () { fail("The upload failed: the server could not be reached."); });
    progress.hidden = false;
    progress.value = 0;
    ptext.textContent = "Uploading…";
    button.disabled = true;
    xhr.send(data);
  });
})();
