// Staff's kiosk page (/kiosks): sign in, register a tablet for a venue,
// show a pairing code for it (short-lived, single use; typed, or scanned as
// a QR code by the tablet's camera) and revoke it.
import { $, el, gql } from './common.js';
import { drawQR } from './qr.js';

const TOKEN = 'linli.staff.token';
let token = localStorage.getItem(TOKEN);
let venues = [];
let countdown = null;

function show(id) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
  $('#logout').hidden = id !== 'manage';
}

function failed(e) {
  if (e.code === 'UNAUTHENTICATED') {
    localStorage.removeItem(TOKEN);
    token = null;
    $('#login-error').textContent = '登录已失效，请重新登录。';
    show('login');
    return;
  }
  $('#manage-error').textContent = e.code === 'FORBIDDEN' ? '只有社区工作人员可以管理签到平板。' : e.message;
}

function when(t) {
  return t ? new Date(t).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false }) : '从未';
}

async function load() {
  show('manage');
  $('#manage-error').textContent = '';
  try {
    const d = await gql('{ venues { id name } kiosks { id name venueID revokedAt lastSeenAt } }', null, token);
    venues = d.venues;
    const sel = $('#venue');
    const keep = sel.value;
    sel.replaceChildren(...venues.map((v) => el('option', { value: v.id, text: v.name })));
    if (keep) sel.value = keep;
    const venueName = (id) => (venues.find((v) => v.id === id) || { name: '' }).name;
    $('#kiosk-rows').replaceChildren(
      ...d.kiosks.map((k) =>
        el(
          'tr',
          { 'data-kiosk': k.id, 'data-revoked': k.revokedAt ? 'true' : 'false' },
          el('td', { text: k.name }),
          el('td', { text: venueName(k.venueID) }),
          el('td', { text: k.revokedAt ? `已停用（${when(k.revokedAt)}）` : when(k.lastSeenAt) }),
          el(
            'td.actions',
            {},
            k.revokedAt ? null : el('button.big.primary.pair', { type: 'button', text: '配对码', onclick: () => pairingCode(k) }),
            k.revokedAt ? null : el('button.big.revoke', { type: 'button', text: '停用', onclick: () => revoke(k) }),
          ),
        ),
      ),
    );
  } catch (e) {
    failed(e);
  }
}

async function pairingCode(k) {
  try {
    const d = await gql(`mutation($k: ID!) { createKioskPairingCode(kioskID: $k) { code expiresAt } }`, { k: k.id }, token);
    const c = d.createKioskPairingCode;
    $('#code-for').textContent = k.name;
    $('#code').textContent = c.code;
    // The tablet's camera reads the same code from this QR (/kiosk#pair=…).
    drawQR($('#code-qr'), `${location.origin}/kiosk#pair=${c.code}`, 6);
    const until = Date.parse(c.expiresAt);
    const tick = () => {
      const left = Math.max(0, Math.round((until - Date.now()) / 1000));
      $('#code-expiry').textContent = left ? `${Math.floor(left / 60)} 分 ${left % 60} 秒内有效，只能使用一次` : '已过期，请重新生成';
    };
    tick();
    clearInterval(countdown);
    countdown = setInterval(tick, 1000);
    $('#code-dialog').showModal();
  } catch (e) {
    failed(e);
  }
}

async function revoke(k) {
  if (!confirm(`停用「${k.name}」？该平板会立即退出，需要重新登记。`)) return;
  try {
    await gql(`mutation($k: ID!) { revokeKiosk(id: $k) { id } }`, { k: k.id }, token);
    load();
  } catch (e) {
    failed(e);
  }
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  $('#login-error').textContent = '';
  try {
    const d = await gql(`mutation($i: LoginInput!) { login(input: $i) { token } }`, {
      i: { phone: String(f.get('phone')).trim(), password: String(f.get('password')) },
    });
    token = d.login.token;
    localStorage.setItem(TOKEN, token);
    e.target.reset();
    load();
  } catch (err) {
    $('#login-error').textContent = err.code === 'RATE_LIMITED' ? '尝试次数过多，请稍后再试。' : '手机号或密码不正确。';
  }
});
$('#register-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const d = await gql(`mutation($v: ID!, $n: String!) { registerKiosk(venueID: $v, name: $n) { kiosk { id name venueID } } }`, {
      v: f.get('venue'),
      n: String(f.get('name')).trim(),
    }, token);
    e.target.querySelector('[name=name]').value = '';
    await load();
    pairingCode(d.registerKiosk.kiosk);
  } catch (err) {
    failed(err);
  }
});
$('#code-dialog').addEventListener('close', () => {
  clearInterval(countdown);
  load();
});
$('#logout').addEventListener('click', async () => {
  try {
    await gql('mutation { logout }', null, token);
  } catch {
    // Signed out here all the same.
  }
  localStorage.removeItem(TOKEN);
  token = null;
  show('login');
});
if (token) load();
else show('login');
