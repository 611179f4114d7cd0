// What the kiosk and the board share: GraphQL over HTTP and over
// graphql-ws, ids, hashes, sounds and small DOM helpers.
import { createClient } from 'graphql-ws';

export class GqlError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// online says whether the browser thinks it has a network; requests are
// not even tried without one (a tablet at the door keeps working offline).
export const online = () => navigator.onLine !== false;

// gql posts one operation to /graphql with the bearer token, if any, and
// returns its data; a refused token is UNAUTHENTICATED, no network NETWORK.
export async function gql(query, variables, token) {
  if (!online()) throw new GqlError('网络不可用', 'NETWORK', 0);
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new GqlError('网络不可用', 'NETWORK', 0);
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new GqlError('服务器暂时无法响应', res.status >= 500 ? 'NETWORK' : 'INTERNAL', res.status);
  }
  const err = body.errors && body.errors[0];
  if (res.status === 401 || (err && err.extensions && err.extensions.code === 'UNAUTHENTICATED')) {
    throw new GqlError((err && err.message) || '凭证无效', 'UNAUTHENTICATED', 401);
  }
  if (err) throw new GqlError(err.message, (err.extensions && err.extensions.code) || 'INTERNAL', res.status);
  return body.data;
}

// Live is a graphql-ws connection that follows the network: it reconnects
// by itself, is put away while the browser is offline and comes back with
// the network. linli closes a socket with 4403 when its credential ends
// (a kiosk revoked, a session logged out) or changes (roles): the client
// reconnects at once, and when that connection is refused with 4403 too,
// before any acknowledgement, the token is gone and onForbidden is called.
export class Live {
  constructor(token, { onForbidden, onState } = {}) {
    this.token = token;
    this.onForbidden = onForbidden || (() => {});
    this.onState = onState || (() => {});
    this.subs = new Map(); // key -> {query, variables, next, dispose}
    this.client = null;
    this.refusals = 0;
    this.onOnline = () => this.open();
    this.onOffline = () => this.close();
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOffline);
    if (online()) this.open();
  }

  open() {
    if (this.client || this.stopped) return;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
    this.client = createClient({
      url,
      connectionParams: () => ({ authToken: this.token }),
      lazy: false,
      // Errors reach the subscriptions' sinks; the client retries.
      onNonLazyError: () => {},
      keepAlive: 20000,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (n) => new Promise((r) => setTimeout(r, Math.min(300 * 2 ** n, 15000) * (0.5 + Math.random() / 2))),
      on: {
        connected: () => {
          this.refusals = 0;
          this.onState('connected');
        },
        closed: (e) => {
          this.onState('closed');
          // Not from inside the client's own callback: onForbidden disposes it.
          if (e && e.code === 4403 && ++this.refusals >= 2) setTimeout(() => this.onForbidden());
        },
      },
    });
    for (const s of this.subs.values()) this.start(s);
  }

  close() {
    if (!this.client) return;
    for (const s of this.subs.values()) {
      if (s.dispose) s.dispose();
      s.dispose = null;
    }
    const c = this.client;
    this.client = null;
    // dispose rejects when the socket it waits for was refused.
    Promise.resolve(c.dispose()).catch(() => {});
    this.onState('offline');
  }

  stop() {
    this.stopped = true;
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOffline);
    this.close();
    this.subs.clear();
  }

  // subscribe keeps a subscription under key (replacing one of the same
  // key) across reconnections.
  subscribe(key, query, variables, next) {
    this.unsubscribe(key);
    const s = { query, variables, next, dispose: null };
    this.subs.set(key, s);
    if (this.client) this.start(s);
  }

  unsubscribe(key) {
    const s = this.subs.get(key);
    if (s && s.dispose) s.dispose();
    this.subs.delete(key);
  }

  start(s) {
    s.dispose = this.client.subscribe(
      { query: s.query, variables: s.variables },
      {
        next: (msg) => msg.data && s.next(msg.data),
        error: () => {}, // the client reconnects and resubscribes
        complete: () => {},
      },
    );
  }
}

// nonce is 128 random bits in hex (crypto.getRandomValues works on plain
// http too, unlike randomUUID).
export function nonce() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// sha256hex hashes a string: with WebCrypto where the page is a secure
// context, else with the small implementation below (a tablet on a plain
// http address still validates offline).
export async function sha256hex(text) {
  const data = new TextEncoder().encode(text);
  if (globalThis.crypto && crypto.subtle) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  return sha256Fallback(data);
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256Fallback(data) {
  const len = data.length;
  const padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 4, len * 8);
  view.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, '0')).join('');
}

// beep plays a tone per kind of answer (WebAudio; no sound file): one
// short high tone for OK, two middle ones for a warning, one long low
// one for a refusal.
let audio = null;
export function beep(kind) {
  try {
    audio = audio || new AudioContext();
    if (audio.state === 'suspended') audio.resume();
    const tones = { ok: [[880, 0, 0.15]], warn: [[660, 0, 0.12], [660, 0.2, 0.12]], bad: [[220, 0, 0.5]] }[kind] || [];
    const t0 = audio.currentTime + 0.01;
    for (const [f, at, len] of tones) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = f;
      o.type = kind === 'bad' ? 'square' : 'sine';
      g.gain.setValueAtTime(0.25, t0 + at);
      g.gain.exponentialRampToValueAtTime(0.001, t0 + at + len);
      o.connect(g).connect(audio.destination);
      o.start(t0 + at);
      o.stop(t0 + at + len + 0.02);
    }
  } catch {
    // No audio device: the colour says it all.
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);

