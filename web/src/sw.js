// The kiosk's service worker: keeps /kiosk, /board and their assets so a
// tablet reloaded or restarted without network still opens the page (its
// queued scans are in IndexedDB). Online, the network answers first and
// refreshes the copy; GraphQL requests are never touched.
const CACHE = 'linli-pages-v1';
const KEPT = ['/kiosk', '/board', '/assets/kiosk.js', '/assets/board.js', '/assets/pages.css'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(KEPT)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || !KEPT.includes(url.pathname)) return;
  e.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      if (navigator.onLine !== false) {
        try {
          const res = await fetch(e.request);
          if (res.ok) await cache.put(url.pathname, res.clone());
          return res;
        } catch {
          // Offline after all: the kept copy below.
        }
      }
      const kept = await cache.match(url.pathname);
      return kept || Response.error();
    })(),
  );
});
