// The kiosk page (/kiosk): a tablet at the door pairs once, picks today's
// activity at its venue and checks people in or out by QR code (camera or
// USB/Bluetooth scanner), by typed code, by name and phone tail, or
// registers walk-ins. Without network it validates codes against the
// activity's check-in list, queues the scans in IndexedDB and uploads them
// with syncCheckIns when the network is back.
import { $, beep, dayBounds, el, gql, GqlError, hhmm, Live, nonce, online, sha256hex, todaysActivities } from './common.js';
import { kv, queue } from './store.js';
import { startCamera } from './camera.js';

const SESSION = 'linli.kiosk';
const ACTIVITY = 'linli.kiosk.activity';

const STATUS = {
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
};

const RESULT_FIELDS = 'status message scannedAt registration { id person { displayName } }';

let session = load(SESSION); // {token, kioskID, name, venueID}
let activity = load(ACTIVITY); // {id, title, startsAt, endsAt, slots}
let kind = 'IN';
let live = null;
let stopCamera = null;
let syncing = null;

function load(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

function save(key, v) {
  if (v == null) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(v));
}

function show(id) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
  document.body.dataset.screen = id;
}

// --- the answer of a scan ---

let resultTimer = null;
function answer(status, { name, message, offline } = {}) {
  const s = STATUS[status] || { tone: 'bad', icon: '✕', title: status };
  const box = $('#result');
  box.dataset.tone = s.tone;
  box.dataset.status = status;
  $('#result-icon').textContent = s.icon;
  const title = s[kind] || s.title;
  $('#result-title').textContent = title + (offline && status === 'OK' ? '（离线记录）' : '');
  $('#result-name').textContent = name || '';
  // linli's message says more (a time, seats, hours) unless it is just the title and the name.
  const said = message === `${title}：${name}` || message === title ? '' : message;
  $('#result-message').textContent = offline && status === 'OK' ? '联网后自动上传' : said || '';
  box.hidden = false;
  beep(s.tone);
  clearTimeout(resultTimer);
  resultTimer = setTimeout(hideAnswer, 3000);
}

function hideAnswer() {
  $('#result').hidden = true;
  focusScanner();
}

function refused(message) {
  const box = $('#result');
  box.dataset.tone = 'bad';
  box.dataset.status = 'ERROR';
  $('#result-icon').textContent = '✕';
  $('#result-title').textContent = '未完成';
  $('#result-name').textContent = '';
  $('#result-message').textContent = message;
  box.hidden = false;
  beep('bad');
  clearTimeout(resultTimer);
  resultTimer = setTimeout(hideAnswer, 4000);
}

