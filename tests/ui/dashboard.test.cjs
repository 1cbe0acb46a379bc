// End-to-end test of the dashboard served at GET /ui, in a real headless Chromium.
//
// Run through tests/ui/run.sh, which starts mockd and sets:
//   MOCKD_URL   where mockd listens (http://127.0.0.1:PORT)
//   MOCKD_KEYS  three API keys, comma separated (one per scenario, so their mocks stay apart)
//   CHROMIUM    the browser binary
//   NODE_PATH   where playwright-core is installed
// Screenshots: target/ui/dashboard.png, target/ui/dashboard-load.png (and tests/ui/dashboard.png
// with UPDATE_README_SCREENSHOT=1).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BASE = process.env.MOCKD_URL;
const [KEY1, KEY2, KEY3] = (process.env.MOCKD_KEYS || '').split(',');
const ROOT = path.resolve(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'target', 'ui');
const README_SHOT = path.join(__dirname, 'dashboard.png');
const UPDATE_README_SHOT = process.env.UPDATE_README_SCREENSHOT === '1';
if (!BASE || !KEY3) throw new Error('run this through tests/ui/run.sh (MOCKD_URL, MOCKD_KEYS)');

// ------------------------------------------------------------------ plain HTTP from the test
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function call(method, urlPath, { key, body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (key) headers['X-API-Key'] = key;
    let data;
    if (body !== undefined) {
      data = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = data.length;
    }
    const req = http.request(BASE + urlPath, { method, headers, agent, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(method + ' ' + urlPath + ' timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

async function pool(items, concurrency, fn) {
  let next = 0;
  const out = new Array(items.length);
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

async function createMocks(key, specs) {
  return pool(specs, 16, async (spec) => {
    const r = await call('POST', '/v1/mocks', { key, body: spec });
    assert.equal(r.status, 201, r.text);
    return r.json.mock;
  });
}

// A bounded load: `rate(mockIndex, secondsSinceStart)` requests per second for each mock, for at
// most `seconds` seconds and `maxRequests` requests, from a few keep-alive connections.
function startLoad(mocks, { seconds, rate, maxRequests = 200000 }) {
  const started = Date.now();
  let stop = false, sent = 0, failed = 0;
  const statuses = new Map(mocks.map((m) => [m.mock_id, m.status_code]));
  const runner = (async () => {
    while (!stop && Date.now() - started < seconds * 1000 && sent < maxRequests) {
      const t = (Date.now() - started) / 1000;
      const batch = [];
      mocks.forEach((m, i) => {
        const per100ms = rate(i, t) / 10;
        const n = Math.floor(per100ms) + (Math.random() < per100ms % 1 ? 1 : 0);
        for (let k = 0; k < n; k++) batch.push(m.mock_id);
      });
      const tick = Date.now();
      await pool(batch, 8, async (id) => {
        sent++;
        const r = await call('GET', '/v1/mock/' + id);
        if (r.status !== statuses.get(id)) failed++;
      });
      const wait = 100 - (Date.now() - tick);
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  })();
  return {
    async stop() { stop = true; await runner; return { sent, failed }; },
    done: runner.then(() => ({ sent, failed })),
  };
}

// ------------------------------------------------------------------ the browser
let browser, context, page;
const consoleErrors = [];   // console errors and uncaught exceptions, with the phase they came in
const allowedErrors = [];   // regexps of errors a phase expects (a deliberate 422)
let phase = 'start';

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning' && /Content.Security.Policy|Refused to/i.test(msg.text())) {
      consoleErrors.push({ phase, text: msg.text() });
    }
  });
  page.on('pageerror', (err) => consoleErrors.push({ phase, text: 'uncaught: ' + err.message }));
  // CSP violations are also collected in the page, where the browser reports them.
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
    });
    window.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push({ at: e.startTime, ms: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch (_) { /* not supported */ }
  });
  page.on('dialog', (d) => {
    lastDialog = d.message();
    d.accept();
  });
});
let lastDialog = '';

after(async () => {
  if (browser) await browser.close();
  agent.destroy();
});

function unexpectedErrors() {
  return consoleErrors.filter((e) => !allowedErrors.some((a) => a.phase === e.phase && a.re.test(e.text)));
}
async function assertCleanPage() {
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual(csp, [], 'CSP violations: ' + csp.join('; '));
  assert.deepEqual(unexpectedErrors(), [], 'console errors');
}

const rowSel = (id) => `#mock-rows .row[data-id="${id}"]`;
const cellText = (id, col) => page.locator(`${rowSel(id)} [data-col="${col}"]`).textContent();
const num = (s) => Number(String(s).replace(/[^0-9.]/g, ''));

