// Renders /openapi.json with the vendored Redoc (clients/docs/vendor, scripts/vendor_docs.sh).
const main = document.getElementById("spec");
window.Redoc.init(main.dataset.spec, { hideDownloadButton: false, expandResponses: "200,201" }, main);