let toastTimer = null;
function toast(text) {
  const t = $('#toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 3000);
}

// --- network state and the queue ---

async function showQueue() {
  const n = await queue.count();
  $('#queue-count').textContent = String(n);
  $('#queue').hidden = n === 0;
  const pq = $('#pair-queue');
  pq.hidden = n === 0;
  pq.textContent = n ? `本机还有 ${n} 条离线记录，配对后自动上传。` : '';
  document.body.dataset.queue = String(n);
}

function showNet() {
  const n = $('#net');
  n.dataset.state = online() ? 'online' : 'offline';
  n.textContent = online() ? '在线' : '离线';
}

// sync uploads the queue with syncCheckIns, 100 at a time. A refused
// batch (a scan too old, say) is retried one by one, and a scan linli
// refuses outright is dropped, so one bad scan cannot hold the queue.
function sync() {
  if (!syncing) syncing = doSync().finally(() => (syncing = null));
  return syncing;
}

async function doSync() {
  if (!session || !online()) return;
  const items = await queue.all();
  if (!items.length) return;
  items.sort((a, b) => a.at.localeCompare(b.at));
  const upload = (batch) =>
    gql(
      `mutation Sync($items: [SyncCheckInInput!]!) { syncCheckIns(items: $items) { nonce status message } }`,
      { items: batch.map(({ kind, code, nonce, at, activityID }) => ({ kind, code, nonce, at, activityID })) },
      session.token,
    );
  let done = 0;
  try {
    for (let i = 0; i < items.length; i += 100) {
      const batch = items.slice(i, i + 100);
      try {
        const d = await upload(batch);
        await queue.remove(d.syncCheckIns.map((r) => r.nonce));
        done += d.syncCheckIns.length;
      } catch (e) {
        if (e.code === 'NETWORK' || e.code === 'UNAUTHENTICATED' || batch.length === 1) {
          if (batch.length === 1 && e.code !== 'NETWORK' && e.code !== 'UNAUTHENTICATED') await queue.remove([batch[0].nonce]);
          throw e;
        }
        for (const one of batch) {
          try {
            await upload([one]);
          } catch (e1) {
            if (e1.code === 'NETWORK' || e1.code === 'UNAUTHENTICATED') throw e1;
          }
          await queue.remove([one.nonce]);
          done++;
        }
      }
    }
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') signedOut();
  } finally {
    await showQueue();
  }
  if (done) {
    toast(`已上传 ${done} 条离线记录`);
    if (activity) refreshList();
  }
}

// --- pairing and signing out ---

async function pair(code) {
  $('#pair-error').textContent = '';
  try {
    const d = await gql(`mutation Pair($code: String!) { pairKiosk(code: $code) { token kiosk { id name venueID } } }`, { code });
    const p = d.pairKiosk;
    session = { token: p.token, kioskID: p.kiosk.id, name: p.kiosk.name, venueID: p.kiosk.venueID };
    save(SESSION, session);
    save(ACTIVITY, null);
    activity = null;
    $('#pair-code').value = '';
    start();
  } catch (e) {
    $('#pair-error').textContent =
      e.code === 'NETWORK' ? '网络不可用，请联网后再配对。' : e.code === 'RATE_LIMITED' ? '尝试次数过多，请一分钟后再试。' : '配对码无效、已使用或已过期，请重新生成。';
  }
}

// signedOut forgets the token (revoked, or the kiosk paired with another
// tablet) and shows the pairing screen; queued scans stay for the next
// pairing.
function signedOut() {
  if (!session) return;
  session = null;
  save(SESSION, null);
  save(ACTIVITY, null);
  activity = null;
  if (live) live.stop();
  live = null;
  camera(false);
  $('#kiosk-name').textContent = '';
  $('#pair-error').textContent = '本平板已停用或已在另一台设备上配对，请重新配对。';
  show('pair');
  showQueue();
}

// --- picking the activity ---

async function pick() {
  show('pick');
  let list = null;
  try {
    list = await todaysActivities(session.token, session.venueID);
    await kv.set('activities', { day: dayBounds()[0].toISOString(), list });
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signedOut();
    const cached = await kv.get('activities');
    if (cached && cached.day === dayBounds()[0].toISOString()) list = cached.list;
    if (!list) toast(e.code === 'NETWORK' ? '离线：没有今天活动的缓存' : e.message);
  }
  const box = $('#activities');
  box.replaceChildren();
  $('#pick-empty').hidden = !!(list && list.length);
  for (const a of list || []) {
    box.append(
      el(
        'button.tile',
        { type: 'button', 'data-id': a.id, onclick: () => choose(a) },
        el('span.tile-title', { text: a.title }),
        el('span.tile-time', { text: `${hhmm(a.startsAt)}–${hhmm(a.endsAt)}` + (a.venue ? ` · ${a.venue.name}` : '') }),
      ),
    );
  }
}

function choose(a) {
  activity = a;
  save(ACTIVITY, a);
  scanScreen();
}

// --- the scan screen ---

function scanScreen() {
  show('scan');
  $('#act-title').textContent = activity.title;
  $('#act-time').textContent = `${hhmm(activity.startsAt)}–${hhmm(activity.endsAt)}`;
  setKind(kind);
  const slotSelect = $('#walkin-slot');
  // Attendee slots first: a walk-in is mostly a resident who just came.
  const slots = [...activity.slots].sort((a, b) => (a.kind === 'ATTENDEE' ? 0 : 1) - (b.kind === 'ATTENDEE' ? 0 : 1));
  slotSelect.replaceChildren(...slots.map((s) => el('option', { value: s.id, text: s.name + (s.kind === 'VOLUNTEER' ? '（志愿者）' : '') })));
  live.subscribe(
    'counts',
    `subscription Counts($id: ID!) { activityCounts(activityID: $id) { version slots { slotID capacity taken waitlisted checkedIn } } }`,
    { id: activity.id },
    (d) => counts(d.activityCounts),
  );
  refreshList();
  focusScanner();
}

let listVersion = -1;
function counts(c) {
  let inn = 0;
  let taken = 0;
  for (const s of c.slots) {
    inn += s.checkedIn;
    taken += s.taken;
  }
  $('#count-in').textContent = String(inn);
  $('#count-taken').textContent = String(taken);
  if (c.version !== listVersion) refreshListSoon();
}

let listTimer = null;
function refreshListSoon() {
  clearTimeout(listTimer);
  listTimer = setTimeout(refreshList, 1000);
}

// refreshList keeps the activity's check-in list for offline validation.
async function refreshList() {
  if (!activity || !online()) return;
  const id = activity.id;
  try {
    const d = await gql(
      `query List($id: ID!) { checkInList(activityID: $id) { activityID version opensAt closesAt entries { codeHash registrationID name slotID status } } }`,
      { id },
      session.token,
    );
    listVersion = d.checkInList.version;
    await kv.set('list:' + id, d.checkInList);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') signedOut();
  }
}

function setKind(k) {
  kind = k;
  document.body.dataset.kind = k;
  for (const b of document.querySelectorAll('.mode')) b.setAttribute('aria-checked', String(b.dataset.kind === k));
}

function focusScanner() {
  const i = $('#code-input');
  if (document.body.dataset.screen === 'scan' && !document.querySelector('dialog[open]')) i.focus({ preventScroll: true });
}

// scan checks a code in (or out): online first; without network (or when
// the request does not get through) against the cached list, queued.
async function scan(raw) {
  const code = raw.trim();
  if (!code || !activity) return;
  const item = { kind, code, nonce: nonce(), at: new Date().toISOString(), activityID: activity.id };
  if (online()) {
    try {
      const op = kind === 'IN' ? 'checkIn' : 'checkOut';
      const d = await gql(
        `mutation Scan($input: CheckInInput!) { r: ${op}(input: $input) { ${RESULT_FIELDS} } }`,
        { input: { code, nonce: item.nonce, activityID: activity.id } },
        session.token,
      );
      const r = d.r;
      answer(r.status, { name: r.registration && r.registration.person.displayName, message: r.message });
      if (syncing == null) sync();
      return;
    } catch (e) {
      if (e.code === 'UNAUTHENTICATED') return signedOut();
      if (e.code !== 'NETWORK') return refused(e.message);
      // The request did not get through: decide offline, under the same
      // nonce (a retry of a scan linli did get returns its first answer).
    }
  }
  await offlineScan(item);
}

async function offlineScan(item) {
  const list = await kv.get('list:' + item.activityID);
  const queued = (await queue.all()).filter((q) => q.activityID === item.activityID);
  let status;
  let name = '';
  let entry = null;
  if (list) {
    const hash = await sha256hex('linli-checkin:' + item.activityID + ':' + item.code);
    entry = list.entries.find((e) => e.codeHash === hash);
  }
  if (!list) {
    // Nothing to check against: keep the scan, linli decides on upload.
    status = 'OK';
  } else if (!entry) {
    status = 'UNKNOWN_CODE';
  } else {
    name = entry.name;
    const now = Date.now();
    let st = entry.status;
    for (const q of queued) if (q.code === item.code) st = q.kind === 'IN' ? 'CHECKED_IN' : 'CHECKED_OUT';
    if (item.kind === 'IN' && now < Date.parse(list.opensAt)) status = 'TOO_EARLY';
    else if (now > Date.parse(list.closesAt) && item.kind === 'IN') status = 'TOO_LATE';
    else status = localStatus(item.kind, st);
  }
  if (status === 'OK') {
    await queue.add(item);
    await showQueue();
  }
  answer(status, { name, offline: true, message: status === 'OK' ? '' : '（离线核验）' });
}

// localStatus is the answer to a scan of a registration in state st, as
// the tablet can tell it offline; linli decides again on upload.
function localStatus(k, st) {
  if (k === 'IN') {
    if (st === 'CONFIRMED') return 'OK';
    if (st === 'CHECKED_IN' || st === 'CHECKED_OUT') return 'ALREADY_CHECKED_IN';
  } else {
    if (st === 'CHECKED_IN') return 'OK';
    if (st === 'CHECKED_OUT') return 'ALREADY_CHECKED_OUT';
    if (st === 'CONFIRMED') return 'NOT_CHECKED_IN';
  }
  if (st === 'WAITLISTED' || st === 'PENDING_APPROVAL') return 'NOT_CONFIRMED';
  return 'CANCELLED';
}

async function manual(form) {
  const f = new FormData(form);
  if (!online()) return refused('按姓名签到需要联网');
  try {
    const d = await gql(
      `mutation Manual($input: ManualCheckInInput!) { r: manualCheckIn(input: $input) { ${RESULT_FIELDS} } }`,
      { input: { activityID: activity.id, kind, nonce: nonce(), name: String(f.get('name')).trim(), phoneTail: String(f.get('phoneTail')).trim() } },
      session.token,
    );
    answer(d.r.status, { name: d.r.registration && d.r.registration.person.displayName, message: d.r.message });
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signedOut();
    refused(e.code === 'NOT_FOUND' ? '没有找到这个报名，请核对姓名和手机尾号' : e.message);
  }
}

async function walkIn(form) {
  const f = new FormData(form);
  if (!online()) return refused('现场报名需要联网');
  const input = {
    slotID: f.get('slot'),
    phone: String(f.get('phone')).trim(),
    seats: Number(f.get('seats')) || 1,
    consentSensitive: f.get('consent') === 'on',
    nonce: nonce(),
  };
  const name = String(f.get('displayName') || '').trim();
  if (name) input.displayName = name;
  try {
    const d = await gql(`mutation Walk($input: WalkInInput!) { r: walkIn(input: $input) { ${RESULT_FIELDS} } }`, { input }, session.token);
    answer(d.r.status, { name: d.r.registration && d.r.registration.person.displayName, message: d.r.message });
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signedOut();
    refused(e.message);
  }
}

async function camera(on) {
  const btn = $('#camera-toggle');
  $('#camera-error').textContent = '';
  if (stopCamera) {
    stopCamera();
    stopCamera = null;
  }
  document.body.dataset.camera = 'off';
  btn.textContent = '打开摄像头扫码';
  if (!on) return;
  try {
    stopCamera = await startCamera($('#video'), scan);
    document.body.dataset.camera = 'on';
    btn.textContent = '关闭摄像头';
  } catch (e) {
    $('#camera-error').textContent = navigator.mediaDevices ? '无法打开摄像头：' + (e.message || e.name) : '摄像头需要 HTTPS 访问；可用扫码枪或手动输入。';
  }
}

// --- start ---

function start() {
  showNet();
  showQueue();
  if (!session) {
    show('pair');
    return;
  }
  $('#kiosk-name').textContent = session.name;
  if (live) live.stop();
  live = new Live(session.token, { onForbidden: signedOut });
  sync();
  if (activity) scanScreen();
  else pick();
}

function wire() {
  $('#pair-form').addEventListener('submit', (e) => {
    e.preventDefault();
    pair($('#pair-code').value);
  });
  $('#pick-reload').addEventListener('click', pick);
  $('#change-activity').addEventListener('click', () => {
    camera(false);
    live.unsubscribe('counts');
    activity = null;
    save(ACTIVITY, null);
    pick();
  });
  for (const b of document.querySelectorAll('.mode')) b.addEventListener('click', () => setKind(b.dataset.kind));
  $('#code-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const i = $('#code-input');
    const v = i.value;
    i.value = '';
    scan(v);
  });
  $('#camera-toggle').addEventListener('click', () => camera(!stopCamera));
  $('#result').addEventListener('click', hideAnswer);
  $('#open-manual').addEventListener('click', () => $('#manual').showModal());
  $('#open-walkin').addEventListener('click', () => $('#walkin').showModal());
  for (const [dialog, fn] of [
    ['#manual', manual],
    ['#walkin', walkIn],
  ]) {
    const d = $(dialog);
    d.addEventListener('close', () => {
      const form = d.querySelector('form');
      if (d.returnValue === 'ok') fn(form).finally(() => form.reset());
      else form.reset();
      focusScanner();
    });
  }
  // A scanner types the code and Enter wherever the focus is: outside a
  // form field the keys are collected here.
  let typed = '';
  document.addEventListener('keydown', (e) => {
    if (document.body.dataset.screen !== 'scan' || document.querySelector('dialog[open]')) return;
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === 'Enter') {
      if (typed) scan(typed);
      typed = '';
    } else if (e.key.length === 1) typed += e.key;
  });
  addEventListener('online', () => {
    showNet();
    sync();
    if (activity) refreshList();
  });
  addEventListener('offline', showNet);
  setInterval(() => online() && sync(), 15000);
}

if ('serviceWorker' in navigator) navigator.serviceWorker.register('/kiosk-sw.js').catch(() => {});
wire();
start();
