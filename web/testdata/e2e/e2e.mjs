// Drives the kiosk page and the board in headless Chromium against a linli
// that web/browser_test.go started with fixtures, as a volunteer at the
// door and a hall's screen would: pairs a tablet, scans a real QR code
// through the fake camera and codes typed by a scanner, sees every answer,
// scans three people offline and reloads before the network is back, is
// signed out by a revocation, and watches the board follow a sign-up.
// Any console error, page error, failed request or CSP violation fails it
// (but for requests the test itself cuts off while the server is made
// unreachable).
//
// Issue 20's door: the date and the next morning (the browser's clock moved
// a day), lower-case codes, the pill when the server is unreachable, the
// header counts after an offline reload, name search with a list and a
// titled empty result, the last scans with undo, the mode shown large,
// who has not arrived, large text and the result read aloud, pairing by
// QR through the camera, the rotating self check-in QR and a phone
// checking in with it (a photo of an old one refused), the board following
// the day live and fitting its screen, and staff's downloads page.
//
// Usage: node e2e.mjs config.json (written by the Go test).
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { harness } from './harness.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
mkdirSync(cfg.shots, { recursive: true });
const h = harness(cfg);
const { step, api, watch, cspGuard, cspCheck, finish } = h;

// speech records what the page reads aloud instead of speaking it.
async function speech(page) {
  await page.addInitScript(() => {
    window.__spoken = [];
    if ('speechSynthesis' in window) speechSynthesis.speak = (u) => window.__spoken.push(`${u.lang}|${u.text}`);
  });
}