async function useKey(key) {
  if (await page.locator('#key-forget').isVisible()) await page.click('#key-forget');
  await page.fill('#key-input', key);
  await page.click('#key-use');
  await page.waitForSelector('#key-state:not([hidden])');
}

// ------------------------------------------------------------------ the scenarios
let created;          // the mock made through the form
const HITS = 25;

test('the page loads with everything inline, and shows the server', async () => {
  phase = 'load';
  const res = await page.goto(BASE + '/ui');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
  await page.waitForFunction(() => /^v\d/.test(document.getElementById('t-version').textContent));
  await page.waitForFunction(() => document.getElementById('live').dataset.state === 'ok');
  // Only same-origin requests were made, and only to the API.
  const external = await page.evaluate((origin) =>
    performance.getEntriesByType('resource').map((e) => e.name).filter((u) => !u.startsWith(origin)), BASE);
  assert.deepEqual(external, []);
  assert.equal(await page.locator('#mocks-empty').textContent(), 'Paste an API key above to see its mocks.');
  assert.ok(await page.locator('#create-submit').isDisabled(), 'create needs a key');
  await assertCleanPage();
});

test('the key is kept in session storage only, and can be forgotten', async () => {
  phase = 'key';
  // A wrong key is reported once (the browser logs the 401 itself), not retried every second.
  allowedErrors.push({ phase, re: /status of 401/ });
  await useKey('not-a-key');
  await page.waitForFunction(() => document.getElementById('key-badge').textContent === 'rejected');
  assert.match(await page.locator('#mocks-empty').textContent(), /did not accept this API key/);
  const refused = consoleErrors.filter((e) => e.phase === phase).length;
  await page.waitForTimeout(2500);
  assert.equal(consoleErrors.filter((e) => e.phase === phase).length, refused, 'the list is not asked again with a refused key');
  await useKey(KEY1);
  await page.waitForFunction(() => document.getElementById('mocks-empty').textContent.startsWith('No mocks yet'));
  const stored = await page.evaluate(() => ({
    session: sessionStorage.getItem('mockd.apiKey'), local: localStorage.length, cookie: document.cookie,
  }));
  assert.deepEqual(stored, { session: KEY1, local: 0, cookie: '' });
  // It survives a reload of the tab …
  await page.reload();
  await page.waitForSelector('#key-state:not([hidden])');
  // … and "Forget key" removes it.
  await page.click('#key-forget');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('mockd.apiKey')), null);
  assert.ok(await page.locator('#key-input').isVisible());
  await useKey(KEY1);
  await assertCleanPage();
});

test('the create form shows the server\'s detail on 422, then creates the mock', async () => {
  phase = 'create';
  // The browser logs the failed request itself; that one error is expected here.
  allowedErrors.push({ phase, re: /status of 422/ });
  await page.fill('#create-name', 'ui-orders');
  await page.fill('#create-status', '99');
  await page.click('#create-submit');
  await page.waitForSelector('#create-error:not([hidden])');
  assert.equal(await page.locator('#create-error').textContent(),
    'status_code: must be an integer from 100 to 599, got 99');
  assert.equal(await page.locator('#create-status').getAttribute('aria-invalid'), 'true');

  await page.fill('#create-status', '201');
  await page.fill('#create-delay', '0');
  await page.fill('#create-ttl', '600');
  await page.fill('#create-body', '{"order": 42}');
  await page.fill('#hdr-rows .hdr-name', 'X-Order');
  await page.fill('#hdr-rows .hdr-value', '42');
  await page.click('#create-submit');
  await page.waitForSelector('#create-ok:not([hidden])');
  const endpoint = await page.locator('#create-ok code').textContent();
  const id = endpoint.split('/').pop();
  const row = page.locator(rowSel(id));
  await row.waitFor();
  assert.equal(await row.locator('.name').textContent(), 'ui-orders');
  assert.equal(await row.locator('.id code').textContent(), id);
  assert.equal(await row.locator('.status').textContent(), '201');
  assert.match(await row.locator('.exp').textContent(), /^(10m 00s|9m \d\ds)$/);

  // What the server stored is what the form said.
  const got = await call('GET', '/v1/mocks/' + id, { key: KEY1 });
  assert.equal(got.status, 200);
  created = got.json.mock;
  assert.equal(created.name, 'ui-orders');
  assert.equal(created.status_code, 201);
  assert.equal(created.has_custom_headers, true);
  assert.equal(created.has_body, true);
  const served = await call('GET', created.endpoint_url);
  assert.equal(served.status, 201);
  assert.equal(served.text, '{"order": 42}');
  // The JSON view of the headers carries the rows over.
  await page.click('.seg label:has(input[value="json"])');
  assert.deepEqual(JSON.parse(await page.locator('#create-headers-json').inputValue()), { 'X-Order': '42' });
  await page.click('.seg label:has(input[value="rows"])');
  await assertCleanPage();
});

