// Starts GraphiQL (the embedded UMD build) against this server's /graphql,
// subscriptions over graphql-ws on the same host.
(function () {
  const ws = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  const fetcher = GraphiQL.createFetcher({ url: location.origin + '/graphql', subscriptionUrl: ws });
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher, shouldPersistHeaders: false }));
})();
