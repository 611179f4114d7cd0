// The kiosk page (/kiosk): a tablet at the door pairs once, picks today's
// activity at its venue and checks people in or out by QR code (camera or
// USB/Bluetooth scanner), by typed code, by name and phone tail, or
// registers walk-ins. Without network it validates codes against the
// activity's check-in list, queues the scans in IndexedDB and uploads them
// with syncCheckIns when the network is back.
import { $, beep, dayKey, dayLabel, el, gql, hhmm, Live, nonce, online, prefs, say, sha256hex, STATUS, todaysActivities } from './common.js';
import { drawQR } from './qr.js';
import { kv, queue } from './store.js';
import { startCamera } from './camera.js';

const SESSION = 'linli.kiosk';
const ACTIVITY = 'linli.kiosk.activity';


const RESULT_FIELDS = 'status message scannedAt registration { id person { displayName } }';

const RECENT = 'linli.kiosk.recent';
const MAX_RECENT = 20;

let session = load(SESSION); // {token, kioskID, name, venueID}
let activity = load(ACTIVITY); // {id, title, startsAt, endsAt, slots, day}
// The last scans on this tablet, newest first: {at, kind, status, name, registrationID, undone}.
let recent = load(RECENT) || [];
let kind = 'IN';
// reachable is whether linli answered lately (the browser may think it is
// online while the server is down or the Wi-Fi has no route).
let reachable = true;
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
function answer(status, { name, message, offline, title: asked } = {}) {
  const s = STATUS[status] || { tone: 'bad', icon: '✕', title: status };
  const box = $('#result');
  box.dataset.tone = s.tone;
  box.dataset.status = status;
  $('#result-icon').textContent = s.icon;
  const title = asked || s[kind] || s.title;
  $('#result-title').textContent = title + (offline && status === 'OK' ? '（离线记录）' : '');
  $('#result-name').textContent = name || '';
  // linli's message says more (a time, seats, hours) unless it is just the title and the name.
  const said = message === `${title}：${name}` || message === title ? '' : message;
  $('#result-message').textContent = offline && status === 'OK' ? '联网后自动上传' : said || '';
  box.hidden = false;
  beep(s.tone);
  say([title, name].filter(Boolean).join('，'));
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
  say('未完成，' + message);
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
  const up = online() && reachable;
  n.dataset.state = up ? 'online' : 'offline';
  n.textContent = up ? '● 在线' : online() ? '✕ 连不上服务器' : '✕ 离线';
}

// heard records whether a request to linli got through.
function heard(ok) {
  if (reachable === ok) return;
  reachable = ok;
  showNet();
}