test('hits made from outside show up as total hits and in the sparkline', async () => {
  phase = 'hits';
  const id = created.mock_id;
  // One served above while checking the body, HITS-1 more now.
  await pool(Array.from({ length: HITS - 1 }), 5, async () => {
    const r = await call('GET', '/v1/mock/' + id);
    assert.equal(r.status, 201);
  });
  await page.waitForFunction(([sel, n]) => {
    const td = document.querySelector(sel + ' [data-col="hits"]');
    return td && Number(td.textContent.replace(/,/g, '')) === n;
  }, [rowSel(id), HITS], { timeout: 15000, polling: 100 });
  // The sparkline has drawn every hit (once the second they came in is complete): its points add
  // up to HITS, and the peak shows as opaque pixels in its upper half.
  await page.waitForFunction(([sel, n]) => {
    const c = document.querySelector(sel + ' canvas.spark');
    if (!c || Number(c.dataset.sum) !== n) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, Math.floor(c.height / 2)).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
    return false;
  }, [rowSel(id), HITS], { timeout: 15000, polling: 100 });
  assert.match(await cellText(id, 'rate'), /^[0-9][0-9,]*$/, 'hits in the last complete second');
  // The server-wide chart has points, from successive /metrics scrapes.
  await page.waitForFunction(() => Number(document.getElementById('rps-chart').dataset.points) >= 2,
    null, { timeout: 10000 });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard.png') });
  await assertCleanPage();
});

test('copy puts the id on the clipboard', async () => {
  phase = 'copy';
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  await page.click(rowSel(created.mock_id) + ' button[data-act="copy"]');
  await page.waitForSelector('#toast:not([hidden])');
  assert.equal(await page.locator('#toast').textContent(), 'Copied ' + created.mock_id);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), created.mock_id);
  await assertCleanPage();
});

test('delete asks, removes the mock on the server, and the row disappears', async () => {
  phase = 'delete';
  const id = created.mock_id;
  lastDialog = '';
  await page.click(rowSel(id) + ' button[data-act="delete"]');
  await page.locator(rowSel(id)).waitFor({ state: 'detached', timeout: 10000 });
  assert.match(lastDialog, new RegExp('Delete mock "ui-orders" \\(' + id + '\\)'));
  assert.equal((await call('GET', '/v1/mocks/' + id, { key: KEY1 })).status, 404);
  // And it stays gone after the next refreshes.
  await page.waitForFunction(() => document.getElementById('mocks-empty').textContent.startsWith('No mocks yet'),
    null, { timeout: 5000 });
  await assertCleanPage();
});

test('1,000 mocks under load: stats only for rows on screen, refreshes stay short', async () => {
  phase = 'many';
  const specs = Array.from({ length: 1000 }, (_, i) => ({ name: 'bulk-' + String(i).padStart(4, '0'), body: 'ok', ttl_seconds: 900 }));
  const mocks = await createMocks(KEY2, specs);
  const load = startLoad(mocks.slice(-50), { seconds: 30, rate: () => 20 });   // ~1,000 req/s
  try {
    await useKey(KEY2);
    await page.waitForFunction(() => document.querySelectorAll('#mock-rows .row').length === 1000, null, { timeout: 20000 });
    assert.equal(await page.locator('#mocks-count').textContent(), '1,000 mocks');
    // Wait for the refreshes to settle, then watch five seconds of them.
    await page.waitForFunction(() => Number(document.getElementById('f-refresh').dataset.statsRequests) > 0, null, { timeout: 10000 });
    const statsUrls = [];
    const onRequest = (req) => { if (req.url().endsWith('/stats')) statsUrls.push(req.url()); };
    page.on('request', onRequest);
    await page.evaluate(() => { window.__longTasks = []; });
    const samples = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 5000) {
      const ping = Date.now();
      const r = await page.evaluate(() => ({
        refreshMs: Number(document.getElementById('f-refresh').dataset.refreshMs),
        stats: Number(document.getElementById('f-refresh').dataset.statsRequests),
      }));
      samples.push({ ...r, pingMs: Date.now() - ping });
      await new Promise((res) => setTimeout(res, 250));
    }
    page.off('request', onRequest);
    const longTasks = await page.evaluate(() => window.__longTasks);
    const worst = (k) => Math.max(...samples.map((s) => s[k]));
    console.log(`# 1,000 mocks: ${statsUrls.length} stats requests in 5 s; refresh ≤ ${worst('refreshMs')} ms;` +
      ` page answered within ${worst('pingMs')} ms; long tasks: ${longTasks.map((t) => Math.round(t.ms)).join(', ') || 'none'}`);
    // Stats only for what is on screen: a few dozen rows, not a thousand, per refresh.
    assert.ok(worst('stats') <= 60, 'stats requests per refresh: ' + worst('stats'));
    assert.ok(statsUrls.length <= 5 * 60, 'stats requests in 5 s: ' + statsUrls.length);
    assert.ok(worst('refreshMs') < 1000, 'a refresh took ' + worst('refreshMs') + ' ms');
    assert.ok(worst('pingMs') < 500, 'the page took ' + worst('pingMs') + ' ms to answer');
    assert.ok(longTasks.every((t) => t.ms < 200), 'long tasks: ' + JSON.stringify(longTasks));

    // Scrolling to the bottom brings the oldest mocks' hit rates in.
    const oldest = mocks[0].mock_id;
    await page.locator(rowSel(oldest)).scrollIntoViewIfNeeded();
    await page.waitForSelector(rowSel(oldest) + ' canvas.spark', { timeout: 10000 });
    // The filter narrows the rows down.
    await page.fill('#filter', 'bulk-0999');
    await page.waitForFunction(() => document.querySelectorAll('#mock-rows .row:not([hidden])').length === 1);
    await page.fill('#filter', '');
  } finally {
    const { failed } = await load.stop();
    assert.equal(failed, 0, 'load requests with a wrong status');
  }
  await assertCleanPage();
  // Clean up, so the next scenario's server-wide numbers are its own.
  await pool(mocks, 16, async (m) => assert.equal((await call('DELETE', '/v1/mocks/' + m.mock_id, { key: KEY2 })).status, 200));
  await page.waitForFunction(() => document.querySelectorAll('#mock-rows .row').length === 0, null, { timeout: 10000 });
});

