// Staff's downloads page (/downloads): sign in, pick a period and download
// each export as CSV or XLSX, without building a URL by hand. The files
// come from linli's /exports routes with the staff member's token in the
// Authorization header (a link could not carry it), saved through a blob.
import { $, dayKey, el, gql } from './common.js';

const TOKEN = 'linli.staff.token';
let token = localStorage.getItem(TOKEN);

// EXPORTS are linli's exports of a period (README "Exports").
const EXPORTS = [
  { name: 'service-records', label: '志愿服务记录', about: '每条服务记录：志愿者、活动、时长（小时）' },
  { name: 'requests', label: '居民求助', about: '期间提交的求助：类别、状态、渠道、结果' },
  { name: 'statistics', label: '社区统计', about: '与“社区统计”一致的各项指标' },
];

function show(id) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
  $('#logout').hidden = id !== 'manage';
}

// period sets the date inputs to this month, last month or this year
// (China's calendar).
function period(which) {
  const [y, m] = dayKey().split('-').map(Number);
  const pad = (n) => String(n).padStart(2, '0');
  const last = (yy, mm) => new Date(Date.UTC(yy, mm, 0)).getUTCDate();
  let from;
  let to;
  if (which === 'year') {
    from = `${y}-01-01`;
    to = `${y}-12-31`;
  } else if (which === 'last-month') {
    const [yy, mm] = m === 1 ? [y - 1, 12] : [y, m - 1];
    from = `${yy}-${pad(mm)}-01`;
    to = `${yy}-${pad(mm)}-${pad(last(yy, mm))}`;
  } else {
    from = `${y}-${pad(m)}-01`;
    to = `${y}-${pad(m)}-${pad(last(y, m))}`;
  }
  $('#from').value = from;
  $('#to').value = to;
}

// nextDay is the day after d (the exports' to is exclusive).
function nextDay(d) {
  const t = new Date(d + 'T00:00:00Z');
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 10);
}

function render() {
  $('#export-rows').replaceChildren(
    ...EXPORTS.map((x) =>
      el(
        'tr',
        { 'data-export': x.name },
        el('td', { text: x.label }),
        el('td', { text: x.about }),
        el(
          'td.actions',
          {},
          ['xlsx', 'csv'].map((f) => el('button.big.download', { type: 'button', 'data-format': f, text: f === 'xlsx' ? '下载 Excel' : '下载 CSV', onclick: () => download(x, f) })),
        ),
      ),
    ),
  );
}

async function download(x, format) {
  $('#manage-error').textContent = '';
  const from = $('#from').value;
  const to = $('#to').value;
  if (!from || !to || to < from) {
    $('#manage-error').textContent = '请选择开始和结束日期（结束不早于开始）。';
    return;
  }
  const q = new URLSearchParams({ from, to: nextDay(to), format });
  let res;
  try {
    res = await fetch(`/exports/${x.name}?${q}`, { headers: { Authorization: 'Bearer ' + token } });
  } catch {
    $('#manage-error').textContent = '网络不可用。';
    return;
  }
  if (res.status === 401) return signedOut('登录已失效，请重新登录。');
  if (!res.ok) {
    let msg = '导出失败';
    try {
      const b = await res.json();
      msg = (b.errors && b.errors[0] && b.errors[0].message) || msg;
    } catch {
      // not JSON
    }
    $('#manage-error').textContent = res.status === 403 ? '只有社区工作人员可以导出数据。' : msg;
    return;
  }
  const blob = await res.blob();
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename\*=UTF-8''([^;]+)/.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : `${x.label}-${from}-${to}.${format}`;
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function signedOut(message) {
  localStorage.removeItem(TOKEN);
  token = null;
  $('#login-error').textContent = message || '';
  show('login');
}

function open() {
  show('manage');
  if (!$('#from').value) period('month');
  render();
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
for (const b of document.querySelectorAll('.quick')) b.addEventListener('click', () => period(b.dataset.period));
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
