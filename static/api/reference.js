// The API reference page: Swagger UI (from npm, served as a static file) on our OpenAPI document.
// "Try it out" from this page uses the browser session, so unsafe methods send the CSRF token.
(function () {
  var root = document.getElementById("reference");
  window.SwaggerUIBundle({
    url: root.dataset.schema,
    domNode: root,
    deepLinking: true,
    requestInterceptor: function (request) {
      request.headers["X-CSRFToken"] = root.dataset.csrf;
      return request;
    },
  });
})();
