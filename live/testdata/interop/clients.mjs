// Runs a query, a mutation and a subscription that sees the mutation's change
// through each unmodified client family, one after another, and prints one
// JSON line per family: {"client", "query", "vars", "mutation", "before", "after"}
// (the data each step answered) or {"client", "error"}.
// Configured by the environment: LINLI_HTTP_URL, LINLI_WS_URL, LINLI_TOKENS
// (one bearer token per family, comma-separated, in the order below),
// LINLI_ACTIVITY and LINLI_SLOT.
import WebSocket from 'ws';
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client as UrqlClient, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import stws from 'subscriptions-transport-ws';

// urql aborts a fetch once its result is in, and Node's fetch then rejects
// the finished response's body with an AbortError nobody awaits: not a
// failure of the exchange. Anything else still ends the process.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (err) => {
    if (err && err.name === 'AbortError') return;
    console.error(err);
    process.exit(1);
  });
}

const env = process.env;
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const tokens = env.LINLI_TOKENS.split(',');
const activity = env.LINLI_ACTIVITY;
const slot = env.LINLI_SLOT;

const viewerQuery = `query { viewer { id displayName } }`;
// An Int variable: urql sends it over GET, in the query string.
const activitiesQuery = `query U($first: Int!) { activities(first: $first) { totalCount } }`;
const signUp = `mutation($slot: ID!) { signUp(input: {slotID: $slot}) { outcome registration { id status } } }`;
const counts = `subscription($id: ID!) { activityCounts(activityID: $id) { activityID version slots { slotID taken } } }`;

// results turns push callbacks into an awaitable queue.
function results() {
  const queue = [];
  const waiting = [];
  return {
    push(v) {
      const w = waiting.shift();
      if (w) w(v);
      else queue.push(v);
    },
    next() {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const within = (p, what) =>
  Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('timed out: ' + what)), 8000))]);

// family runs the three steps with ops = {query, mutate, subscribe, close}.
async function family(name, ops) {
  try {
    const query = await within(ops.query(viewerQuery), 'query');
    const vars = await within(ops.query(activitiesQuery, { first: 20 }), 'query with variables');
    const sub = results();
    const stop = ops.subscribe(counts, { id: activity }, (r) => sub.push(r));
    const before = await within(sub.next(), 'first counts');
    const taken = before.data.activityCounts.slots[0].taken;
    const mutation = await within(ops.mutate(signUp, { slot }), 'mutation');
    let after;
    do {
      after = await within(sub.next(), 'counts after the sign-up');
    } while (after.data && after.data.activityCounts.slots[0].taken <= taken);
    stop();
    print({ client: name, query, vars, mutation, before, after });
  } catch (err) {
    print({ client: name, error: String(err && err.stack ? err.stack : JSON.stringify(err)) });
  } finally {
    await ops.close();
  }
}

class Socket extends WebSocket {}

async function graphqlWS(token) {
  const client = createWSClient({ url: env.LINLI_WS_URL, webSocketImpl: Socket, connectionParams: { authToken: token }, retryAttempts: 0 });
  const once = (query, variables) =>
    new Promise((resolve, reject) => {
      let last;
      client.subscribe({ query, variables }, { next: (v) => (last = v), error: reject, complete: () => resolve(last) });
    });
  await family('graphql-ws', {
    query: once,
    mutate: once,
    subscribe: (query, variables, push) => client.subscribe({ query, variables }, { next: push, error: (e) => push({ error: e }), complete: () => {} }),
    close: () => client.dispose(),
  });
}

async function apollo(token) {
  const ws = createWSClient({ url: env.LINLI_WS_URL, webSocketImpl: Socket, connectionParams: { authToken: token }, retryAttempts: 0 });
  const http = new ApolloClient({
    link: new HttpLink({ uri: env.LINLI_HTTP_URL, headers: { Authorization: 'Bearer ' + token } }),
    cache: new InMemoryCache(),
  });
  const live = new ApolloClient({ link: new GraphQLWsLink(ws), cache: new InMemoryCache() });
  await family('apollo', {
    query: async (q, variables) => ({ data: (await http.query({ query: gql(q), variables })).data }),
    mutate: async (q, variables) => ({ data: (await http.mutate({ mutation: gql(q), variables })).data }),
    subscribe: (q, variables, push) => {
      const s = live.subscribe({ query: gql(q), variables }).subscribe({ next: push, error: (e) => push({ error: e }) });
      return () => s.unsubscribe();
    },
    close: async () => {
      http.stop();
      live.stop();
      await ws.dispose();
    },
  });
}

