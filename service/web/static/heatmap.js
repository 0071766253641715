/* Heatmap cells: Enter (or a click) opens the objectives and assessments behind a cell in a dialog. */
(function () {
  "use strict";
  var table = document.getElementById("heatmap");
  var dialog = document.getElementById("cell-dialog");
  if (!table || !dialog) return;
  var me = document.currentScript;
  var review = me ? me.getAttribute("data-review") : null;
  var title = document.getElementById("cell-dialog-title");
  var body = document.getElementById("cell-dialog-body");
  var opener = null;

  function list(label, items, link) {
    var wrap = document.createElement("div");
    var h = document.createElement("h3");
    h.textContent = label;
    wrap.appendChild(h);
    var ul = document.createElement("ul");
    items.forEach(function (t) {
      var li = document.createElement("li");
      if (link) {
        var a = document.createElement("a");
        a.href = link(t);
        a.textContent = t;
        li.appendChild(a);
      } else {
        li.textContent = t;
      }
      ul.appendChild(li);
    });
    wrap.appendChild(ul);
    return wrap;
  }

  function open(cell) {
    var objectives = (cell.getAttribute("data-objectives") || "").split("|").filter(Boolean);
    var assessed = (cell.getAttribute("data-assessed") || "").split("|").filter(Boolean);
    var course = cell.getAttribute("data-course");
    title.textContent = cell.getAttribute("data-competency") + " in " + course;
    body.textContent = "";
    if (objectives.length) {
      body.appendChild(list("Objectives teaching it", objectives, review ? function () {
        return review + "?status=all&course=" + encodeURIComponent(course);
      } : null));
    } else {
      body.appendChild(document.createTextNode("Not taught in this course."));
    }
    if (assessed.length) body.appendChild(list("Assessed by", assessed));
    opener = cell;
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
  }

  table.addEventListener("click", function (ev) {
    var cell = ev.target.closest("td.cell[tabindex]");
    if (cell) open(cell);
  });
  table.addEventListener("keydown", function (ev) {
    var cell = ev.target.closest && ev.target.closest("td.cell[tabindex]");
    if (cell && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      open(cell);
    }
  });
  dialog.addEventListener("close", function () { if (opener) opener.focus(); });
})();