// api is gql with the tablet's token, noting whether linli answered.
async function api(query, variables) {
  try {
    const d = await gql(query, variables, session.token);
    heard(true);
    return d;
  } catch (e) {
    heard(e.code !== 'NETWORK');
    throw e;
  }
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
    api(
      `mutation Sync($items: [SyncCheckInInput!]!) { syncCheckIns(items: $items) { nonce status message } }`,
      { items: batch.map(({ kind, code, nonce, at, activityID }) => ({ kind, code, nonce, at, activityID })) },
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

// pairingCode reads a pairing code from what was typed or scanned: the
// code itself (any case, with or without the dash) or the URL staff's
// pairing QR carries (/kiosk#pair=CODE).
function pairingCode(text) {
  const m = /(?:#pair=)?([2-9a-hj-np-z]{4})-?([2-9a-hj-np-z]{4})\s*$/i.exec(String(text).trim());
  return m ? `${m[1]}-${m[2]}`.toUpperCase() : null;
}

async function pair(typed) {
  $('#pair-error').textContent = '';
  const code = pairingCode(typed);
  if (!code) {
    $('#pair-error').textContent = '配对码应为 8 位字母数字，如 ABCD-EFGH。';
    return;
  }
  try {
    const d = await gql(`mutation Pair($code: String!) { pairKiosk(code: $code) { token kiosk { id name venueID } } }`, { code });
    const p = d.pairKiosk;
    session = { token: p.token, kioskID: p.kiosk.id, name: p.kiosk.name, venueID: p.kiosk.venueID };
    save(SESSION, session);
    save(ACTIVITY, null);
    activity = null;
    $('#pair-code').value = '';
    pairCamera(false);
    start();
  } catch (e) {
    $('#pair-error').textContent =
      e.code === 'NETWORK' ? '网络不可用，请联网后再配对。' : e.code === 'RATE_LIMITED' ? '尝试次数过多，请一分钟后再试。' : '配对码无效、已使用或已过期，请重新生成。';
  }
}

// pairCamera scans staff's pairing QR with the tablet's camera.
let stopPairCamera = null;
async function pairCamera(on) {
  if (stopPairCamera) stopPairCamera();
  stopPairCamera = null;
  document.body.dataset.pairCamera = 'off';
  $('#pair-scan').textContent = '扫描配对二维码';
  if (!on) return;
  let busy = false;
  try {
    stopPairCamera = await startCamera($('#pair-video'), async (text) => {
      if (busy || !pairingCode(text)) return;
      busy = true;
      await pair(text);
      busy = false;
    });
    document.body.dataset.pairCamera = 'on';
    $('#pair-scan').textContent = '关闭摄像头';
  } catch (e) {
    $('#pair-error').textContent = navigator.mediaDevices ? '无法打开摄像头：' + (e.message || e.name) : '摄像头需要 HTTPS 访问，请输入配对码。';
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
  selfQR(false);
  $('#kiosk-name').textContent = '';
  $('#pair-error').textContent = '本平板已停用或已在另一台设备上配对，请重新配对。';
  show('pair');
  showQueue();
}

// --- picking the activity ---

async function pick() {
  show('pick');
  let list = null;
  const day = dayKey();
  try {
    list = await todaysActivities(session.token, session.venueID);
    heard(true);
    await kv.set('activities', { day, list });
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signedOut();
    heard(e.code !== 'NETWORK');
    const cached = await kv.get('activities');
    if (cached && cached.day === day) list = cached.list;
    if (!list) toast(e.code === 'NETWORK' ? '离线：没有今天活动的缓存' : e.message);
  }
  // Only this venue's (a kiosk's token reads its community's activities).
  list = (list || []).filter((a) => !session.venueID || !a.venue || a.venue.id === session.venueID);
  const box = $('#activities');
  box.replaceChildren();
  $('#pick-empty').hidden = list.length > 0;
  for (const a of list) {
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
  activity = { ...a, day: dayKey() };
  save(ACTIVITY, activity);
  scanScreen();
}

// newDay drops a choice made on another day (a tablet left on overnight,
// or reopened the next morning) and offers today's activities.
function newDay() {
  $('#today').textContent = dayLabel();
  if (!session || !activity || activity.day === dayKey()) return false;
  camera(false);
  selfQR(false);
  if (live) live.unsubscribe('counts');
  activity = null;
  save(ACTIVITY, null);
  recent = [];
  save(RECENT, null);
  pick();
  toast('新的一天：请选择今天的活动');
  return true;
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
  renderRecent();
  fromList();
  refreshList();
  focusScanner();
}

let listVersion = -1;
let liveCounts = false;
function counts(c) {
  let inn = 0;
  let taken = 0;
  for (const s of c.slots) {
    inn += s.checkedIn;
    taken += s.taken;
  }
  liveCounts = true;
  heard(true);
  showCounts(inn, taken);
  if (c.version !== listVersion) refreshListSoon();
}

function showCounts(inn, taken) {
  $('#count-in').textContent = String(inn);
  $('#count-taken').textContent = String(taken);
}

// fromList shows what the cached check-in list and the queue say: the
// counts while no live ones came (offline, after a reload) and who has
// not arrived yet.
async function fromList() {
  if (!activity) return;
  const list = await kv.get('list:' + activity.id);
  if (!list) return;
  const queued = new Set();
  for (const q of await queue.all()) if (q.activityID === activity.id && q.kind === 'IN') queued.add(await sha256hex('linli-checkin:' + activity.id + ':' + q.code));
  let inn = 0;
  let taken = 0;
  const missing = [];
  for (const e of list.entries) {
    if (!['CONFIRMED', 'CHECKED_IN', 'CHECKED_OUT'].includes(e.status)) continue;
    taken += e.seats;
    if (e.status !== 'CONFIRMED' || queued.has(e.codeHash)) inn += e.seats;
    else missing.push(e);
  }
  if (!liveCounts || !online() || !reachable) showCounts(inn, taken);
  $('#missing-count').textContent = String(missing.length);
  $('#missing').replaceChildren(
    ...missing.map((e) => el('li', { 'data-registration': e.registrationID }, el('span.name', { text: e.name }), el('span.what', { text: e.slotName }))),
  );
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
    const d = await api(
      `query List($id: ID!) { checkInList(activityID: $id) { activityID version opensAt closesAt entries { codeHash registrationID name slotID slotName seats status } } }`,
      { id },
    );
    listVersion = d.checkInList.version;
    await kv.set('list:' + id, d.checkInList);
    fromList();
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') signedOut();
  }
}

function setKind(k) {
  kind = k;
  document.body.dataset.kind = k;
  for (const b of document.querySelectorAll('.mode')) b.setAttribute('aria-checked', String(b.dataset.kind === k));
  $('#mode-banner').textContent = k === 'IN' ? '→ 签到模式（入场）' : '← 签退模式（离场）';
}

function focusScanner() {
  const i = $('#code-input');
  if (document.body.dataset.screen === 'scan' && !document.querySelector('dialog[open]')) i.focus({ preventScroll: true });
}

// --- the last scans, and undoing a mistaken one ---

function remember(status, { name, registrationID, offline }) {
  recent.unshift({ at: new Date().toISOString(), kind, status, name: name || '', registrationID: registrationID || null, offline: !!offline });
  recent.length = Math.min(recent.length, MAX_RECENT);
  save(RECENT, recent);
  renderRecent();
}

function renderRecent() {
  const mine = recent;
  $('#recent').replaceChildren(
    ...mine.map((r, i) => {
      const s = STATUS[r.status] || { icon: '✕', title: r.status };
      const title = r.status === 'OK' ? (r.kind === 'IN' ? '签到' : '签退') : s.title;
      const canUndo = r.status === 'OK' && r.registrationID && !r.offline && !r.undone;
      return el(
        'li',
        { 'data-status': r.status, 'data-undone': r.undone ? 'true' : null },
        el('span.at', { text: hhmm(r.at) }),
        el('span.icon', { text: r.undone ? '↶' : s.icon, 'aria-hidden': 'true' }),
        el('span.what', { text: (r.undone ? '已撤销 · ' : '') + title }),
        el('span.name', { text: r.name }),
        canUndo ? el('button.undo', { type: 'button', text: '撤销', onclick: () => undo(i) }) : null,
      );
    }),
  );
}

async function undo(i) {
  const r = recent[i];
  if (!r || !confirm(`撤销「${r.name}」的${r.kind === 'IN' ? '签到' : '签退'}？`)) return focusScanner();
  try {
    await api(`mutation Undo($r: ID!) { undoCheckIn(registrationID: $r, reason: "签到台撤销误扫") { id status } }`, { r: r.registrationID });
    r.undone = true;
    save(RECENT, recent);
    renderRecent();
    toast(`已撤销「${r.name}」的${r.kind === 'IN' ? '签到' : '签退'}`);
    refreshListSoon();
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signedOut();
    refused(e.code === 'FORBIDDEN' ? '只能撤销本平板 10 分钟内的扫码，请联系工作人员' : e.message);
  }
  focusScanner();
}

// scan checks a code in (or out): online first; without network (or when
// the request does not get through) against the cached list, queued.
// Codes are upper case: one typed in lower case is the same code.
async function scan(raw) {
  const code = raw.trim().toUpperCase();
  if (!code || !activity) return;
  const item = { kind, code, nonce: nonce(), at: new Date().toISOString(), activityID: activity.id };
  if (online()) {
    try {
      const op = kind === 'IN' ? 'checkIn' : 'checkOut';
      const d = await api(`mutation Scan($input: CheckInInput!) { r: ${op}(input: $input) { ${RESULT_FIELDS} } }`, {
        input: { code, nonce: item.nonce, activityID: activity.id },
      });
      const r = d.r;
      const name = r.registration && r.registration.person.displayName;
      answer(r.status, { name, message: r.message });
      remember(r.status, { name, registrationID: r.registration && r.registration.id });
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
    fromList();
  }
  answer(status, { name, offline: true, message: status === 'OK' ? '' : '（离线核验）' });
  remember(status, { name, registrationID: entry && entry.registrationID, offline: true });
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

// --- by name: a search listing the matches, then one tap ---

async function search(query) {
  const box = $('#matches');
  const q = query.trim();
  box.replaceChildren();
  $('#search-empty').hidden = true;
  if (!q) return;
  if (!online()) {
    $('#search-empty').textContent = '按姓名查找需要联网';
    $('#search-empty').hidden = false;
    return;
  }
  try {
    const d = await api(
      `query Search($a: ID!, $q: String!) { checkInSearch(activityID: $a, query: $q) { registration { id } maskedName phoneTail status } }`,
      { a: activity.id, q },
    );
    if ($('#search-input').value.trim() !== q) return; // typed on meanwhile
    const found = d.checkInSearch;
    $('#search-empty').textContent = `没有找到「${q}」的报名，请核对姓名或手机尾号`;
    $('#search-empty').hidden = found.length > 0;
    box.replaceChildren(
      ...found.map((m) =>
        el(
          'li',
          {},
          el(
            'button.match',
            { type: 'button', 'data-registration': m.registration.id, onclick: () => manual(m) },
            el('span.name', { text: m.maskedName }),
            el('span.tail', { text: `尾号 ${m.phoneTail}` }),
            el('span.what', { text: MATCH_STATUS[m.status] || m.status }),
          ),
        ),
      ),
    );
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signedOut();
    $('#search-empty').textContent = e.message;
    $('#search-empty').hidden = false;
  }
}

const MATCH_STATUS = { CONFIRMED: '未到', CHECKED_IN: '已签到', CHECKED_OUT: '已签退', WAITLISTED: '候补', PENDING_APPROVAL: '待审核', CANCELLED: '已取消' };

async function manual(m) {
  $('#manual').close('picked');
  try {
    const d = await api(`mutation Manual($input: ManualCheckInInput!) { r: manualCheckIn(input: $input) { ${RESULT_FIELDS} } }`, {
      input: { activityID: activity.id, kind, nonce: nonce(), registrationID: m.registration.id },
    });
    const name = (d.r.registration && d.r.registration.person.displayName) || m.maskedName;
    // Not a code that was refused: the person found is not (or no longer) registered.
    answer(d.r.status, { name, message: d.r.message, title: d.r.status === 'UNKNOWN_CODE' ? '没有找到报名' : undefined });
    remember(d.r.status, { name, registrationID: d.r.registration ? d.r.registration.id : m.registration.id });
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
    const d = await api(`mutation Walk($input: WalkInInput!) { r: walkIn(input: $input) { ${RESULT_FIELDS} } }`, { input });
    const who = d.r.registration && d.r.registration.person.displayName;
    answer(d.r.status, { name: who, message: d.r.message });
    remember(d.r.status, { name: who, registrationID: d.r.registration && d.r.registration.id });
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

// --- self check-in: a QR for residents' phones, renewed as linli rotates it ---

let selfTimer = null;
async function selfQR(on) {
  clearTimeout(selfTimer);
  selfTimer = null;
  $('#self-panel').hidden = !on;
  $('#self-toggle').setAttribute('aria-pressed', String(!!on));
  if (!on || !activity) return;
  try {
    const d = await api(`query Self($a: ID!) { selfCheckInCode(activityID: $a) { url code expiresAt rotatesInSeconds } }`, { a: activity.id });
    const c = d.selfCheckInCode;
    const url = new URL(c.url, location.origin).href;
    drawQR($('#self-qr'), url, 6);
    $('#self-panel').dataset.url = url;
    $('#self-hint').textContent = '用手机扫码自助签到（需登录）· 二维码每 30 秒更新';
    const next = Math.max(1, Number(c.rotatesInSeconds) || 30);
    selfTimer = setTimeout(() => selfQR(true), next * 1000);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signedOut();
    $('#self-hint').textContent = e.code === 'NETWORK' ? '离线：自助签到暂不可用' : e.message;
    selfTimer = setTimeout(() => selfQR(true), 10000);
  }
}

// --- start ---

function start() {
  showNet();
  showQueue();
  $('#today').textContent = dayLabel();
  if (!session) {
    show('pair');
    const code = pairingCode(location.hash);
    if (code) {
      history.replaceState(null, '', location.pathname);
      pair(code);
    }
    return;
  }
  $('#kiosk-name').textContent = session.name;
  if (live) live.stop();
  live = new Live(session.token, {
    onForbidden: signedOut,
    onState: (st) => {
      if (st === 'connected') heard(true);
      else if (st === 'closed' && online()) heard(false);
    },
  });
  sync();
  if (activity && activity.day !== dayKey()) newDay();
  else if (activity) scanScreen();
  else pick();
}

function wire() {
  prefs.wire('large', $('#large-toggle'));
  prefs.wire('speak', $('#speak-toggle'));
  $('#pair-form').addEventListener('submit', (e) => {
    e.preventDefault();
    pair($('#pair-code').value);
  });
  $('#pair-scan').addEventListener('click', () => pairCamera(!stopPairCamera));
  $('#pick-reload').addEventListener('click', pick);
  $('#change-activity').addEventListener('click', () => {
    camera(false);
    selfQR(false);
    live.unsubscribe('counts');
    activity = null;
    liveCounts = false;
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
  $('#self-toggle').addEventListener('click', () => selfQR($('#self-panel').hidden));
  // The panel floats over the page; a tap on it puts it away.
  $('#self-panel').addEventListener('click', () => selfQR(false));
  $('#result').addEventListener('click', hideAnswer);
  $('#open-manual').addEventListener('click', () => {
    $('#matches').replaceChildren();
    $('#search-empty').hidden = true;
    $('#search-form').reset();
    $('#manual').showModal();
  });
  let searchTimer = null;
  $('#search-input').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search($('#search-input').value), 250);
  });
  $('#search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search($('#search-input').value);
  });
  $('#manual').addEventListener('close', focusScanner);
  $('#open-walkin').addEventListener('click', () => $('#walkin').showModal());
  const d = $('#walkin');
  d.addEventListener('close', () => {
    const form = d.querySelector('form');
    if (d.returnValue === 'ok') walkIn(form).finally(() => form.reset());
    else form.reset();
    focusScanner();
  });
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
  // The date on screen, and a choice of yesterday dropped, as the day turns.
  setInterval(newDay, 30000);
}

if ('serviceWorker' in navigator) navigator.serviceWorker.register('/kiosk-sw.js').catch(() => {});
wire();
start();