async function urql(token) {
  const ws = createWSClient({ url: env.LINLI_WS_URL, webSocketImpl: Socket, connectionParams: { authToken: token }, retryAttempts: 0 });
  const client = new UrqlClient({
    url: env.LINLI_HTTP_URL,
    fetchOptions: { headers: { Authorization: 'Bearer ' + token } },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query || '' }, sink) }),
        }),
      }),
    ],
  });
  const plain = (r) => {
    if (r.error) throw r.error;
    return { data: r.data };
  };
  await family('urql', {
    query: async (q, v) => plain(await client.query(q, v || {}, { requestPolicy: 'network-only' }).toPromise()),
    mutate: async (q, v) => plain(await client.mutation(q, v).toPromise()),
    subscribe: (q, v, push) => {
      const s = client.subscription(q, v).subscribe((r) => push(r.error ? { error: r.error } : { data: r.data }));
      return () => s.unsubscribe();
    },
    close: () => ws.dispose(),
  });
}

// urql as it comes: the documented exchanges and no option changed but
// fetchSubscriptions, which lets fetchExchange carry subscriptions (over
// Server-Sent Events). Queries then go as GET, and every operation asks for
// "application/graphql-response+json, application/graphql+json,
// application/json, text/event-stream, multipart/mixed".
async function urqlDefaults(token) {
  const client = new UrqlClient({
    url: env.LINLI_HTTP_URL,
    exchanges: [cacheExchange, fetchExchange],
    fetchSubscriptions: true,
    fetchOptions: { headers: { Authorization: 'Bearer ' + token } },
  });
  const plain = (r) => {
    if (r.error) throw r.error;
    return { data: r.data };
  };
  await family('urql-defaults', {
    query: async (q, v) => plain(await client.query(q, v || {}).toPromise()),
    mutate: async (q, v) => plain(await client.mutation(q, v).toPromise()),
    subscribe: (q, v, push) => {
      const s = client.subscription(q, v).subscribe((r) => push(r.error ? { error: r.error } : { data: r.data }));
      return () => s.unsubscribe();
    },
    close: () => {},
  });
}

async function legacy(token) {
  const client = new stws.SubscriptionClient(env.LINLI_WS_URL, { connectionParams: { authToken: token }, reconnect: false }, WebSocket);
  const once = (query, variables) =>
    new Promise((resolve, reject) => {
      let last;
      client.request({ query, variables }).subscribe({ next: (v) => (last = v), error: reject, complete: () => resolve(last) });
    });
  await family('subscriptions-transport-ws', {
    query: once,
    mutate: once,
    subscribe: (query, variables, push) => {
      const s = client.request({ query, variables }).subscribe({ next: push, error: (e) => push({ error: e }) });
      return () => s.unsubscribe();
    },
    close: () => client.close(),
  });
}

async function sse(token, singleConnection) {
  const client = createSSEClient({ url: env.LINLI_HTTP_URL, headers: { Authorization: 'Bearer ' + token }, singleConnection, retryAttempts: 0 });
  const once = (query, variables) =>
    new Promise((resolve, reject) => {
      let last;
      client.subscribe({ query, variables }, { next: (v) => (last = v), error: reject, complete: () => resolve(last) });
    });
  await family(singleConnection ? 'graphql-sse-single' : 'graphql-sse-distinct', {
    query: once,
    mutate: once,
    subscribe: (query, variables, push) => client.subscribe({ query, variables }, { next: push, error: (e) => push({ error: e }), complete: () => {} }),
    close: () => client.dispose(),
  });
}

const families = [graphqlWS, apollo, urql, urqlDefaults, legacy, (t) => sse(t, false), (t) => sse(t, true)];
for (let i = 0; i < families.length; i++) {
  await families[i](tokens[i]);
}
process.exit(0);
