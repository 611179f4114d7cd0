// A minimal IndexedDB store for the kiosk: the queue of scans made offline
// (keyed by nonce) and a few cached values (the activities of the day and
// their check-in lists). Each call is one transaction, done when it
// resolves, so a scan acknowledged on screen is on disk.
const NAME = 'linli-kiosk';
let opened = null;

function open() {
  opened =
    opened ||
    new Promise((resolve, reject) => {
      const r = indexedDB.open(NAME, 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore('queue', { keyPath: 'nonce' });
        r.result.createObjectStore('kv');
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  return opened;
}

async function run(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    const req = fn(t.objectStore(store));
    t.oncomplete = () => resolve(req ? req.result : undefined);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export const queue = {
  add: (item) => run('queue', 'readwrite', (s) => s.put(item)),
  all: () => run('queue', 'readonly', (s) => s.getAll()),
  count: () => run('queue', 'readonly', (s) => s.count()),
  remove: (nonces) =>
    run('queue', 'readwrite', (s) => {
      for (const n of nonces) s.delete(n);
    }),
};

export const kv = {
  get: (k) => run('kv', 'readonly', (s) => s.get(k)),
  set: (k, v) => run('kv', 'readwrite', (s) => s.put(v, k)),
};
