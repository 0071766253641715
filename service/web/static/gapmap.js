/* Gapmap: small shared helpers (no framework, no network beyond this server). */
(function () {
  "use strict";
  var user = function () { return document.body.getAttribute("data-user") || ""; };
  /* The session's CSRF token: every write the page scripts make sends it (X-CSRF-Token). */
  var csrf = function () {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  };

  /* The message of an error response: problem+json "detail" (with field/file/row), else the text. */
  function problemText(status, text) {
    try {
      var p = JSON.parse(text);
      var col = p.column != null ? "column " + p.column : null;
      var where = [p.file, p.row != null ? "row " + p.row : null, col, p.field ? "field " + p.field : null]
        .filter(Boolean).join(", ");
      return (p.title ? p.title + ": " : "") + (p.detail || text) + (where ? " (" + where + ")" : "");
    } catch (e) {
      return "HTTP " + status + (text ? ": " + text.slice(0, 300) : "");
    }
  }

  /* fetch() a JSON API; resolves with the parsed body, rejects with Error(problem detail). */
  function api(method, url, body) {
    var headers = {"Accept": "application/json"};
    if (method !== "GET" && csrf()) headers["X-CSRF-Token"] = csrf();
    var init = {method: method, headers: headers, credentials: "same-origin"};
    if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) {
      return r.text().then(function (t) {
        if (!r.ok) {
          var err = new Error(problemText(r.status, t));
          try { err.problem = JSON.parse(t); } catch (e) { err.problem = null; }
          throw err;
        }
        return t ? JSON.parse(t) : {};
      });
    });
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }

  /* <select data-autosubmit>: submit its form on change (no inline handlers: the CSP forbids them). */
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });

  window.Gapmap = {api: api, problemText: problemText, el: el, user: user, csrf: csrf};
})();
