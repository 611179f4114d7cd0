// What the browser runs share (e2e.mjs, me.mjs): steps, the API, and the
// watch that fails a run on any console error or warning, page error,
// failed request, error status or CSP violation (but for requests a test
// cuts off on purpose, matched by h.tolerated).
export function harness(cfg) {
  const h = {
    problems: [],
    // tolerated matches the requests the test cuts off on purpose.
    tolerated: null,
    current: '',
    step(s) {
      h.current = s;
      console.log('step: ' + s);
    },
    async api(query, variables, token) {
      const res = await fetch(cfg.url + '/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = await res.json();
      if (body.errors) throw new Error(query.slice(0, 60) + ': ' + JSON.stringify(body.errors));
      return body.data;
    },
    watch(page, name) {
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') {
          if (h.tolerated && /Failed to load resource|ERR_CONNECTION_REFUSED|ERR_FAILED/.test(m.text())) return;
          h.problems.push(`${name} console ${m.type()}: ${m.text()}`);
        }
      });
      page.on('pageerror', (e) => h.problems.push(`${name} page error (${h.current}): ${e.message} ${e.stack || ''}`));
      page.on('requestfailed', (r) => {
        if (h.tolerated && h.tolerated.test(r.url())) return;
        h.problems.push(`${name} request failed: ${r.url()} ${r.failure() && r.failure().errorText}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) h.problems.push(`${name} response ${r.status()}: ${r.url()} ${(r.request().postData() || '').slice(0, 120)}`);
      });
    },
    // cspGuard collects securitypolicyviolation events from the page.
    async cspGuard(page) {
      await page.addInitScript(() => {
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
      });
    },
    async cspCheck(page, name) {
      const v = await page.evaluate(() => window.__csp || []);
      for (const x of v) h.problems.push(`${name} CSP violation: ${x}`);
    },
    // finish prints the problems and ends the process: 1 on a failure or
    // any problem.
    finish(failed) {
      for (const p of h.problems) console.log('problem: ' + p);
      if (failed) {
        console.log('FAILED: ' + (failed.stack || failed));
        process.exit(1);
      }
      if (h.problems.length) process.exit(1);
      console.log('ok');
    },
  };
  // Destructured by the runs: bound so they work detached.
  for (const k of ['step', 'api', 'watch', 'cspGuard', 'cspCheck', 'finish']) h[k] = h[k].bind(h);
  return h;
}