// y4m is a grey 4:2:0 YUV4MPEG2 stream of frames frames showing the RGBA
// image (w×h) centred on white, as Chromium's fake camera plays it.
function y4m(rgba, w, h, W = 640, H = 480, frames = 10) {
  const head = Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`);
  const luma = Buffer.alloc(W * H, 235);
  const ox = Math.floor((W - w) / 2);
  const oy = Math.floor((H - h) / 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const grey = (299 * rgba[i] + 587 * rgba[i + 1] + 114 * rgba[i + 2]) / 1000;
      luma[(oy + y) * W + ox + x] = Math.round(16 + (grey * 219) / 255);
    }
  }
  const chroma = Buffer.alloc(2 * (W / 2) * (H / 2), 128);
  const parts = [head];
  for (let f = 0; f < frames; f++) parts.push(Buffer.from('FRAME\n'), luma, chroma);
  return Buffer.concat(parts);
}

// shiftClock makes the page's Date run ms ahead (the next morning).
async function shiftClock(page, ms) {
  await page.addInitScript((off) => {
    const Real = Date;
    class Shifted extends Real {
      constructor(...a) {
        if (a.length === 0) super(Real.now() + off);
        else super(...a);
      }
      static now() {
        return Real.now() + off;
      }
    }
    globalThis.Date = Shifted;
  }, ms);
}

// fitsScreen fails unless the page has nothing below the fold and every
// item of sel is on screen.
async function fitsScreen(page, sel, what) {
  const r = await page.evaluate((sel) => {
    const h = window.innerHeight;
    const items = [...document.querySelectorAll(sel)];
    return { h, scroll: document.scrollingElement.scrollHeight, n: items.length, over: items.filter((e) => e.getBoundingClientRect().bottom > h + 0.5).length };
  }, sel);
  if (r.scroll > r.h + 1 || r.over) throw new Error(`${what}: page ${r.scroll}px in a ${r.h}px screen, ${r.over} of ${r.n} items below the fold`);
  return r;
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
  await speech(page);
  page.on('dialog', (d) => d.accept());
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
  const todayLabel = new Date().toLocaleDateString('zh-CN', { month: 'long', day: 'numeric', weekday: 'long', timeZone: 'Asia/Shanghai' });
  if ((await page.textContent('#today')).trim() !== todayLabel) throw new Error(`the kiosk shows ${await page.textContent('#today')}, want ${todayLabel}`);
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
  // In lower case: the page (and linli) read it as the same code.
  await page.keyboard.type(cfg.typed.code.toLowerCase(), { delay: 5 });
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
  if (!(await page.textContent('#mode-banner')).includes('签退模式')) throw new Error('check-out mode is not shown: ' + (await page.textContent('#mode-banner')));
  await shot('mode-out');
  await type(cfg.typed.code);
  await expectAnswer('OK', { name: cfg.typed.name, title: '签退成功', shotName: 'checked-out' });
  await type(cfg.typed.code);
  await expectAnswer('ALREADY_CHECKED_OUT', { shotName: 'already-checked-out' });
  await type(cfg.notCheckedIn);
  await expectAnswer('NOT_CHECKED_IN', { shotName: 'not-checked-in' });
  await page.click('#mode-in');

  if (!(await page.textContent('#mode-banner')).includes('签到模式')) throw new Error('check-in mode is not shown');

  step('search by name');
  await page.click('#open-manual');
  await page.fill('#search-input', cfg.search.nothing);
  await page.locator('#search-empty:not([hidden])').waitFor();
  const empty = await page.textContent('#search-empty');
  if (!empty.includes('没有找到') || empty.includes('无效的签到码')) throw new Error('an empty search says ' + empty);
  await shot('search-nothing');
  await page.fill('#search-input', cfg.search.query);
  const match = page.locator(`#matches [data-registration="${cfg.search.registrationID}"]`);
  await match.waitFor();
  await shot('search-matches');
  await match.click();
  await expectAnswer('OK', { name: cfg.manual.maskedName, title: '签到成功' });

  step('walk-in');
  await page.click('#open-walkin');
  await page.selectOption('#walkin-slot', cfg.walkIn.slotID);
  await page.fill('#walkin-form [name=phone]', cfg.walkIn.phone);
  await page.fill('#walkin-form [name=displayName]', cfg.walkIn.name);
  await page.click('#walkin-form button[value=ok]');
  await expectAnswer('OK', { name: cfg.walkIn.maskedName, title: '签到成功', shotName: 'walk-in' });

  step('undo a mistaken scan');
  await type(cfg.mistaken.code);
  await expectAnswer('OK', { name: cfg.mistaken.name });
  const mistakenRow = page.locator('#recent li').first();
  if (!(await mistakenRow.textContent()).includes(cfg.mistaken.name)) throw new Error('the last scan is not on top: ' + (await mistakenRow.textContent()));
  await mistakenRow.locator('button.undo').click();
  await page.locator('#recent li[data-undone]').first().waitFor();
  const undone = await api(`query($a: ID!) { checkInList(activityID: $a) { entries { registrationID status } } }`, { a: cfg.activityID }, cfg.staffToken);
  const m = undone.checkInList.entries.find((x) => x.registrationID === cfg.mistaken.registrationID);
  if (!m || m.status !== 'CONFIRMED') throw new Error('after the undo the mistaken scan is ' + (m && m.status));
  const recentN = await page.locator('#recent li').count();
  if (recentN < 10 || recentN > 20) throw new Error(`${recentN} recent scans shown`);
  await page.locator(`#missing [data-registration="${cfg.notCheckedInID}"]`).waitFor({ state: 'attached' });
  await page.click('.missing-box summary');
  await shot('recent-and-missing');
  await page.click('.missing-box summary');

  step('large text and speech');
  await page.click('#large-toggle');
  await page.click('#speak-toggle');
  if ((await page.evaluate(() => document.body.dataset.large)) !== 'on') throw new Error('large text is not on');
  await type(cfg.camera.code);
  await expectAnswer('ALREADY_CHECKED_IN', { name: cfg.camera.name, shotName: 'large-already' });
  const spoken = await page.evaluate(() => window.__spoken);
  if (!spoken.some((x) => x.startsWith('zh-CN|已签到'))) throw new Error('not read aloud: ' + JSON.stringify(spoken));
  await shot('large-scan');
  await page.click('#large-toggle');
  await page.click('#speak-toggle');

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
  // First the server unreachable while the browser thinks it is online:
  // the pill turns, and the scan is kept like an offline one.
  h.tolerated = /\/graphql/;
  await page.route('**/graphql', (r) => r.abort('connectionrefused'));
  await type(cfg.offline[0].code);
  await expectAnswer('OK', { name: cfg.offline[0].name, title: '离线记录' });
  await page.waitForFunction(() => document.querySelector('#net').dataset.state === 'offline');
  if (!(await page.textContent('#net')).includes('连不上服务器')) throw new Error('the pill says ' + (await page.textContent('#net')));
  await shot('server-unreachable');
  await context.setOffline(true);
  await page.unroute('**/graphql');
  await page.waitForTimeout(200);
  h.tolerated = null;
  await page.waitForFunction(() => document.querySelector('#net').dataset.state === 'offline');
  for (const p of cfg.offline.slice(1)) {
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
  // The header counts from the kept list and the queue, not 0 / 0.
  const arrivedNow = cfg.expectCheckedIn;
  try {
    await page.waitForFunction((n) => Number(document.querySelector('#count-in').textContent) === n && Number(document.querySelector('#count-taken').textContent) > n, arrivedNow, { timeout: 10000 });
  } catch {
    throw new Error(`after an offline reload the header reads ${await page.textContent('.counts')}, want ${arrivedNow} arrived`);
  }
  await shot('offline-reloaded');
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
  await page.waitForFunction((n) => Number(document.querySelector('#count-in').textContent) >= n, arrivedNow, { timeout: 10000 });
  await shot('scan-screen');
  await page.setViewportSize({ width: 800, height: 1280 });
  await page.waitForTimeout(200);
  await shot('scan-screen-portrait');
  await page.setViewportSize({ width: 1280, height: 800 });

  // --- self check-in: the kiosk's rotating QR and a resident's phone ---
  step('self check-in');
  await page.click('#self-toggle');
  await page.waitForFunction(() => document.querySelector('#self-panel').dataset.url);
  const selfURL = await page.evaluate(() => document.querySelector('#self-panel').dataset.url);
  if (!selfURL.startsWith(cfg.url + '/checkin/self?c=')) throw new Error('self check-in QR carries ' + selfURL);
  await shot('self-qr');
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const phone = await phoneCtx.newPage();
  watch(phone, 'phone');
  await cspGuard(phone);
  await speech(phone);
  await phone.goto(selfURL);
  await phone.locator('#login').waitFor();
  await phone.screenshot({ path: join(cfg.shots, 'self-login-390x844.png') });
  await phone.click('#large-toggle');
  await phone.click('#speak-toggle');
  await phone.fill('#login-form [name=phone]', cfg.selfIn.phone);
  await phone.fill('#login-form [name=password]', cfg.selfIn.password);
  await phone.click('#login-form button[type=submit]');
  await phone.locator('#result[data-status="OK"]').waitFor({ timeout: 10000 });
  const selfSpoken = await phone.evaluate(() => window.__spoken);
  if (!selfSpoken.some((x) => x.startsWith('zh-CN|签到成功'))) throw new Error('the phone did not read the result: ' + JSON.stringify(selfSpoken));
  await phone.screenshot({ path: join(cfg.shots, 'self-ok-390x844.png') });
  await cspCheck(phone, 'phone');
  // The kiosk counts them like a scan at the door.
  await page.waitForFunction((n) => Number(document.querySelector('#count-in').textContent) >= n, cfg.expectCheckedIn + 1, { timeout: 10000 });
  // After the rotation a photo of the old QR no longer works.
  step('self check-in after rotation');
  await page.waitForFunction((u) => document.querySelector('#self-panel').dataset.url !== u, selfURL, { timeout: 45000, polling: 500 });
  // linli still takes a code 10 s after it rotated (a scan in flight).
  await page.waitForTimeout(11000);
  await phone.click('#logout');
  await phone.locator('#login').waitFor();
  await phone.goto(selfURL);
  await phone.fill('#login-form [name=phone]', cfg.selfLate.phone);
  await phone.fill('#login-form [name=password]', cfg.selfLate.password);
  h.tolerated = /\/graphql/; // the refusal may be answered with an error status
  await phone.click('#login-form button[type=submit]');
  await phone.locator('#done:not([hidden])').waitFor({ timeout: 10000 });
  h.tolerated = null;
  const late = await phone.evaluate(() => document.querySelector('#result').dataset.status);
  if (late === 'OK') throw new Error('an old self check-in QR still worked after its rotation');
  await phone.screenshot({ path: join(cfg.shots, 'self-rotated-390x844.png') });
  await phoneCtx.close();
  await page.click('#self-panel');
  await page.locator('#self-panel').waitFor({ state: 'hidden' });

  // --- the next morning: the tablet reopened a day later ---
  step('next day');
  const tomorrow = await context.newPage();
  watch(tomorrow, 'kiosk tomorrow');
  await cspGuard(tomorrow);
  await shiftClock(tomorrow, 24 * 3600e3);
  await tomorrow.goto(cfg.url + '/kiosk');
  await tomorrow.locator('#pick').waitFor();
  const tomorrowLabel = new Date(Date.now() + 24 * 3600e3).toLocaleDateString('zh-CN', { month: 'long', day: 'numeric', weekday: 'long', timeZone: 'Asia/Shanghai' });
  if ((await tomorrow.textContent('#today')).trim() !== tomorrowLabel) throw new Error(`next day the kiosk shows ${await tomorrow.textContent('#today')}, want ${tomorrowLabel}`);
  await tomorrow.waitForFunction(() => !document.querySelector('#pick-empty').hidden || document.querySelectorAll('#activities .tile').length > 0);
  if (await tomorrow.locator(`#activities [data-id="${cfg.activityID}"]`).count()) throw new Error("next day the kiosk still offers yesterday's activity");
  if (await tomorrow.evaluate(() => localStorage.getItem('linli.kiosk.activity'))) throw new Error("yesterday's choice is still kept");
  await tomorrow.screenshot({ path: join(cfg.shots, 'kiosk-next-day.png') });
  await cspCheck(tomorrow, 'kiosk tomorrow');
  await tomorrow.close();

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
  // A staff member's session is not kept on a hall's TV.
  await board.fill('#login-token', cfg.staffToken);
  await board.click('#login-form button[type=submit]');
  await board.waitForFunction(() => document.querySelector('#login-error').textContent.includes('配对码'));
  if (await board.evaluate(() => localStorage.getItem('linli.board.token'))) throw new Error('the board kept a staff token');
  await board.fill('#login-token', boardCode.toLowerCase());
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

  // The day, live: an activity published now appears, a cancelled one
  // goes, a finished one is marked; no reload.
  step('board follows the day');
  await board.evaluate(() => (window.__loaded = true));
  const publishedAt = Date.now();
  await api(`mutation($id: ID!) { publishActivity(id: $id) { id } }`, { id: cfg.draftActivityID }, cfg.staffToken);
  await board.locator(`[data-activity="${cfg.draftActivityID}"]`).waitFor({ timeout: 5000 });
  console.log(`board: a published activity shown after ${Date.now() - publishedAt} ms`);
  await board.waitForFunction((id) => document.querySelector(`[data-activity="${id}"]`).dataset.taken !== undefined, cfg.draftActivityID);
  await board.screenshot({ path: join(cfg.shots, 'board-published-1280x800.png') });
  await api(`mutation($id: ID!) { cancelActivity(id: $id, reason: "场地临时维修") { id } }`, { id: cfg.draftActivityID }, cfg.staffToken);
  await board.locator(`[data-activity="${cfg.draftActivityID}"]`).waitFor({ state: 'detached', timeout: 5000 });
  if (cfg.finishedActivityID) {
    await board.locator(`[data-activity="${cfg.finishedActivityID}"][data-finished="true"]`).waitFor();
  }
  if (!(await board.evaluate(() => window.__loaded))) throw new Error('the board reloaded');
  await board.waitForTimeout(500); // the arrivals bar's transition
  await fitsScreen(board, '#arrivals li', 'board at 1280×800');
  await board.screenshot({ path: join(cfg.shots, 'board-1280x800.png') });
  await board.setViewportSize({ width: 1920, height: 1080 });
  await board.waitForTimeout(300);
  const fit = await fitsScreen(board, '#arrivals li', 'board at 1920×1080');
  console.log(`board at 1920×1080: ${fit.n} latest check-ins, page ${fit.scroll}px`);
  await board.screenshot({ path: join(cfg.shots, 'board-1920x1080.png') });
  await cspCheck(board, 'board');
  await board.close();

  // --- a second tablet paired by scanning the QR on staff's page ---
  step('pair by QR');
  await staff.bringToFront();
  await staff.fill('#register-form [name=name]', '侧门签到平板');
  await staff.click('#register-form button[type=submit]');
  await staff.locator('#code-dialog[open]').waitFor();
  await staff.waitForFunction(() => document.querySelector('#code-qr').dataset.text);
  const qr = await staff.evaluate(() => {
    const c = document.querySelector('#code-qr');
    return { w: c.width, h: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data), text: c.dataset.text };
  });
  if (!qr.text.endsWith('/kiosk#pair=' + (await staff.textContent('#code')).trim())) throw new Error('the pairing QR carries ' + qr.text);
  await staff.screenshot({ path: join(cfg.shots, 'kiosks-pairing-qr.png') });
  await staff.click('#code-dialog button');
  writeFileSync(cfg.pairVideo, y4m(qr.data, qr.w, qr.h));
  const second = await chromium.launch({
    executablePath: cfg.chromium,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--use-file-for-fake-video-capture=' + cfg.pairVideo],
  });
  try {
    const tctx = await second.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', permissions: ['camera'] });
    const tablet = await tctx.newPage();
    watch(tablet, 'second tablet');
    await cspGuard(tablet);
    await tablet.goto(cfg.url + '/kiosk');
    await tablet.locator('#pair').waitFor();
    await tablet.click('#pair-scan');
    await tablet.locator('#pick').waitFor({ timeout: 15000 });
    const paired = await tablet.evaluate(() => JSON.parse(localStorage.getItem('linli.kiosk')));
    if (!paired || paired.name !== '侧门签到平板') throw new Error('the QR paired ' + JSON.stringify(paired && paired.name));
    await tablet.screenshot({ path: join(cfg.shots, 'kiosk-paired-by-qr.png') });
    await cspCheck(tablet, 'second tablet');
  } finally {
    await second.close();
  }

  // --- staff's downloads ---
  step('downloads');
  const dl = await context.newPage();
  watch(dl, 'downloads');
  await cspGuard(dl);
  await dl.goto(cfg.url + '/downloads');
  await dl.locator('#manage').waitFor();
  await dl.click('.quick[data-period="year"]');
  for (const [name, format] of [['statistics', 'xlsx'], ['service-records', 'csv'], ['requests', 'csv']]) {
    const [file] = await Promise.all([dl.waitForEvent('download'), dl.click(`[data-export="${name}"] [data-format="${format}"]`)]);
    const fname = file.suggestedFilename();
    if (!fname.endsWith('.' + format)) throw new Error(`${name} downloaded as ${fname}`);
    console.log(`downloads: ${name}.${format} as ${fname}`);
  }
  if (await dl.textContent('#manage-error')) throw new Error('downloads: ' + (await dl.textContent('#manage-error')));
  await dl.screenshot({ path: join(cfg.shots, 'downloads.png') });
  await cspCheck(dl, 'downloads');
  await dl.close();

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
finish(failed);
