// Drives the kiosk page and the board in headless Chromium against a linli
// that web/browser_test.go started with fixtures, as a volunteer at the
// door and a hall's screen would: pairs a tablet, scans a real QR code
// through the fake camera and codes typed by a scanner, sees every answer,
// scans three people offline and reloads before the network is back, is
// signed out by a revocation, and watches the board follow a sign-up.
// Any console error, page error, failed request or CSP violation fails it.
//
// Usage: node e2e.mjs config.json (written by the Go test).
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
mkdirSync(cfg.shots, { recursive: true });
const problems = [];
let current = '';
const step = (s) => {
  current = s;
  console.log('step: ' + s);
};

async function api(query, variables, token) {
  const res = await fetch(cfg.url + '/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(query.slice(0, 60) + ': ' + JSON.stringify(body.errors));
  return body.data;
}

function watch(page, name) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${name} console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${name} page error (${current}): ${e.message} ${e.stack || ''}`));
  page.on('requestfailed', (r) => problems.push(`${name} request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${name} response ${r.status()}: ${r.url()} ${(r.request().postData() || '').slice(0, 120)}`);
  });
}

// cspViolations collects securitypolicyviolation events from the page.
async function cspGuard(page) {
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  });
}

async function cspCheck(page, name) {
  const v = await page.evaluate(() => window.__csp || []);
  for (const x of v) problems.push(`${name} CSP violation: ${x}`);
}

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-background-networking',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--use-file-for-fake-video-capture=' + cfg.video,
    '--autoplay-policy=no-user-gesture-required',
  ],
});

let failed = null;
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    permissions: ['camera'],
  });
  const page = await context.newPage();
  watch(page, 'kiosk');
  await cspGuard(page);
  const shot = (n) => page.screenshot({ path: join(cfg.shots, `kiosk-${n}.png`) });

  // --- pairing ---
  step('pair');
  await page.goto(cfg.url + '/kiosk');
  await page.locator('#pair').waitFor();
  // Staff sign in on their page and show the kiosk's pairing code.
  const staff = await context.newPage();
  watch(staff, 'kiosks');
  await cspGuard(staff);
  staff.on('dialog', (d) => d.accept());
  await staff.goto(cfg.url + '/kiosks');
  await staff.fill('#login-form [name=phone]', cfg.staffPhone);
  await staff.fill('#login-form [name=password]', cfg.staffPassword);
  await staff.click('#login-form button[type=submit]');
  const row = staff.locator(`[data-kiosk="${cfg.kioskID}"]`);
  await row.locator('button.pair').click();
  await staff.locator('#code-dialog[open]').waitFor();
  const code = (await staff.textContent('#code')).trim();
  if (!/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/.test(code)) throw new Error('pairing code ' + code);
  await staff.screenshot({ path: join(cfg.shots, 'kiosks-pairing-code.png') });
  await staff.click('#code-dialog button');
  await page.bringToFront();
  await page.fill('#pair-code', code.toLowerCase());
  await shot('pairing');
  await page.click('#pair-form button[type=submit]');
  await page.locator('#pick').waitFor();
  await page.locator(`#activities [data-id="${cfg.activityID}"]`).waitFor();
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('linli.kiosk')));
  if (!stored || !stored.token || stored.kioskID !== cfg.kioskID) throw new Error('pairing kept no token: ' + JSON.stringify(stored));
  if (page.url().includes(stored.token)) throw new Error('the token is in the URL');
  await shot('pick');
  await page.click(`#activities [data-id="${cfg.activityID}"]`);
  await page.locator('#scan').waitFor();
  await page.evaluate(() => navigator.serviceWorker.ready);

  // expect waits for the answer of a scan, checks it, screenshots it and
  // dismisses it.
  const expectAnswer = async (status, { name, title, shotName } = {}) => {
    const box = page.locator(`#result[data-status="${status}"]`);
    try {
      await box.waitFor({ timeout: 10000 });
    } catch (e) {
      const now = await page.evaluate(() => {
        const r = document.querySelector('#result');
        return `${r.dataset.status} ${r.innerText}`;
      });
      throw new Error(`want ${status}, page shows ${now}`);
    }
    if (name) {
      const got = await page.textContent('#result-name');
      if (got !== name) throw new Error(`${status}: name ${got}, want ${name}`);
    }
    if (title) {
      const got = await page.textContent('#result-title');
      if (!got.includes(title)) throw new Error(`${status}: title ${got}, want ${title}`);
    }
    if (shotName) await shot(shotName);
    await page.click('#result');
    await page.locator('#result').waitFor({ state: 'hidden' });
  };
  const type = async (code) => {
    await page.locator('#code-input').focus();
    await page.keyboard.type(code, { delay: 5 });
    await page.keyboard.press('Enter');
  };

  // --- the camera ---
  step('camera');
  await page.click('#camera-toggle');
  await expectAnswer('OK', { name: cfg.camera.name, title: '签到成功' });
  await page.locator('#camera-toggle').click();
  await page.waitForFunction(() => document.body.dataset.camera === 'off');

  // --- a scanner typing, outside any field (keyboard wedge) ---
  step('scanner');
  await page.click('#act-title');
  await page.keyboard.type(cfg.typed.code, { delay: 5 });
  await page.keyboard.press('Enter');
  await expectAnswer('OK', { name: cfg.typed.name, title: '签到成功', shotName: 'ok' });
  await type(cfg.camera.code);
  await expectAnswer('ALREADY_CHECKED_IN', { name: cfg.camera.name, shotName: 'already-checked-in' });
  await type(cfg.waitlisted);
  await expectAnswer('NOT_CONFIRMED', { shotName: 'not-confirmed' });
  await type(cfg.cancelled);
  await expectAnswer('CANCELLED', { shotName: 'cancelled' });
  await type(cfg.otherActivity);
  await expectAnswer('WRONG_ACTIVITY', { shotName: 'wrong-activity' });
  await type('no-such-code-123');
  await expectAnswer('UNKNOWN_CODE', { shotName: 'unknown-code' });

  step('check-out');
  await page.click('#mode-out');
  await type(cfg.typed.code);
  await expectAnswer('OK', { name: cfg.typed.name, title: '签退成功', shotName: 'checked-out' });
  await type(cfg.typed.code);
  await expectAnswer('ALREADY_CHECKED_OUT', { shotName: 'already-checked-out' });
  await type(cfg.notCheckedIn);
  await expectAnswer('NOT_CHECKED_IN', { shotName: 'not-checked-in' });
  await page.click('#mode-in');

  step('manual');
  await page.click('#open-manual');
  await page.fill('#manual-form [name=name]', cfg.manual.name);
  await page.fill('#manual-form [name=phoneTail]', cfg.manual.phoneTail);
  await shot('manual-form');
  await page.click('#manual-form button[value=ok]');
  await expectAnswer('OK', { name: cfg.manual.maskedName, title: '签到成功' });

  step('walk-in');
  await page.click('#open-walkin');
  await page.selectOption('#walkin-slot', cfg.walkIn.slotID);
  await page.fill('#walkin-form [name=phone]', cfg.walkIn.phone);
  await page.fill('#walkin-form [name=displayName]', cfg.walkIn.name);
  await page.click('#walkin-form button[value=ok]');
  await expectAnswer('OK', { name: cfg.walkIn.maskedName, title: '签到成功', shotName: 'walk-in' });

  if (cfg.early) {
    step('too early');
    await page.click('#change-activity');
    await page.click(`#activities [data-id="${cfg.early.activityID}"]`);
    await page.locator('#scan').waitFor();
    await type(cfg.early.code);
    await expectAnswer('TOO_EARLY', { shotName: 'too-early' });
    await page.click('#change-activity');
    await page.click(`#activities [data-id="${cfg.activityID}"]`);
    await page.locator('#scan').waitFor();
  }

  // --- offline: three people, a reload, then the network again ---
  step('offline');
  // The list the tablet validates against is current (it follows the counts).
  await page.waitForTimeout(1500);
  await context.setOffline(true);
  await page.waitForFunction(() => document.querySelector('#net').dataset.state === 'offline');
  for (const p of cfg.offline) {
    await type(p.code);
    await expectAnswer('OK', { name: p.name, title: '离线记录', shotName: p === cfg.offline[0] ? 'offline-ok' : undefined });
  }
  await type(cfg.offline[0].code);
  await expectAnswer('ALREADY_CHECKED_IN', { name: cfg.offline[0].name });
  await page.waitForFunction(() => document.body.dataset.queue === '3');
  await shot('offline-queue');
  step('reload offline');
  await page.reload();
  await page.locator('#scan').waitFor();
  await page.waitForFunction(() => document.body.dataset.queue === '3');
  const before = await api(`query($a: ID!) { checkInList(activityID: $a) { entries { registrationID status } } }`, { a: cfg.activityID }, cfg.staffToken);
  for (const p of cfg.offline) {
    const e = before.checkInList.entries.find((x) => x.registrationID === p.registrationID);
    if (!e || e.status !== 'CONFIRMED') throw new Error(`before upload ${p.name} is ${e && e.status}`);
  }
  step('online');
  await context.setOffline(false);
  await page.waitForFunction(() => document.body.dataset.queue === '0', null, { timeout: 20000 });
  const after = await api(`query($a: ID!) { checkInList(activityID: $a) { entries { registrationID status } } }`, { a: cfg.activityID }, cfg.staffToken);
  for (const p of cfg.offline) {
    const e = after.checkInList.entries.find((x) => x.registrationID === p.registrationID);
    if (!e || e.status !== 'CHECKED_IN') throw new Error(`after upload ${p.name} is ${e && e.status}`);
  }
  await page.waitForFunction((n) => Number(document.querySelector('#count-in').textContent) >= n, cfg.expectCheckedIn, { timeout: 10000 });
  await shot('scan-screen');

  // --- the board, while the tablet is still paired ---
  step('board');
  const board = await context.newPage();
  watch(board, 'board');
  await cspGuard(board);
  // Staff register a kiosk for the hall's screen and pair the board with it.
  await staff.bringToFront();
  await staff.selectOption('#venue', cfg.venueID);
  await staff.fill('#register-form [name=name]', '大厅看板');
  await staff.click('#register-form button[type=submit]');
  await staff.locator('#code-dialog[open]').waitFor();
  const boardCode = (await staff.textContent('#code')).trim();
  await staff.click('#code-dialog button');
  await board.goto(cfg.url + '/board');
  await board.locator('#login').waitFor();
  await board.fill('#login-token', boardCode);
  await board.click('#login-form button[type=submit]');
  const card = board.locator(`[data-activity="${cfg.activityID}"]`);
  await card.waitFor();
  await board.waitForFunction((id) => document.querySelector(`[data-activity="${id}"]`).dataset.taken !== undefined, cfg.activityID);
  await board.selectOption('#scope', cfg.venueID);
  await board.waitForFunction((v) => document.body.dataset.scope === v, cfg.venueID);
  await board.waitForFunction((id) => document.querySelector(`[data-activity="${id}"]`).dataset.taken !== undefined, cfg.activityID);
  await board.waitForFunction(() => document.querySelectorAll('#arrivals li').length > 0);
  if (await board.evaluate((t) => document.documentElement.innerHTML.includes(t) || location.href.includes(t), cfg.staffToken)) {
    throw new Error('the board shows its token');
  }
  const takenBefore = Number(await card.getAttribute('data-taken'));
  const signedAt = Date.now();
  await api(`mutation($s: ID!) { signUp(input: {slotID: $s, seats: 1}) { registration { id } } }`, { s: cfg.boardSignup.slotID }, cfg.boardSignup.token);
  await board.waitForFunction(
    ([id, n]) => Number(document.querySelector(`[data-activity="${id}"]`).dataset.taken) === n,
    [cfg.activityID, takenBefore + 1],
    { timeout: 1000, polling: 20 },
  );
  const seenAfter = Date.now() - signedAt;
  console.log(`board: sign-up shown after ${seenAfter} ms`);
  await board.waitForTimeout(500); // the arrivals bar's transition
  await board.screenshot({ path: join(cfg.shots, 'board-1280x800.png') });
  await board.setViewportSize({ width: 1920, height: 1080 });
  await board.waitForTimeout(300);
  await board.screenshot({ path: join(cfg.shots, 'board-1920x1080.png') });
  await cspCheck(board, 'board');
  await board.close();

  // A staff member's token opens the board too (the whole community).
  step('board with a staff token');
  const screen2 = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const staffBoard = await screen2.newPage();
  watch(staffBoard, 'staff board');
  await cspGuard(staffBoard);
  await staffBoard.goto(cfg.url + '/board');
  await staffBoard.locator('#login').waitFor();
  await staffBoard.fill('#login-token', cfg.staffToken);
  await staffBoard.click('#login-form button[type=submit]');
  await staffBoard.waitForFunction(() => document.body.dataset.scope !== undefined);
  await staffBoard.waitForFunction(
    ([id, n]) => Number((document.querySelector(`[data-activity="${id}"]`) || { dataset: {} }).dataset.taken) === n,
    [cfg.activityID, takenBefore + 1],
  );
  await cspCheck(staffBoard, 'staff board');
  await screen2.close();

  // --- revocation signs the tablet out ---
  step('revoke');
  // The tablet refreshes its check-in list a second after the counts move
  // (the board's sign-up): let it, so no request of its races the
  // revocation below (it would be answered 401, and sign the page out too).
  await page.waitForTimeout(1500);
  await staff.bringToFront();
  await staff.locator(`[data-kiosk="${cfg.kioskID}"] button.revoke`).click();
  await staff.locator(`[data-kiosk="${cfg.kioskID}"][data-revoked="true"]`).waitFor();
  const revokedAt = Date.now();
  await staff.screenshot({ path: join(cfg.shots, 'kiosks-revoked.png') });
  await cspCheck(staff, 'kiosks');
  await page.bringToFront();
  await page.locator('#pair').waitFor({ timeout: 10000 });
  console.log(`kiosk: signed out ${Date.now() - revokedAt} ms after the revocation`);
  if (await page.evaluate(() => localStorage.getItem('linli.kiosk'))) throw new Error('the revoked token is still kept');
  await shot('signed-out');
  await cspCheck(page, 'kiosk');

  // GraphiQL, embedded, starts under its policy.
  step('graphiql');
  const gq = await context.newPage();
  watch(gq, 'graphiql');
  await cspGuard(gq);
  await gq.goto(cfg.url + '/');
  await gq.locator('.graphiql-container').waitFor({ timeout: 15000 });
  await gq.locator('.graphiql-query-editor .CodeMirror').click();
  await gq.keyboard.press('Control+A');
  await gq.keyboard.type('{ communities { name } }');
  await gq.locator('.graphiql-execute-button').click();
  await gq.locator('.graphiql-response', { hasText: '前进社区' }).waitFor({ timeout: 10000 });
  await cspCheck(gq, 'graphiql');
  await gq.screenshot({ path: join(cfg.shots, 'graphiql.png') });
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
for (const p of problems) console.log('problem: ' + p);
if (failed) {
  console.log('FAILED: ' + (failed.stack || failed));
  process.exit(1);
}
if (problems.length) process.exit(1);
console.log('ok');
