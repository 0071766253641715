/* Starts Swagger UI on /api/docs (a file, not an inline script: the Content-Security-Policy forbids those).
   The document's URL comes from <meta name="gapmap-openapi">; with a web sign-in, requests from
   "Try it out" carry the session's CSRF token (writes need it); API clients use "Authorize" (Bearer). */
(function () {
  "use strict";
  var meta = function (name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") : null;
  };
  window.addEventListener("DOMContentLoaded", function () {
    window.ui = window.SwaggerUIBundle({
      url: meta("gapmap-openapi") || "/api/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      docExpansion: "list",
      filter: true,
      persistAuthorization: false,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      requestInterceptor: function (req) {
        var csrf = meta("csrf-token");
        if (csrf && req.method && req.method.toUpperCase() !== "GET") req.headers["X-CSRF-Token"] = csrf;
        return req;
      }
    });
  });
})();
