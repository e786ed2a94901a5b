// Renders /asyncapi.json with the vendored AsyncAPI component (scripts/vendor_docs.sh).
const main = document.getElementById("spec");
fetch(main.dataset.spec)
  .then((response) => response.text())
  .then((schema) => {
    window.AsyncApiStandalone.render(
      { schema, config: { show: { sidebar: true, errors: true } } },
      main,
    );
  });
