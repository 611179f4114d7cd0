// Unit tests of the pages' helpers that need no browser (run by
// web/helpers_test.go with node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dayBounds, dayKey, nonce, sha256Fallback } from './common.js';

test('the SHA-256 fallback matches node:crypto around every padding edge', () => {
  const inputs = ['', 'abc', 'linli-checkin:QWxhZGRpbg:7Kq', '中文签到码'.repeat(40)];
  for (let n = 50; n <= 130; n++) inputs.push('x'.repeat(n));
  for (const s of inputs) {
    assert.equal(sha256Fallback(new TextEncoder().encode(s)), createHash('sha256').update(s).digest('hex'), `length ${s.length}`);
  }
});

test('nonces are 32 hex digits and differ', () => {
  const a = nonce();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, nonce());
});

test("today is China's day", () => {
  // 2026-03-01 23:30 in China is 15:30 UTC; the day began at 16:00 UTC the day before.
  const [start, end] = dayBounds(new Date('2026-03-01T15:30:00Z'));
  assert.equal(start.toISOString(), '2026-02-28T16:00:00.000Z');
  assert.equal(end.toISOString(), '2026-03-01T16:00:00.000Z');
  const [s2] = dayBounds(new Date('2026-03-01T16:00:00Z'));
  assert.equal(s2.toISOString(), '2026-03-01T16:00:00.000Z');
});

test("a day's key is China's date", () => {
  assert.equal(dayKey(new Date('2026-03-01T15:30:00Z')), '2026-03-01');
  assert.equal(dayKey(new Date('2026-03-01T16:00:00Z')), '2026-03-02');
});