// el builds an element: el('div.card', {dataset…}, children…).
export function el(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const e = document.createElement(name);
  if (classes.length) e.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

// dayBounds is today's start and end in China Standard Time, the clock of
// the activities.
export function dayBounds(now = new Date()) {
  const cst = 8 * 3600e3;
  const start = new Date(Math.floor((now.getTime() + cst) / 86400e3) * 86400e3 - cst);
  return [start, new Date(start.getTime() + 86400e3)];
}

export function hhmm(t) {
  return new Date(t).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Shanghai' });
}

// todaysActivities lists the published activities of today, of one venue
// when venueID is set.
export async function todaysActivities(token, venueID) {
  const [start, end] = dayBounds();
  const where = { status: 'PUBLISHED', startsAtLT: end.toISOString(), endsAtGTE: start.toISOString() };
  if (venueID) where.venueID = venueID;
  const d = await gql(
    `query Today($where: ActivityWhereInput) {
      activities(first: 50, where: $where, orderBy: {field: STARTS_AT, direction: ASC}) {
        edges { node { id title startsAt endsAt venue { id name } slots { id name kind capacity startsAt endsAt } } }
      }
    }`,
    { where },
    token,
  );
  // Slots in a stable order: attendees first, then by start and name.
  const rank = (s) => [s.kind === 'ATTENDEE' ? 0 : 1, s.startsAt || '', s.name];
  const cmp = (a, b) => {
    const x = rank(a);
    const y = rank(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  };
  return d.activities.edges.map((e) => ({ ...e.node, slots: [...e.node.slots].sort(cmp) }));
}

// dayKey is today's date in China (2026-01-01), to tell a choice made
// yesterday from one of today.
export function dayKey(now = new Date()) {
  return new Date(dayBounds(now)[0].getTime() + 8 * 3600e3).toISOString().slice(0, 10);
}

// dayLabel is today as people read it: 12月7日 星期一.
export function dayLabel(now = new Date()) {
  return now.toLocaleDateString('zh-CN', { month: 'long', day: 'numeric', weekday: 'long', timeZone: 'Asia/Shanghai' });
}

// prefs are the elder-friendly switches of a page (large text, results
// read aloud), kept in localStorage and shown on body[data-large] and
// body[data-speak].
export const prefs = {
  get: (k) => localStorage.getItem('linli.pref.' + k) === 'on',
  set(k, on) {
    localStorage.setItem('linli.pref.' + k, on ? 'on' : 'off');
    document.body.dataset[k] = on ? 'on' : 'off';
  },
  // wire ties a toggle button (aria-pressed) to preference k.
  wire(k, button) {
    const apply = (on) => {
      prefs.set(k, on);
      button.setAttribute('aria-pressed', String(on));
    };
    apply(prefs.get(k));
    button.addEventListener('click', () => apply(!prefs.get(k)));
  },
};

// say reads text aloud in Mandarin when the page's speech switch is on.
export function say(text) {
  if (!prefs.get('speak') || !('speechSynthesis' in globalThis) || !text) return;
  try {
    speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.lang = 'zh-CN';
    u.rate = 0.9;
    speechSynthesis.speak(u);
  } catch {
    // No voice: the screen says it.
  }
}

// STATUS is how the pages show each CheckInStatus: a tone, an icon and a
// title (never the colour alone).
export const STATUS = {
  OK: { tone: 'ok', icon: '✓', IN: '签到成功', OUT: '签退成功' },
  ALREADY_CHECKED_IN: { tone: 'warn', icon: '!', title: '已签到' },
  ALREADY_CHECKED_OUT: { tone: 'warn', icon: '!', title: '已签退' },
  NOT_CHECKED_IN: { tone: 'bad', icon: '✕', title: '尚未签到，不能签退' },
  NOT_CONFIRMED: { tone: 'bad', icon: '✕', title: '报名尚未确认' },
  CANCELLED: { tone: 'bad', icon: '✕', title: '报名已取消' },
  WRONG_ACTIVITY: { tone: 'bad', icon: '✕', title: '不是本活动的签到码' },
  WRONG_VENUE: { tone: 'bad', icon: '✕', title: '不是本场地的活动' },
  TOO_EARLY: { tone: 'bad', icon: '✕', title: '还未到签到时间' },
  TOO_LATE: { tone: 'bad', icon: '✕', title: '签到时间已过' },
  UNKNOWN_CODE: { tone: 'bad', icon: '✕', title: '无效的签到码' },
  NO_TIME_SERVED: { tone: 'warn', icon: '!', title: '本次签退不计时长' },
  CODE_EXPIRED: { tone: 'bad', icon: '✕', title: '二维码已过期' },
};
