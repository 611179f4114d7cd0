// Drives /me in headless Chromium against a linli that web/me_test.go
// started, as a resident on their phone: signs in, downloads their data as
// JSON (and sees their name in it) and Excel, corrects their name,
// withdraws a consent, deletes the account, and checks the server refuses
// the page's old token. No request carries the token in its URL. Any
// console error, page error, failed request or CSP violation fails it.
//
// Usage: node me.mjs config.json (written by the Go test).
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { harness } from './harness.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
mkdirSync(cfg.shots, { recursive: true });
const { step, watch, cspGuard, cspCheck, finish } = harness(cfg);

const browser = await chromium.launch({ executablePath: cfg.chromium, args: ['--headless', '--no-sandbox', '--disable-background-networking'] });
let failed = null;
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  const page = await context.newPage();
  watch(page, 'me');
  await cspGuard(page);
  page.on('dialog', (d) => d.accept());
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  const shot = (n) => page.screenshot({ path: join(cfg.shots, `me-${n}.png`), fullPage: true });

  step('sign in');
  await page.goto(cfg.url + '/me');
  await page.locator('#login').waitFor();
  await shot('login');
  await page.fill('#login-form [name=phone]', cfg.phone);
  await page.fill('#login-form [name=password]', cfg.password);
  await page.click('#login-form button[type=submit]');
  await page.locator('body[data-ready="true"]').waitFor();
  const token = await page.evaluate(() => localStorage.getItem('linli.me.token'));
  if (!token) throw new Error('no token kept after signing in');
  if ((await page.inputValue('#profile-form [name=displayName]')) !== cfg.name) throw new Error('the profile does not show the name');

  // download saves one file through the page's button and returns it.
  const download = async (format) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(`#data [data-format="${format}"]`)]);
    if (!file.suggestedFilename().endsWith('.' + format)) throw new Error(`${format} downloaded as ${file.suggestedFilename()}`);
    const body = readFileSync(await file.path());
    console.log(`me: ${format} downloaded as ${file.suggestedFilename()}, ${body.length} bytes`);
    return body;
  };

  step('download JSON');
  const data = JSON.parse((await download('json')).toString('utf8'));
  if (!JSON.stringify(data).includes(cfg.name)) throw new Error(`the JSON download does not hold ${cfg.name}`);

  step('correct the name');
  await page.fill('#profile-form [name=displayName]', cfg.newName);
  await page.fill('#profile-form [name=birthYear]', String(cfg.birthYear));
  await page.click('#profile-form button[type=submit]');
  await page.locator('#profile-note', { hasText: '已保存' }).waitFor();
  if (await page.textContent('#profile-error')) throw new Error('profile: ' + (await page.textContent('#profile-error')));

  step('download Excel and JSON again');
  const xlsx = await download('xlsx');
  if (xlsx.subarray(0, 2).toString() !== 'PK') throw new Error('the Excel download is not a workbook');
  const again = JSON.stringify(JSON.parse((await download('json')).toString('utf8')));
  if (!again.includes(cfg.newName)) throw new Error(`the second JSON download does not hold the corrected name ${cfg.newName}`);
  if (await page.textContent('#data-error')) throw new Error('download: ' + (await page.textContent('#data-error')));

  step('withdraw a consent');
  const row = page.locator(`#consent-rows li[data-purpose="${cfg.withdraw}"]`);
  await row.locator('button.withdraw').click();
  await page.locator(`#consent-rows li[data-purpose="${cfg.withdraw}"][data-withdrawn="true"]`).waitFor();
  if ((await page.locator('#consent-rows li[data-withdrawn="false"]').count()) !== cfg.consents - 1) throw new Error('another consent was withdrawn too');
  // A phone's screen: nothing wider than it.
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
  if (wide > 0) throw new Error(`the page is ${wide}px wider than the phone's screen`);
  await shot('signed-in');

  step('delete the account');
  await page.fill('#delete-form [name=password]', cfg.password);
  await page.fill('#delete-form [name=confirm]', '注销');
  await page.click('#delete-form button[type=submit]');
  await page.locator('#delete-error', { hasText: '确认注销' }).waitFor();
  await page.fill('#delete-form [name=password]', cfg.password);
  await page.fill('#delete-form [name=confirm]', '确认注销');
  await page.click('#delete-form button[type=submit]');
  await page.locator('#deleted').waitFor();
  await shot('deleted');
  if (await page.evaluate(() => localStorage.getItem('linli.me.token'))) throw new Error('the token is still kept after the deletion');
  const res = await fetch(cfg.url + '/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
    body: JSON.stringify({ query: '{ myProfile { id displayName } }' }),
  });
  const body = await res.json();
  const code = body.errors && body.errors[0].extensions && body.errors[0].extensions.code;
  if (code !== 'UNAUTHENTICATED') throw new Error(`the old token after the deletion: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  console.log(`me: the old token is refused (${res.status} ${code})`);
  for (const u of urls) if (u.includes(token)) throw new Error('a request carried the token in its URL: ' + u.slice(0, 60));
  await cspCheck(page, 'me');
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
finish(failed);
