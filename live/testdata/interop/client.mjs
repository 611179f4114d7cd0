// Subscribes to linli with the unmodified graphql-ws client and prints what
// happens as JSON lines: {"event":"next"|"error"|"closed"|"connected"|"complete", ...}.
// Configured by the environment: LINLI_WS_URL, LINLI_TOKEN, LINLI_ORIGIN,
// LINLI_ACTIVITY and LINLI_TARGET (exit once that many seats are taken).
// With LINLI_QUERY (and LINLI_VARS, JSON) it runs that subscription instead,
// printing each result's data as "feed" and exiting after LINLI_EXIT_AFTER
// results; LINLI_RETRY sets how often the client reconnects (default never).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const env = process.env;
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

class Socket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, env.LINLI_ORIGIN ? { headers: { Origin: env.LINLI_ORIGIN } } : {});
  }
}

const retries = Number(env.LINLI_RETRY || '0');
const client = createClient({
  url: env.LINLI_WS_URL,
  webSocketImpl: Socket,
  connectionParams: { authToken: env.LINLI_TOKEN },
  lazy: false,
  retryAttempts: retries,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
  on: {
    // Reported only when reconnecting is on, where tests follow it.
    connected: () => retries > 0 && print({ event: 'connected' }),
    closed: (e) => {
      print({ event: 'closed', code: e.code, reason: e.reason });
      if (retries === 0) process.exit(0);
    },
    error: (err) => print({ event: 'error', message: String(err && err.message ? err.message : err) }),
  },
});

const target = Number(env.LINLI_TARGET || '0');
const exitAfter = Number(env.LINLI_EXIT_AFTER || '0');
let results = 0;
client.subscribe(
  env.LINLI_QUERY
    ? { query: env.LINLI_QUERY, variables: JSON.parse(env.LINLI_VARS || '{}') }
    : {
        query: `subscription($id: ID!) { activityCounts(activityID: $id) { activityID version slots { slotID taken capacity } } }`,
        variables: { id: env.LINLI_ACTIVITY || '0' },
      },
  {
    next: (v) => {
      if (env.LINLI_QUERY) {
        print({ event: 'next', feed: v.data, errors: v.errors });
        results++;
        if (exitAfter && results >= exitAfter) {
          client.dispose();
          process.exit(0);
        }
        return;
      }
      print({ event: 'next', data: v.data, errors: v.errors });
      if (v.data && v.data.activityCounts.slots[0].taken >= target) {
        client.dispose();
        process.exit(0);
      }
    },
    error: (err) => print({ event: 'error', message: JSON.stringify(err) }),
    complete: () => print({ event: 'complete' }),
  },
);

setTimeout(() => {
  print({ event: 'timeout' });
  process.exit(2);
}, 20000);
