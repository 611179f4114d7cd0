// The self check-in page (/checkin/self?c=…): a resident or volunteer
// scans the QR the kiosk (or a poster) shows with their own phone, signs
// in if they are not yet, and is checked in as if scanned at the door
// (selfCheckIn: same window, same decision, same nonce rules). The code
// rotates every 30 seconds, so a photo of an old one is refused.
import { $, beep, gql, nonce, prefs, say, STATUS } from './common.js';

const TOKEN = 'linli.self.token';
let token = localStorage.getItem(TOKEN);
const code = new URLSearchParams(location.search).get('c') || '';

function show(id) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
  document.body.dataset.screen = id;
}

// nonceFor keeps one nonce per code in this tab: a reload retries the same
// check-in and gets its first answer.
function nonceFor(c) {
  const k = 'linli.self.nonce:' + c;
  let n = sessionStorage.getItem(k);
  if (!n) {
    n = nonce();
    sessionStorage.setItem(k, n);
  }
  return n;
}

function result(status, title, name, message) {
  const s = STATUS[status] || { tone: 'bad', icon: '✕', title };
  const box = $('#result');
  box.dataset.tone = s.tone;
  box.dataset.status = status;
  $('#result-icon').textContent = s.icon;
  $('#result-title').textContent = title || s.IN || s.title;
  $('#result-name').textContent = name || '';
  $('#result-message').textContent = message || '';
  show('done');
  beep(s.tone);
  say([$('#result-title').textContent, name, message].filter(Boolean).join('，'));
}

async function checkIn() {
  if (!code) return show('none');
  if (!token) return show('login');
  show('working');
  try {
    const d = await gql(
      `mutation Self($c: String!, $n: String!) { selfCheckIn(code: $c, nonce: $n) { status message registration { id person { displayName } } } }`,
      { c: code, n: nonceFor(code) },
      token,
    );
    const r = d.selfCheckIn;
    const name = r.registration && r.registration.person.displayName;
    const s = STATUS[r.status];
    const title = s ? s.IN || s.title : r.status;
    result(r.status, title, name, r.message === `${title}：${name}` ? '' : r.message);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') {
      localStorage.removeItem(TOKEN);
      token = null;
      $('#login-error').textContent = '请先登录。';
      return show('login');
    }
    if (e.code === 'NETWORK') return result('ERROR', '网络不可用', '', '请连上网络后重新扫码。');
    if (e.code === 'EXPIRED' || e.code === 'NOT_FOUND' || e.code === 'VALIDATION_FAILED') {
      return result('EXPIRED', '二维码已过期', '', '请重新扫描签到台上正在显示的二维码。');
    }
    result('ERROR', '未完成', '', e.message);
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
    checkIn();
  } catch (err) {
    $('#login-error').textContent = err.code === 'RATE_LIMITED' ? '尝试次数过多，请稍后再试。' : '手机号或密码不正确。';
  }
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
prefs.wire('large', $('#large-toggle'));
prefs.wire('speak', $('#speak-toggle'));
checkIn();
