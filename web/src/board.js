// The live board (/board): today's activities of a venue or of the whole
// community, each slot's seats taken / capacity and waitlist, arrivals as a
// bar, and a rolling list of the latest check-ins (masked names), updated
// over graphql-ws. It follows the day: an activity published, changed or
// cancelled reaches it over activityFeed, a finished one is marked, and at
// midnight it turns to the new day, all without a reload. It opens with a
// pairing code of a kiosk registered for the screen, entered once and
// traded (pairBoard) for a board token, which only reads what the board
// shows; only that token is kept in localStorage (never a staff member's
// session, which would sit on a hall's TV for weeks).
import { $, dayKey, dayLabel, el, gql, hhmm, Live, todaysActivities } from './common.js';

const TOKEN = 'linli.board.token';
const SCOPE = 'linli.board.venue';
const MAX_ARRIVALS = 12;

let token = localStorage.getItem(TOKEN);
let live = null;
let communityID = null;
let day = dayKey();
// per activity: {a, seen: Set(registrationID), version}
const state = new Map();
const arrivals = [];

function show(id) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
}

function signOut(message) {
  localStorage.removeItem(TOKEN);
  token = null;
  if (live) live.stop();
  live = null;
  $('#login-error').textContent = message || '';
  show('login');
}

async function open() {
  show('wall');
  if (live) live.stop();
  live = new Live(token, {
    onForbidden: () => signOut('凭证已失效，请重新输入配对码。'),
    onState: (s) => {
      const n = $('#net');
      n.dataset.state = s === 'connected' ? 'online' : 'offline';
      n.textContent = s === 'connected' ? '● 实时' : '✕ 重新连接中';
      // Reconnected: what changed meanwhile.
      if (s === 'connected' && document.body.dataset.scope !== undefined) refreshSoon();
    },
  });
  try {
    const d = await gql('{ venues { id name community { id } } }', null, token);
    const sel = $('#scope');
    const saved = localStorage.getItem(SCOPE) || '';
    sel.replaceChildren(el('option', { value: '', text: '全部场地' }), ...d.venues.map((v) => el('option', { value: v.id, text: v.name })));
    sel.value = d.venues.some((v) => v.id === saved) ? saved : '';
    communityID = d.venues.length ? d.venues[0].community.id : null;
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signOut('凭证无效，请重新输入配对码。');
  }
  if (communityID) {
    live.subscribe('feed', `subscription Feed($c: ID!) { activityFeed(communityID: $c) { change activity { id } } }`, { c: communityID }, () =>
      refreshSoon(),
    );
  }
  await load();
}

