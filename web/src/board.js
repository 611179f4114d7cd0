// The live board (/board): today's activities of a venue or of the whole
// community, each slot's seats taken / capacity and waitlist, arrivals as a
// bar, and a rolling list of the latest check-ins (masked names), updated
// over graphql-ws. It opens with a pairing code of a kiosk registered for
// the screen, or a staff member's token, entered once; the token is kept in
// localStorage.
import { $, el, gql, hhmm, Live, todaysActivities } from './common.js';

const TOKEN = 'linli.board.token';
const SCOPE = 'linli.board.venue';
const MAX_ARRIVALS = 12;

let token = localStorage.getItem(TOKEN);
let live = null;
let activities = [];
// per activity: {counts, seen: Set(registrationID), version}
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
    onForbidden: () => signOut('凭证已失效，请重新输入。'),
    onState: (s) => {
      const n = $('#net');
      n.dataset.state = s === 'connected' ? 'online' : 'offline';
      n.textContent = s === 'connected' ? '实时' : '重新连接中';
    },
  });
  try {
    const d = await gql('{ venues { id name } }', null, token);
    const sel = $('#scope');
    const saved = localStorage.getItem(SCOPE) || '';
    sel.replaceChildren(el('option', { value: '', text: '全部场地' }), ...d.venues.map((v) => el('option', { value: v.id, text: v.name })));
    sel.value = d.venues.some((v) => v.id === saved) ? saved : '';
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signOut('凭证无效，请重新输入。');
  }
  await load();
}

async function load() {
  const venueID = $('#scope').value || null;
  delete document.body.dataset.scope;
  const name = venueID ? $('#scope').selectedOptions[0].textContent : '全部场地';
  $('#board-title').textContent = `今日活动 · ${name}`;
  try {
    activities = await todaysActivities(token, venueID);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signOut('凭证无效，请重新输入。');
    return;
  }
  for (const key of state.keys()) live.unsubscribe(key);
  state.clear();
  arrivals.length = 0;
  renderArrivals();
  $('#empty').hidden = activities.length > 0;
  const box = $('#activities');
  box.replaceChildren(...activities.map(card));
  document.body.dataset.scope = venueID || 'all';
  for (const a of activities) {
    state.set(a.id, { counts: null, seen: null, version: -1 });
    live.subscribe(
      a.id,
      `subscription Counts($id: ID!) { activityCounts(activityID: $id) { version slots { slotID capacity taken waitlisted checkedIn } } }`,
      { id: a.id },
      (d) => update(a, d.activityCounts),
    );
  }
}

function card(a) {
  return el(
    'article.card',
    { 'data-activity': a.id },
    el('h2', { text: a.title }),
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

function update(a, c) {
  const st = state.get(a.id);
  if (!st) return;
  const node = document.querySelector(`[data-activity="${CSS.escape(a.id)}"]`);
  let taken = 0;
  let came = 0;
  for (const s of c.slots) {
    taken += s.taken;
    came += s.checkedIn;
    const row = node.querySelector(`[data-slot="${CSS.escape(s.slotID)}"]`);
    if (!row) continue;
    row.querySelector('.taken').textContent = `${s.taken} / ${s.capacity}`;
    row.querySelector('.taken').dataset.full = String(s.taken >= s.capacity);
    row.querySelector('.waitlisted').textContent = String(s.waitlisted);
    row.querySelector('.checked').textContent = String(s.checkedIn);
  }
  const pct = taken ? Math.round((100 * came) / taken) : 0;
  const fill = node.querySelector('.fill');
  fill.style.width = pct + '%';
  node.querySelector('.bar-label').textContent = `已到 ${came} / ${taken} 人`;
  node.dataset.taken = String(taken);
  node.dataset.arrived = String(came);
  if (c.version !== st.version) {
    st.version = c.version;
    latest(a, st);
  }
}

// latest reads the activity's check-in list (names masked by linli) and
// adds those who came since the last look to the rolling list.
async function latest(a, st) {
  let list;
  try {
    list = (
      await gql(
        `query List($id: ID!) { checkInList(activityID: $id) { entries { registrationID name slotName status } } }`,
        { id: a.id },
        token,
      )
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
    arrivals.unshift({ name: e.name, what: `${a.title} · ${e.slotName}`, at: first ? null : new Date() });
  }
  arrivals.length = Math.min(arrivals.length, MAX_ARRIVALS);
  renderArrivals();
}

function renderArrivals() {
  $('#arrivals').replaceChildren(
    ...arrivals.map((x) => el('li', {}, el('span.name', { text: x.name }), el('span.what', { text: x.what }), el('span.at', { text: x.at ? hhmm(x.at) : '' }))),
  );
}

function tick() {
  $('#clock').textContent = hhmm(new Date());
}

// A pairing code (staff made one for a kiosk registered for this screen
// on /kiosks) is traded for the kiosk's token; anything longer is a token.
const PAIRING_CODE = /^\s*[0-9a-z]{4}-?[0-9a-z]{4}\s*$/i;

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const typed = $('#login-token').value.trim();
  $('#login-token').value = '';
  $('#login-error').textContent = '';
  if (PAIRING_CODE.test(typed)) {
    try {
      token = (await gql(`mutation Pair($code: String!) { pairKiosk(code: $code) { token } }`, { code: typed })).pairKiosk.token;
    } catch (err) {
      $('#login-error').textContent = err.code === 'RATE_LIMITED' ? '尝试次数过多，请一分钟后再试。' : '配对码无效、已使用或已过期，请重新生成。';
      return;
    }
  } else {
    token = typed;
  }
  localStorage.setItem(TOKEN, token);
  open();
});
$('#scope').addEventListener('change', () => {
  localStorage.setItem(SCOPE, $('#scope').value);
  load();
});
$('#logout').addEventListener('click', () => signOut(''));
setInterval(tick, 10000);
tick();
if (token) open();
else show('login');