test('20 mocks under a running load (the README screenshot)', async () => {
  phase = 'shot';
  const kinds = [
    ['checkout-ok', 200, 0, 3600], ['checkout-slow', 200, 120, 3600], ['payments-declined', 402, 0, 1800],
    ['inventory', 200, 0, 7200], ['users-profile', 200, 25, 3600], ['search', 200, 0, 600],
    ['recommendations', 200, 60, 3600], ['cart-empty', 204, 0, 900], ['legacy-redirect', 301, 0, 3600],
    ['rate-limited', 429, 0, 300], ['orders-create', 201, 10, 3600], ['orders-list', 200, 0, 3600],
    ['shipping-quote', 200, 40, 1200], ['auth-expired', 401, 0, 3600], ['upstream-down', 503, 0, 240],
    ['feature-flags', 200, 0, 86400], ['pricing', 200, 5, 3600], ['notifications', 202, 0, 3600],
    ['avatar-missing', 404, 0, 3600], ['health', 200, 0, 172800],
  ];
  const specs = kinds.reverse().map(([name, status_code, delay_ms, ttl_seconds]) =>
    ({ name, status_code, delay_ms, ttl_seconds, body: status_code === 204 || status_code === 301 ? '' : '{"ok":true}' }));
  const mocks = [];
  for (const s of specs) mocks.push(...await createMocks(KEY3, [s]));   // in order: newest first in the list
  // Each mock gets its own rhythm so the sparklines differ; a few stay idle.
  const seconds = UPDATE_README_SHOT ? 70 : 8;   // 70: the chart shows only this load
  const rate = (i, t) => {
    if (i % 7 === 3) return 0;
    const base = 4 + (i * 37) % 40;
    return Math.max(0, base * (0.55 + 0.45 * Math.sin(t / (3 + i % 5) + i)));
  };
  await useKey(KEY3);
  await page.waitForFunction(() => document.querySelectorAll('#mock-rows .row').length === 20, null, { timeout: 10000 });
  const load = startLoad(mocks, { seconds, rate });
  const { sent, failed } = await load.done;
  assert.equal(failed, 0);
  assert.ok(sent > 0);
  // Keep the load going lightly while the picture is taken.
  const tail = startLoad(mocks, { seconds: 4, rate });
  await page.waitForTimeout(1500);
  await page.evaluate(() => document.getElementById('toast').setAttribute('hidden', ''));
  await page.setViewportSize({ width: 1440, height: 1372 });
  await page.waitForTimeout(1100);   // one refresh at the new size
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-load.png') });
  if (UPDATE_README_SHOT) fs.copyFileSync(path.join(SHOTS, 'dashboard-load.png'), README_SHOT);
  await tail.stop();
  await page.setViewportSize({ width: 1440, height: 1000 });
  await assertCleanPage();
});