// load starts over for the chosen scope.
async function load() {
  delete document.body.dataset.scope;
  for (const key of state.keys()) live.unsubscribe(key);
  state.clear();
  arrivals.length = 0;
  renderArrivals();
  $('#activities').replaceChildren();
  await refresh();
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

// refresh reads today's activities again and brings the wall in line:
// new ones added, cancelled (or moved away) ones removed, finished ones
// marked and put last; the counts of those still shown are kept.
async function refresh() {
  const venueID = $('#scope').value || null;
  const name = venueID ? $('#scope').selectedOptions[0].textContent : '全部场地';
  $('#board-title').textContent = `今日活动 · ${name}`;
  $('#board-day').textContent = dayLabel();
  let list;
  try {
    list = await todaysActivities(token, venueID);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signOut('凭证无效，请重新输入配对码。');
    return;
  }
  const now = Date.now();
  const finished = (a) => Date.parse(a.endsAt) <= now;
  list.sort((x, y) => Number(finished(x)) - Number(finished(y)));
  const keep = new Set(list.map((a) => a.id));
  for (const id of [...state.keys()]) {
    if (keep.has(id)) continue;
    live.unsubscribe(id);
    state.delete(id);
  }
  const box = $('#activities');
  const cards = list.map((a) => {
    let node = box.querySelector(`[data-activity="${CSS.escape(a.id)}"]`);
    const st = state.get(a.id);
    if (!node || !st || st.a.updatedKey !== key(a)) {
      const fresh = card(a);
      if (node && st) copyCounts(node, fresh);
      node = fresh;
    }
    node.dataset.finished = String(finished(a));
    return node;
  });
  box.replaceChildren(...cards);
  $('#empty').hidden = list.length > 0;
  for (const a of list) {
    const st = state.get(a.id);
    if (st) {
      st.a = { ...a, updatedKey: key(a) };
      continue;
    }
    state.set(a.id, { a: { ...a, updatedKey: key(a) }, seen: null, version: -1 });
    live.subscribe(
      a.id,
      `subscription Counts($id: ID!) { activityCounts(activityID: $id) { version slots { slotID capacity taken waitlisted checkedIn } } }`,
      { id: a.id },
      (d) => update(a.id, d.activityCounts),
    );
  }
  document.body.dataset.scope = venueID || 'all';
  document.body.dataset.activities = String(list.length);
}

// key is what a card shows of an activity besides its counts.
const key = (a) => JSON.stringify([a.title, a.startsAt, a.endsAt, a.venue && a.venue.name, a.slots.map((s) => [s.id, s.name, s.capacity])]);

function copyCounts(from, to) {
  for (const k of ['taken', 'arrived']) if (from.dataset[k] !== undefined) to.dataset[k] = from.dataset[k];
  to.querySelector('.arrived').replaceWith(from.querySelector('.arrived'));
  for (const row of from.querySelectorAll('[data-slot]')) {
    const r = to.querySelector(`[data-slot="${CSS.escape(row.dataset.slot)}"]`);
    if (r) for (const c of ['.taken', '.waitlisted', '.checked']) r.querySelector(c).replaceWith(row.querySelector(c));
  }
}

function card(a) {
  return el(
    'article.card',
    { 'data-activity': a.id },
    el('h2', {}, el('span', { text: a.title }), el('span.badge', { text: '✓ 已结束' })),
    el('div.when', { text: `${hhmm(a.startsAt)}–${hhmm(a.endsAt)}` + (a.venue ? ` · ${a.venue.name}` : '') }),
    el('div.arrived', {}, el('div.bar', {}, el('div.fill')), el('div.bar-label')),
    el(
      'table.slots',
      {},
      el('thead', {}, el('tr', {}, el('th', { text: '岗位 / 场次' }), el('th', { text: '已报名' }), el('th', { text: '候补' }), el('th', { text: '已到' }))),
      el(
        'tbody',
        {},
        a.slots.map((s) =>
          el(
            'tr',
            { 'data-slot': s.id },
            el('td', { text: s.name + (s.startsAt ? ` ${hhmm(s.startsAt)}` : '') }),
            el('td.taken', { text: `– / ${s.capacity}` }),
            el('td.waitlisted', { text: '–' }),
            el('td.checked', { text: '–' }),
          ),
        ),
      ),
    ),
  );
}

function update(id, c) {
  const st = state.get(id);
  const node = document.querySelector(`[data-activity="${CSS.escape(id)}"]`);
  if (!st || !node) return;
  let taken = 0;
  let came = 0;
  for (const s of c.slots) {
    taken += s.taken;
    came += s.checkedIn;
    const row = node.querySelector(`[data-slot="${CSS.escape(s.slotID)}"]`);
    if (!row) continue;
    row.querySelector('.taken').textContent = `${s.taken} / ${s.capacity}` + (s.taken >= s.capacity ? ' 满' : '');
    row.querySelector('.taken').dataset.full = String(s.taken >= s.capacity);
    row.querySelector('.waitlisted').textContent = String(s.waitlisted);
    row.querySelector('.checked').textContent = String(s.checkedIn);
  }
  const pct = taken ? Math.round((100 * came) / taken) : 0;
  node.querySelector('.fill').style.width = pct + '%';
  node.querySelector('.bar-label').textContent = `已到 ${came} / ${taken} 人`;
  node.dataset.taken = String(taken);
  node.dataset.arrived = String(came);
  if (c.version !== st.version) {
    st.version = c.version;
    latest(id, st);
  }
}

// latest reads the activity's check-in list (names masked by linli) and
// adds those who came since the last look to the rolling list.
async function latest(id, st) {
  let list;
  try {
    list = (
      await gql(`query List($id: ID!) { checkInList(activityID: $id) { entries { registrationID name slotName status } } }`, { id }, token)
    ).checkInList;
  } catch {
    return; // a kiosk of another venue may not read it; the counts still show
  }
  const came = list.entries.filter((e) => e.status === 'CHECKED_IN' || e.status === 'CHECKED_OUT');
  const first = st.seen == null;
  st.seen = st.seen || new Set();
  for (const e of came) {
    if (st.seen.has(e.registrationID)) continue;
    st.seen.add(e.registrationID);
    arrivals.unshift({ name: e.name, what: `${st.a.title} · ${e.slotName}`, at: first ? null : new Date() });
  }
  arrivals.length = Math.min(arrivals.length, MAX_ARRIVALS);
  renderArrivals();
}

// renderArrivals shows as many of the latest check-ins as fit the screen.
function renderArrivals() {
  const ol = $('#arrivals');
  ol.replaceChildren(
    ...arrivals.map((x) => el('li', {}, el('span.name', { text: x.name }), el('span.what', { text: x.what }), el('span.at', { text: x.at ? hhmm(x.at) : '' }))),
  );
  const bottom = ol.closest('aside').getBoundingClientRect().bottom;
  while (ol.lastElementChild && ol.lastElementChild.getBoundingClientRect().bottom > bottom) ol.lastElementChild.remove();
}

function tick() {
  $('#clock').textContent = hhmm(new Date());
  if (!token || document.body.dataset.scope === undefined) return;
  if (dayKey() !== day) {
    // Midnight: a new day, a new list.
    day = dayKey();
    load();
  } else refresh(); // marks the activities that just finished
}

// A pairing code (staff made one for a kiosk registered for this screen
// on /kiosks) is traded for that screen's board token.
const PAIRING_CODE = /^\s*[0-9a-z]{4}-?[0-9a-z]{4}\s*$/i;

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const typed = $('#login-token').value.trim();
  $('#login-token').value = '';
  $('#login-error').textContent = '';
  if (!PAIRING_CODE.test(typed)) {
    $('#login-error').textContent = '请输入 8 位配对码（在“签到平板管理”中为本屏幕生成）。';
    return;
  }
  try {
    token = (await gql(`mutation Pair($code: String!) { pairBoard(code: $code) { token } }`, { code: typed })).pairBoard.token;
  } catch (err) {
    $('#login-error').textContent = err.code === 'RATE_LIMITED' ? '尝试次数过多，请一分钟后再试。' : '配对码无效、已使用或已过期，请重新生成。';
    return;
  }
  localStorage.setItem(TOKEN, token);
  open();
});
$('#scope').addEventListener('change', () => {
  localStorage.setItem(SCOPE, $('#scope').value);
  load();
});
$('#logout').addEventListener('click', () => signOut(''));
addEventListener('resize', renderArrivals);
setInterval(tick, 30000);
$('#clock').textContent = hhmm(new Date());
if (token) open();
else show('login');
