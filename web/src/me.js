// A person's own page (/me): sign in, see and correct their profile,
// download everything linli holds about them (GET /me/data as JSON or
// Excel, with the bearer token in the Authorization header — never in a
// URL — saved through a blob), withdraw consents, and delete the account
// (password and a typed confirmation), which signs the page out. The
// rules are the server's (package rights); this page only asks.
import { $, el, gql } from './common.js';

const TOKEN = 'linli.me.token';
let token = localStorage.getItem(TOKEN);

// PURPOSES are the consent purposes of schema/rights.graphql.
const PURPOSES = { HEALTH_SIGNUP: '健康类活动报名', CARE_TAGS: '家庭关爱标签', PHOTOS: '活动照片' };
const CONFIRM = '确认注销';

function show(id) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
  $('#logout').hidden = id !== 'mine';
  document.body.dataset.screen = id;
}

const when = (t) => new Date(t).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

function signedOut(message) {
  localStorage.removeItem(TOKEN);
  token = null;
  $('#login-error').textContent = message || '';
  show('login');
}

// ask runs one operation with the token; a refused token signs the page
// out, other errors are shown in errBox.
async function ask(query, variables, errBox) {
  if (errBox) $(errBox).textContent = '';
  try {
    return await gql(query, variables, token);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') signedOut('登录已失效，请重新登录。');
    else if (errBox) $(errBox).textContent = e.code === 'NETWORK' ? '网络不可用。' : e.message;
    return null;
  }
}

function profile(p) {
  $('#phone').textContent = p.phone;
  const f = $('#profile-form');
  f.displayName.value = p.displayName;
  f.birthYear.value = p.birthYear || '';
}

function consents(list) {
  $('#consents-empty').hidden = list.length > 0;
  $('#consent-rows').replaceChildren(
    ...list.map((c) =>
      el(
        'li',
        { 'data-consent': c.id, 'data-purpose': c.purpose, 'data-withdrawn': c.withdrawnAt ? 'true' : 'false' },
        el(
          'div.what',
          {},
          el('strong', { text: PURPOSES[c.purpose] || c.purpose }),
          el('span', { text: '同意于 ' + when(c.givenAt) + (c.byGuardian ? '（监护人）' : '') }),
          el('span.state', { text: c.withdrawnAt ? '已撤回 ' + when(c.withdrawnAt) : '有效' }),
        ),
        c.withdrawnAt ? null : el('button.big.withdraw', { type: 'button', text: '撤回同意', onclick: () => withdraw(c.purpose) }),
      ),
    ),
  );
}

const PROFILE = 'id displayName phone birthYear minor';
const CONSENT = 'id purpose givenAt withdrawnAt byGuardian';

async function open() {
  show('mine');
  const d = await ask(`{ myProfile { ${PROFILE} } myConsents { ${CONSENT} } }`, null, '#profile-error');
  if (!d) return;
  profile(d.myProfile);
  consents(d.myConsents);
  document.body.dataset.ready = 'true';
}

async function withdraw(purpose) {
  if (!confirm(`撤回“${PURPOSES[purpose] || purpose}”的同意？`)) return;
  const d = await ask(`mutation($p: ConsentPurpose!) { withdrawConsent(purpose: $p) { id } }`, { p: purpose }, '#consents-error');
  if (!d) return;
  const again = await ask(`{ myConsents { ${CONSENT} } }`, null, '#consents-error');
  if (again) consents(again.myConsents);
}

async function download(format) {
  $('#data-error').textContent = '';
  let res;
  try {
    res = await fetch(`/me/data?format=${format}`, { headers: { Authorization: 'Bearer ' + token } });
  } catch {
    $('#data-error').textContent = '网络不可用。';
    return;
  }
  if (res.status === 401) return signedOut('登录已失效，请重新登录。');
  if (!res.ok) {
    let msg = '下载失败';
    try {
      const b = await res.json();
      msg = (b.errors && b.errors[0] && b.errors[0].message) || msg;
    } catch {
      // not JSON
    }
    $('#data-error').textContent = res.status === 429 ? '下载次数过多，请一小时后再试。' : msg;
    return;
  }
  const blob = await res.blob();
  const a = el('a', { href: URL.createObjectURL(blob), download: `我的数据.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
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
    open();
  } catch (err) {
    $('#login-error').textContent = err.code === 'RATE_LIMITED' ? '尝试次数过多，请稍后再试。' : '手机号或密码不正确。';
  }
});

$('#profile-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  $('#profile-note').textContent = '';
  const year = f.birthYear.value.trim();
  const d = await ask(
    `mutation($i: UpdateMyProfileInput!) { updateMyProfile(input: $i) { ${PROFILE} } }`,
    { i: { displayName: f.displayName.value.trim(), birthYear: year ? Number(year) : 0 } },
    '#profile-error',
  );
  if (!d) return;
  profile(d.updateMyProfile);
  $('#profile-note').textContent = '已保存。';
});

for (const b of document.querySelectorAll('#data .download')) b.addEventListener('click', () => download(b.dataset.format));

$('#delete-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  if (f.confirm.value.trim() !== CONFIRM) {
    $('#delete-error').textContent = `请在确认框中输入“${CONFIRM}”。`;
    return;
  }
  $('#delete-error').textContent = '';
  try {
    await gql(`mutation($p: String!) { deleteMyAccount(password: $p) }`, { p: f.password.value }, token);
  } catch (err) {
    // A wrong password is UNAUTHENTICATED too: the session decides which.
    if (err.code === 'UNAUTHENTICATED' && (await ask('{ myProfile { id } }'))) $('#delete-error').textContent = '密码不正确。';
    else if (err.code !== 'UNAUTHENTICATED') $('#delete-error').textContent = err.code === 'NETWORK' ? '网络不可用。' : err.message;
    return;
  }
  f.reset();
  localStorage.removeItem(TOKEN);
  token = null;
  show('deleted');
});

$('#logout').addEventListener('click', async () => {
  try {
    await gql('mutation { logout }', null, token);
  } catch {
    // Signed out here all the same.
  }
  signedOut('');
});

if (token) open();
else show('login');
