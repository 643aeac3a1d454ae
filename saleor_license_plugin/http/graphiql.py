"""The GraphiQL page served on ``GET graphql/`` (assets from a CDN, pinned)."""

GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>License API · GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3.7.1/graphiql.min.css"
        crossorigin="anonymous">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"
          crossorigin="anonymous"></script>
  <script src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"
          crossorigin="anonymous"></script>
  <script src="https://unpkg.com/graphiql@3.7.1/graphiql.min.js"
          crossorigin="anonymous"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultEditorToolsVisibility: true,
        headers: '{"Authorization": "Bearer <token>"}',
      })
    );
  </script>
</body>
</html>
"""
