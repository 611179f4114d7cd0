// Subscribes to linli with the unmodified graphql-ws client and prints what
// happens as JSON lines: {"event":"next"|"error"|"closed"|"complete", ...}.
// Configured by the environment: LINLI_WS_URL, LINLI_TOKEN, LINLI_ORIGIN,
// LINLI_ACTIVITY and LINLI_TARGET (exit once that many seats are taken).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const env = process.env;
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

class Socket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, env.LINLI_ORIGIN ? { headers: { Origin: env.LINLI_ORIGIN } } : {});
  }
}

const client = createClient({
  url: env.LINLI_WS_URL,
  webSocketImpl: Socket,
  connectionParams: { authToken: env.LINLI_TOKEN },
  lazy: false,
  retryAttempts: 0,
  on: {
    closed: (e) => {
      print({ event: 'closed', code: e.code, reason: e.reason });
      process.exit(0);
    },
    error: (err) => print({ event: 'error', message: String(err && err.message ? err.message : err) }),
  },
});

const target = Number(env.LINLI_TARGET || '0');
client.subscribe(
  {
    query: `subscription($id: ID!) { activityCounts(activityID: $id) { activityID version slots { slotID taken capacity } } }`,
    variables: { id: env.LINLI_ACTIVITY || '0' },
  },
  {
    next: (v) => {
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
