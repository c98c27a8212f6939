// Browser tests of the web console: headless Chromium (Debian's package) driven by
// playwright-core, against a real `kinerja serve --demo` started by scripts/console-test.sh.
// Every main view is screenshotted to docs/screenshots/ for docs/console.md.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set (run scripts/console-test.sh)`);
  return v;
};
const BASE = env('KINERJA_URL');
const ADMIN = env('ADMIN_TOKEN');
const RA = env('RA_TOKEN');
const AGENCY = env('AGENCY_TOKEN');
const EMP = env('EMP_TOKEN');
const EMP_NIP = env('EMP_NIP');
const OTHER_NIP = env('OTHER_NIP');
const SUP = env('SUP_TOKEN');
const SUP_NIP = env('SUP_NIP');
const REGION = env('TEST_REGION');
const AGENCY_ID = env('TEST_AGENCY');
const PLUGINS = env('PLUGIN_DIR');
const SHOTS = env('SCREENSHOT_DIR');

/** One persistent context (the brief's fresh --user-data-dir); each test opens its own tab,
 * and sessionStorage, where the console keeps the token, is per tab. */
let browser;
let profile;
const pageErrors = [];
const foreign = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'kinerja-chromium-'));
  // playwright passes the profile directory as --user-data-dir itself.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    locale: 'id-ID',
    timezoneId: 'Asia/Jakarta',
  });
});

after(async () => {
  if (browser) await browser.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** A fresh page (own sessionStorage) that records uncaught errors and off-origin requests. */
async function newPage() {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(BASE) && !u.startsWith('data:')) foreign.push(u);
  });
  return page;
}

async function signIn(page, token) {
  await page.goto(BASE + '/');
  await page.fill('#token', token);
  await page.click('#signin');
  await page.waitForSelector('#role');
}

/** A screenshot of the card (section) holding `selector`. */
async function shotCard(page, selector, name) {
  const card = page.locator(selector).locator('xpath=ancestor-or-self::section[1]');
  await card.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** A screenshot of the page, cut at `maxHeight` so long tables do not drown the view. */
async function shot(page, name, maxHeight = 2400) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.screenshot({
    path: join(SHOTS, `${name}.png`),
    fullPage: true,
    clip: { x: 0, y: 0, width: 1280, height: Math.min(height, maxHeight) },
  });
}

async function api(token, method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

test('assets: served with types, no token, 404 for unknown files, not in OpenAPI', async () => {
  const index = await fetch(BASE + '/');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
  const js = await fetch(BASE + '/console/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const again = await fetch(BASE + '/console/app.js', { headers: { 'If-None-Match': js.headers.get('etag') } });
  assert.equal(again.status, 304);
  const missing = await fetch(BASE + '/console/nope.js');
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');
  const doc = await (await fetch(BASE + '/openapi.json')).json();
  assert.ok(doc.paths['/api/v1/tokens/self'], 'the self route is documented');
  assert.ok(!doc.paths['/'] && !Object.keys(doc.paths).some((p) => p.startsWith('/console')), 'console files are not API routes');
});

test('tokens/self answers each role its scope', async () => {
  const cases = [
    [ADMIN, { role: 'admin' }],
    [RA, { role: 'region_admin', region: REGION }],
    [AGENCY, { role: 'agency', region: REGION, agency: AGENCY_ID }],
    [EMP, { role: 'employee', region: REGION, nip: EMP_NIP }],
  ];
  for (const [token, want] of cases) {
    const r = await api(token, 'GET', '/api/v1/tokens/self');
    assert.equal(r.status, 200);
    for (const [k, v] of Object.entries(want)) assert.equal(r.body[k], v, k);
    assert.ok(!JSON.stringify(r.body).includes('knj_'), 'never the secret');
  }
  assert.equal((await fetch(BASE + '/api/v1/tokens/self')).status, 401);
});

test('sign-in: an unknown token is refused in words', async () => {
  const page = await newPage();
  await page.goto(BASE + '/');
  await page.waitForSelector('#token');
  await shot(page, 'signin');
  await page.fill('#token', 'knj_not_a_real_token');
  await page.click('#signin');
  const err = page.locator('.error[data-status="401"]');
  await err.waitFor();
  assert.match(await err.innerText(), /unknown or revoked token/);
  await page.close();
});

test('sign-in: an employee with NIP and an initial password chooses their own, signs out and back in', async () => {
  const path = `/api/v1/regions/${REGION}/employees/${EMP_NIP}/password`;
  assert.equal((await api(AGENCY, 'PUT', path, { password: 'sementara-2026' })).status, 204);
  const page = await newPage();
  await page.goto(BASE + '/');
  await page.waitForSelector('#signin-nip');
  // The region is typed (nothing lists regions before sign-in).
  assert.equal(await page.getAttribute('#signin-region', 'pattern'), '[a-z][a-z0-9]*(-[a-z0-9]+)*');
  const signInAs = async (password) => {
    await page.fill('#signin-region', REGION);
    await page.fill('#signin-nip', EMP_NIP);
    await page.fill('#signin-password', password);
    await page.click('#signin-person');
  };
  // A wrong password is refused in words, the same words as for an unknown NIP. The form posts
  // under the typed region (a cluster's proxy routes it to the region's node).
  const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes('/sessions'));
  await signInAs('salah-sekali');
  assert.equal(new URL((await posted).url()).pathname, `/api/v1/regions/${REGION}/sessions`);
  const err = page.locator('.error[data-status="401"]');
  await err.waitFor();
  assert.match(await err.innerText(), /wrong NIP or password/);

  // The initial password opens only the password change.
  await signInAs('sementara-2026');
  await page.waitForSelector('#pw-new');
  await shot(page, 'password-change');
  await page.fill('#pw-old', 'sementara-2026');
  await page.fill('#pw-new', 'pilihan-saya-2026');
  await page.fill('#pw-again', 'pilihan-beda-2026');
  await page.click('#pw-save');
  await page.locator('.error').waitFor();
  await page.fill('#pw-again', 'pilihan-saya-2026');
  await page.click('#pw-save');
  await page.waitForSelector('#emp-nip');
  assert.equal((await page.innerText('#emp-nip')).trim(), EMP_NIP);
  assert.match(await page.innerText('#role'), /Pegawai/);

  // Signing out ends the session on the server.
  const session = await page.evaluate(() => sessionStorage.getItem('kinerja.token'));
  assert.equal((await api(session, 'GET', '/api/v1/tokens/self')).body.expires_at !== undefined, true);
  await page.click('#signout');
  await page.waitForSelector('#signin-nip');
  assert.equal((await api(session, 'GET', '/api/v1/tokens/self')).status, 401);
  // The region signed in to is remembered on the device and filled in next time.
  assert.equal(await page.inputValue('#signin-region'), REGION);

  // The chosen password signs in straight to the employee's page; the initial one is spent.
  await signInAs('sementara-2026');
  await page.locator('.error[data-status="401"]').waitFor();
  await signInAs('pilihan-saya-2026');
  await page.waitForSelector('#emp-nip');
  await page.close();
});

test('admin: regions, a region\'s agencies, and an agency', async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  assert.match(await page.innerText('#role'), /Admin/);
  await page.waitForSelector(`a.tile[href="#/r/${REGION}"]`);
  await shot(page, 'admin-regions');
  await page.click(`a.tile[href="#/r/${REGION}"]`);
  await page.waitForSelector('#modules table');
  await page.click('#tab-agencies');
  await page.waitForSelector(`a.tile[href="#/r/${REGION}/a/${AGENCY_ID}"]`);
  await shot(page, 'admin-agencies');
  await page.click(`a.tile[href="#/r/${REGION}/a/${AGENCY_ID}"]`);
  await page.waitForSelector('#emp-list table tbody tr');
  // The breadcrumbs name the region and the agency, not their ids.
  const region = (await api(ADMIN, 'GET', `/api/v1/regions/${REGION}`)).body;
  const agency = (await api(ADMIN, 'GET', `/api/v1/regions/${REGION}/agencies/${AGENCY_ID}`)).body;
  assert.equal((await page.innerText('#crumb-region')).trim(), region.name);
  await page.goto(`${BASE}/#/r/${REGION}/e/${EMP_NIP}`);
  await page.waitForSelector('#emp-nip');
  assert.equal((await page.innerText('#crumb-region')).trim(), region.name);
  assert.equal((await page.innerText('#crumb-agency')).trim(), agency.name);
  await page.close();
});

test('regions: the admin adds a region through the form (a bad id refused in words) and opens it; an agency sees no form', async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.waitForSelector(`#regions li[data-region="${REGION}"]`);
  assert.equal(await page.locator('#nav a').count(), 1, 'one link to the regions page, not one per region');
  const listed = (await api(ADMIN, 'GET', '/api/v1/regions')).body.items;
  assert.equal(await page.locator('#regions li[data-region]').count(), listed.length);

  // An id that is not a slug: the server's sentence, naming the rule.
  await page.fill('#region-id', 'Kota_Pekanbaru');
  await page.fill('#region-name', 'Pemerintah Kota Pekanbaru');
  await page.selectOption('#region-level', 'kota');
  await page.selectOption('#region-zone', 'Asia/Jakarta');
  await page.click('#region-save');
  const refusal = page.locator('#region-out .error[data-status="400"]');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /slug/);

  // A good one is created and listed with its level and time zone.
  await page.fill('#region-id', 'kota-pekanbaru');
  await page.click('#region-save');
  await page.waitForSelector('#region-out .ok');
  const tile = page.locator('#regions li[data-region="kota-pekanbaru"]');
  await tile.waitFor();
  const text = await tile.innerText();
  for (const t of ['Pemerintah Kota Pekanbaru', 'kota-pekanbaru', 'Kota', 'WIB']) assert.ok(text.includes(t), `${t} in ${text}`);
  const stored = await api(ADMIN, 'GET', '/api/v1/regions/kota-pekanbaru');
  assert.equal(stored.status, 200);
  assert.deepEqual([stored.body.name, stored.body.level, stored.body.time_zone], ['Pemerintah Kota Pekanbaru', 'kota', 'Asia/Jakarta']);

  // Its page is named from the API, and its (empty) modules load.
  await tile.locator('a.tile').click();
  await page.waitForSelector('#modules table');
  assert.equal((await page.innerText('#region-title')).trim(), 'Pemerintah Kota Pekanbaru');
  await page.close();

  // An agency lands on its agency and has no regions page to add one from.
  const ag = await newPage();
  await signIn(ag, AGENCY);
  await ag.waitForSelector('#emp-list table');
  await ag.goto(`${BASE}/#/`);
  await ag.waitForSelector('#emp-list table');
  assert.equal(await ag.locator('#region-form, #nav-regions').count(), 0);
  await ag.close();
});

test('region settings: the region admin changes the region\'s time zone, shown in its reporting rules too', async () => {
  const path = `/api/v1/regions/${REGION}`;
  const before = (await api(RA, 'GET', path)).body;
  const page = await newPage();
  await signIn(page, RA);
  await page.waitForSelector('#modules table');
  assert.equal((await page.innerText('#region-title')).trim(), before.name);
  await page.click('#tab-settings');
  await page.waitForSelector('#region-settings');
  assert.equal(await page.inputValue('#settings-zone'), before.time_zone);
  try {
    await page.selectOption('#settings-zone', 'Asia/Makassar');
    await page.click('#settings-save');
    await page.waitForSelector('#settings-out .ok');
    assert.match(await page.innerText('#settings-saved'), /WITA \(Asia\/Makassar\)/);
    await shotCard(page, '#region-settings', 'region-settings');
    // One setting, shown in both places; and the page read again shows it.
    assert.equal((await api(RA, 'GET', `${path}/reporting`)).body.time_zone, 'Asia/Makassar');
    await page.reload();
    await page.click('#tab-settings');
    await page.waitForSelector('#region-settings');
    assert.equal(await page.inputValue('#settings-zone'), 'Asia/Makassar');
  } finally {
    // The later tests date reports in WIB, the demo's zone.
    const back = await api(RA, 'PUT', path, { name: before.name, level: before.level, time_zone: before.time_zone });
    assert.equal(back.status, 200, JSON.stringify(back.body));
  }
  await page.close();
});

test('region admin: upload (refusal and success), dry run, activate, roll back', async () => {
  const page = await newPage();
  await signIn(page, RA);
  assert.match(await page.innerText('#role'), /region admin/);
  await page.waitForSelector('#modules table tbody tr[data-id]');
  const before = await api(RA, 'GET', `/api/v1/regions/${REGION}/policies`);
  const original = before.body.active.appraise.plugin;
  await shot(page, 'region-admin-plugins');

  // Drag and drop of a file that is not a module: refused, with the reason in words.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new TextEncoder().encode('bukan modul wasm')], 'bukan.wasm', { type: 'application/wasm' }));
    document.getElementById('dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const refusal = page.locator('#upload-result .error[data-status="400"]');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /not a WebAssembly module/);
  assert.match(await refusal.innerText(), /ditolak/);
  await shotCard(page, '#upload-result', 'region-admin-refusal');

  // The file picker with a real module.
  await page.setInputFiles('#wasm-file', join(PLUGINS, 'kinerja_test_simple.wasm'));
  await page.waitForSelector('#upload-result .ok');
  const id = (await page.innerText('#upload-result .plugin-id')).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  await page.waitForSelector(`#modules tr[data-id="${id}"]`);

  // Dry run on the agency: results, logs, fuel and time.
  assert.equal(await page.inputValue('#dry-module'), id);
  await page.selectOption('#dry-agency', AGENCY_ID);
  await page.click('#dry-run');
  await page.waitForSelector('#dry-fuel');
  assert.match(await page.innerText('#dry-logs'), /appraise \d+ case/);
  assert.ok((await page.locator('#dry-result table.dry-results tbody tr').count()) > 0);
  // And on a list of NIPs.
  await page.fill('#dry-nips', EMP_NIP);
  await page.click('#dry-run');
  await page.waitForFunction(() => document.querySelectorAll('#dry-result table.dry-results tbody tr').length === 1);
  await shotCard(page, '#dry-result', 'region-admin-dry-run');

  // Activation: invalid JSON is caught before sending.
  assert.equal(await page.inputValue('#act-module'), id);
  await page.fill('#act-config', '{"ambang": 90,');
  assert.equal(await page.isDisabled('#activate'), true);
  assert.match(await page.innerText('#config-check'), /JSON tidak valid/);
  await shotCard(page, '#activate', 'region-admin-config-invalid');
  await page.fill('#act-config', '[1, 2]');
  assert.equal(await page.isDisabled('#activate'), true);
  assert.match(await page.innerText('#config-check'), /objek JSON/);
  await page.fill('#act-config', '{"catatan": "uji konsol"}');
  assert.equal(await page.isDisabled('#activate'), false);
  await page.click('#activate');
  await page.waitForSelector(`#active [data-hook="appraise"] .active-plugin[title="${id}"]`);
  const mid = await api(RA, 'GET', `/api/v1/regions/${REGION}/policies`);
  assert.equal(mid.body.active.appraise.plugin, id);
  assert.deepEqual(mid.body.active.appraise.config, { catatan: 'uji konsol' });
  await shotCard(page, '#history', 'region-admin-history');

  // One-click rollback to the older activation.
  const row = page.locator(`#history tr[data-plugin="${original}"]`).filter({ hasText: 'appraise' }).first();
  await row.locator('button.rollback').click();
  await page.waitForSelector(`#active [data-hook="appraise"] .active-plugin[title="${original}"]`);
  const afterRb = await api(RA, 'GET', `/api/v1/regions/${REGION}/policies`);
  assert.equal(afterRb.body.active.appraise.plugin, original);
  await page.close();
});

test('region admin: impact preview of a module against the active policy', async () => {
  const page = await newPage();
  await signIn(page, RA);
  await page.waitForSelector('#modules table tbody tr[data-id]');
  // The simple test module (uploading it again answers the same id and picks it).
  await page.setInputFiles('#wasm-file', join(PLUGINS, 'kinerja_test_simple.wasm'));
  await page.waitForSelector('#upload-result .ok');
  const id = (await page.innerText('#upload-result .plugin-id')).trim();
  assert.equal(await page.inputValue('#impact-module'), id);
  const policies = await api(RA, 'GET', `/api/v1/regions/${REGION}/policies`);
  const active = policies.body.active.appraise.plugin;
  assert.notEqual(active, id, 'compared against the Jambi plugin');

  // Appraise, period 2025, the whole region, the active config.
  await page.selectOption('#impact-hook', 'appraise');
  await page.fill('#impact-period', '2025');
  assert.equal(await page.isVisible('#impact-asof'), false);
  await page.click('#impact-run');
  await page.waitForSelector('#impact-transitions');
  assert.match(await page.innerText('#impact-result .impact-head'), new RegExp(active.slice(0, 12)));
  const cells = page.locator('#impact-transitions td[data-from][data-to]');
  assert.equal(await cells.count(), 25, 'a 5×5 table');
  const values = await cells.evaluateAll((tds) => tds.map((td) => ({
    from: td.dataset.from, to: td.dataset.to, n: Number(td.textContent.replace(/\D/g, '')),
  })));
  const nonzero = values.filter((v) => v.n > 0);
  assert.ok(nonzero.length > 0, 'some employees are counted');
  for (const v of nonzero) assert.equal(v.to, 'baik', `${v.from} → ${v.to}: ${v.n}`);
  const shown = (sel) => page.innerText(sel).then((t) => Number(t.replace(/\D/g, '')));
  const employees = await shown('#impact-employees .value');
  assert.ok(employees > 0);
  assert.equal(values.reduce((s, v) => s + v.n, 0), employees, 'the cells add up to the employees');
  const unchanged = values.filter((v) => v.from === v.to).reduce((s, v) => s + v.n, 0);
  assert.equal(await shown('#impact-changed .value'), employees - unchanged);
  assert.ok((await page.locator('#impact-changes tbody tr[data-nip]').count()) > 0, 'largest score changes');
  assert.ok((await page.locator('#impact-agencies tbody tr[data-agency]').count()) > 0, 'per-agency summaries');
  await shotCard(page, '#impact-result', 'admin-impact');

  // Rotate: the test module proposes nothing, so every active move is removed and none added.
  await page.selectOption('#impact-hook', 'rotate');
  await page.fill('#impact-asof', '2026-01-31');
  await page.click('#impact-run');
  await page.waitForSelector('#impact-removed');
  assert.equal(await page.locator('#impact-added tbody tr[data-nip]').count(), 0);
  const removed = await page.locator('#impact-removed tbody tr[data-nip]').count();
  assert.equal(removed, await shown('#impact-moves-active .value'));
  assert.equal(await shown('#impact-moves-candidate .value'), 0);

  // Nothing was stored: the active policy is unchanged.
  const after = await api(RA, 'GET', `/api/v1/regions/${REGION}/policies`);
  assert.deepEqual(after.body.active, policies.body.active);
  await page.close();
});

test('agency: employees, appraisal with badges and chart, nine-box and rotations, formasi', async () => {
  const page = await newPage();
  await signIn(page, AGENCY);
  assert.match(await page.innerText('#role'), /Instansi/);
  await page.waitForSelector('#emp-list table tbody tr');
  assert.equal(await page.locator('#emp-list tbody tr').count(), 20, 'a page of 20');
  assert.match(await page.innerText('#page-info'), /Halaman 1 dari \d+/);
  await page.click('#next');
  assert.match(await page.innerText('#page-info'), /Halaman 2/);
  await shot(page, 'agency-employees');
  const name = (await page.locator('#emp-list tbody tr td a').first().innerText()).trim();
  await page.fill('#emp-search', name);
  await page.waitForFunction((n) => [...document.querySelectorAll('#emp-list tbody tr td a')].every((a) => a.textContent.includes(n)), name);

  await page.click('#tab-appraisal');
  await page.click('#run-appraisal');
  await page.waitForSelector('table.results tbody .badge');
  const badges = await page.locator('table.results tbody .badge').count();
  assert.ok(badges > 10, `badges: ${badges}`);
  const bars = page.locator('#distribution svg rect[data-predikat]');
  assert.equal(await bars.count(), 5);
  const counts = await bars.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-count'))));
  assert.equal(counts.reduce((a, b) => a + b, 0), badges, 'the chart counts the results');
  // A training recommendation says its subject on the chip itself.
  const trainingChips = await page.locator('table.results .chip.rec-training').allInnerTexts();
  assert.ok(trainingChips.length > 0, 'the demo appraisal recommends some training');
  assert.ok(trainingChips.every((t) => /^Pelatihan: \S/.test(t)), `training chips: ${trainingChips.slice(0, 5)}`);
  await page.locator('table.results button.explain').first().click();
  assert.match(await page.locator('table.results tr.explanation:not([hidden])').first().innerText(), /Penjelasan/);
  assert.match(await page.locator('table.results tr.explanation:not([hidden])').first().innerText(), /predikat (Sangat Baik|Baik|Butuh Perbaikan|Kurang|Sangat Kurang)/);
  await shot(page, 'agency-appraisal', 1500);

  await page.click('#tab-talent');
  await page.click('#run-rotation');
  await page.waitForSelector('#ninebox .box');
  assert.equal(await page.locator('#ninebox .box').count(), 9);
  const placed = await page.locator('#ninebox .box').evaluateAll((bs) => bs.reduce((s, b) => s + Number(b.dataset.count), 0));
  assert.ok(placed > 0, 'employees are placed in the grid');
  assert.ok((await page.locator('table.moves tbody tr td code').count()) > 0, 'rotation recommendations (not the empty row)');
  await shot(page, 'agency-ninebox');

  // The formasi: every position of the agency with its need, holders and gap, as the API has
  // them; the demo gives two positions a workload, the others fall back to their capacity.
  await page.click('#tab-formasi');
  await page.waitForSelector('#formasi table.formasi tbody tr[data-position]');
  const formasi = (await api(AGENCY, 'GET', `/api/v1/regions/${REGION}/agencies/${AGENCY_ID}/formasi`)).body;
  assert.equal(formasi.totals.positions_with_workload, 2);
  const rows = await page.locator('#formasi table.formasi tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    position: tr.dataset.position, basis: tr.dataset.basis, gap: Number(tr.querySelector('[data-gap]').dataset.gap),
    text: tr.textContent,
  })));
  assert.deepEqual(rows.map((r) => [r.position, r.basis, r.gap]), formasi.positions.map((p) => [p.position_id, p.basis, p.gap]));
  for (const [r, p] of rows.map((r, i) => [r, formasi.positions[i]])) {
    if (p.basis === 'workload') {
      assert.ok(r.text.includes(`→ ${p.needed}`), `${p.position_id} shows the needed staff rounded up: ${r.text}`);
      assert.ok(r.text.includes(p.needed_exact.toLocaleString('id-ID', { maximumFractionDigits: 2 })), `and to two decimals: ${r.text}`);
    }
    assert.ok(r.text.includes(p.gap > 0 ? `kurang ${p.gap}` : p.gap < 0 ? `lebih ${-p.gap}` : 'sesuai'), r.text);
  }
  assert.equal((await page.innerText('#formasi-needed')).trim(), String(formasi.totals.needed));
  assert.equal((await page.innerText('#formasi-held')).trim(), String(formasi.totals.held));
  assert.equal((await page.innerText('#formasi-shortage')).trim(), String(formasi.totals.shortage));
  assert.equal((await page.innerText('#formasi-surplus')).trim(), String(formasi.totals.surplus));
  await shot(page, 'agency-formasi');

  // An agency token is refused another agency.
  await page.goto(`${BASE}/#/r/${REGION}/a/dinas-kesehatan`);
  await page.waitForSelector('.error[data-status="403"]');
  await page.close();
});

test('employee: own page, adds an activity report, cannot open another employee', async () => {
  const page = await newPage();
  await signIn(page, EMP);
  assert.match(await page.innerText('#role'), /Pegawai/);
  await page.waitForSelector('#emp-nip');
  assert.equal((await page.innerText('#emp-nip')).trim(), EMP_NIP);
  await page.waitForSelector('#indicators svg rect.realization');
  // Each bar's percent is the capaian the plugins use (lower is better: 100 × (2 − R/T), an
  // unreported realization 0, clamped to 0–120), recomputed here from the record.
  const shown = await page.locator('#indicators svg text.capaian').evaluateAll((ts) => ts.map((t) => Number(t.dataset.capaian)));
  const periods = await api(EMP, 'GET', `/api/v1/regions/${REGION}/employees/${EMP_NIP}/periods?limit=1000`);
  const shownPeriod = periods.body.items.find((p) => (p.indicators || []).length === shown.length && p.indicators.every((ind, i) => {
    const t = ind.target, r = ind.realization;
    const c = r === null || r === undefined ? 0 : ind.direction === 'lower_is_better' ? 100 * (2 - r / t) : 100 * r / t;
    return Math.abs(Math.min(120, Math.max(0, c)) - shown[i]) < 1e-9;
  }));
  assert.ok(shownPeriod, `the bars show the plugins' capaian: ${shown}`);
  await page.waitForSelector('#behaviour svg rect');
  assert.ok((await page.locator('table.history tbody .badge').count()) > 0, 'the appraisal run by the agency shows');
  await page.waitForSelector('#activities tbody tr');

  const desc = `Uji konsol: rapat koordinasi ${Date.now()}`;
  await page.fill('#act-desc', desc);
  await page.fill('#act-minutes', '45');
  await page.click('#act-submit');
  await page.waitForSelector('#act-out .ok');
  await page.waitForFunction((d) => document.querySelector('#activities tbody tr')?.textContent.includes(d), desc);
  const mine = await api(EMP, 'GET', `/api/v1/regions/${REGION}/employees/${EMP_NIP}/activities?from=2026-01-01`);
  assert.ok(mine.body.items.some((a) => a.description === desc));
  await page.locator('table.history details summary').first().click();
  await shot(page, 'employee');

  // Another employee's page: 403, in words.
  await page.goto(`${BASE}/#/r/${REGION}/e/${OTHER_NIP}`);
  await page.waitForSelector('#forbidden .error[data-status="403"]');
  assert.match(await page.innerText('#forbidden'), /sendiri/);
  await shot(page, 'employee-forbidden');
  await page.close();

  // And through the API: exactly its own records, nothing else.
  const own = `/api/v1/regions/${REGION}/employees/${EMP_NIP}`;
  const other = `/api/v1/regions/${REGION}/employees/${OTHER_NIP}`;
  for (const p of [own, `${own}/periods`, `${own}/periods/2025`, `${own}/appraisals`, `${own}/activities`]) {
    assert.equal((await api(EMP, 'GET', p)).status, 200, p);
  }
  for (const [m, p, b] of [
    ['GET', other], ['GET', `${other}/periods`], ['GET', `${other}/appraisals`], ['GET', `${other}/activities`],
    ['POST', `${other}/activities`, { date: '2026-03-02', description: 'x', minutes: 5 }],
    ['GET', `/api/v1/regions/${REGION}/employees`], ['GET', `/api/v1/regions/${REGION}/agencies`],
    ['GET', `/api/v1/regions/${REGION}/policies`], ['GET', `/api/v1/regions/${REGION}/plugins`],
    ['POST', `/api/v1/regions/${REGION}/appraisals`, { period: '2025', nips: [EMP_NIP] }],
    ['POST', `/api/v1/regions/${REGION}/rotations`, { as_of: '2026-01-01' }],
    ['GET', '/api/v1/tokens'],
  ]) {
    assert.equal((await api(EMP, m, p, b)).status, 403, `${m} ${p}`);
  }
});

test('people: the employee assesses themselves; the supervisor rates the team, writes feedback and opens a member\'s page read-only', async () => {
  const KEYS = ['berorientasi_pelayanan', 'akuntabel', 'kompeten', 'harmonis', 'loyal', 'adaptif', 'kolaboratif'];
  const emp = `/api/v1/regions/${REGION}/employees/${EMP_NIP}`;
  const periods = (await api(EMP, 'GET', `${emp}/periods?limit=1000`)).body.items.map((p) => p.period).sort().reverse();
  const period = periods[0];

  // The employee's own page: the self-assessment form.
  const page = await newPage();
  await signIn(page, EMP);
  await page.waitForSelector('#self-save');
  for (const k of KEYS) await page.selectOption(`#self-${k}`, '4');
  await page.click('#self-save');
  await page.waitForSelector('#self-out .ok');
  const mine = await api(EMP, 'GET', `${emp}/periods/${period}/ratings`);
  assert.equal(mine.status, 200);
  assert.equal(mine.body.self.ratings.akuntabel, 4);
  await shotCard(page, '#self-assessment', 'self-assessment');
  await page.close();

  // The supervisor's own page: the team, one member opened, rated, and a note written.
  const sup = await newPage();
  await signIn(sup, SUP);
  await sup.waitForSelector('#team');
  await sup.fill('#team-period', period);
  await sup.click(`#open-${EMP_NIP}`);
  await sup.waitForSelector(`#sup-save-${EMP_NIP}`);
  for (const k of KEYS) await sup.selectOption(`#sup-${EMP_NIP}-${k}`, '5');
  await sup.click(`#sup-save-${EMP_NIP}`);
  await sup.waitForSelector(`#member-${EMP_NIP} .member-out .ok`);
  const note = `Uji konsol: laporan bulanan tepat waktu ${Date.now()}`;
  await sup.fill(`#note-${EMP_NIP}`, note);
  await sup.click(`#note-save-${EMP_NIP}`);
  await sup.waitForFunction((n) => document.querySelector('#team')?.textContent.includes(n), note);
  await sup.locator('details.member[open]').screenshot({ path: join(SHOTS, 'supervisor-team.png') });

  // From the team card, the member's own page: their record and appraisal history, read-only
  // (the report the employee added earlier is still pending, and only they may withdraw it).
  await sup.click(`#page-${EMP_NIP}`);
  await sup.waitForSelector('#emp-name');
  const record = await api(SUP, 'GET', emp);
  assert.equal(record.status, 200, 'a supervisor reads a direct report\'s record');
  assert.equal((await sup.innerText('#emp-name')).trim(), record.body.name);
  assert.equal((await sup.innerText('#emp-nip')).trim(), EMP_NIP);
  assert.ok((await sup.locator('table.history tbody .badge').count()) > 0, 'the appraisal history shows');
  await sup.waitForSelector('#activities tbody tr');
  assert.ok((await api(SUP, 'GET', `${emp}/activities?state=pending`)).body.items.length > 0, 'a pending report to withdraw');
  assert.equal(await sup.locator('#act-form').count(), 0, 'no form to add a report');
  assert.equal(await sup.locator('[id^="withdraw-"]').count(), 0, 'no withdraw buttons');
  await sup.waitForSelector('#read-only');
  await shot(sup, 'supervisor-subordinate', 1400);
  await sup.close();
  const rated = await api(SUP, 'GET', `${emp}/periods/${period}/ratings`);
  assert.equal(rated.body.supervisor.ratings.kompeten, 5);
  // Reading is all: the supervisor still cannot file the member's reports.
  assert.equal((await api(SUP, 'POST', `${emp}/activities`, { date: '2026-03-02', description: 'x', minutes: 5 })).status, 403);

  // The employee reads the note; nobody else's team shows on their page.
  const again = await newPage();
  await signIn(again, EMP);
  await again.waitForFunction((n) => document.querySelector('#feedback')?.textContent.includes(n), note);
  await again.close();
  // And the relationship, not the page, decides: the employee cannot rate as the supervisor.
  assert.equal((await api(EMP, 'PUT', `${emp}/periods/${period}/ratings/supervisor`, Object.fromEntries(KEYS.map((k) => [k, 5])))).status, 403);
});

test('reports: a report waits until the supervisor approves it from the team card', async () => {
  const emp = `/api/v1/regions/${REGION}/employees/${EMP_NIP}`;
  // Today in the region's zone, the newest day an honest report may carry.
  const day = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Jakarta' });
  const desc = `Uji konsol: menunggu persetujuan ${Date.now()}`;
  const posted = await api(EMP, 'POST', `${emp}/activities`, { date: day, description: desc, minutes: 60 });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const id = posted.body.items[0].id;
  assert.equal(posted.body.items[0].state, 'pending');
  // The employee cannot approve it; a day after today is refused in words.
  assert.equal((await api(EMP, 'POST', `/api/v1/regions/${REGION}/activities/approve`, { ids: [id] })).status, 403);
  const future = new Date(Date.now() + 3 * 86400e3).toLocaleDateString('sv-SE', { timeZone: 'Asia/Jakarta' });
  const refused = await api(EMP, 'POST', `${emp}/activities`, { date: future, description: 'x', minutes: 5 });
  assert.equal(refused.status, 400);
  assert.match(refused.body.error.message, /after today/);

  const sup = await newPage();
  await signIn(sup, SUP);
  await sup.waitForSelector(`#rev-${id}`);
  await sup.check(`#rev-${id}`);
  await shotCard(sup, '#review', 'supervisor-reports');
  await sup.click('#review-approve');
  await sup.waitForSelector('#review-out .ok');
  assert.equal(await sup.locator(`#rev-${id}`).count(), 0, 'an approved report leaves the list');
  await sup.close();
  const listed = await api(EMP, 'GET', `${emp}/activities?from=${day}&to=${day}&state=approved`);
  assert.ok(listed.body.items.some((a) => a.id === id && a.decided_by), JSON.stringify(listed.body));

  // The employee sees it approved on their own page.
  const page = await newPage();
  await signIn(page, EMP);
  await page.waitForFunction((d) => [...document.querySelectorAll('#activities tbody tr')]
    .some((tr) => tr.textContent.includes(d) && tr.textContent.includes('Disetujui')), desc);
  await page.close();
});

test('skp: planned and submitted, returned with a note and resubmitted, approved; realized with evidence the supervisor sees; both documents print', async () => {
  const year = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Jakarta' }).slice(0, 4);
  const url = `${BASE}/#/r/${REGION}/e/${EMP_NIP}/skp/${year}`;
  const skp = `/api/v1/regions/${REGION}/employees/${EMP_NIP}/skp/${year}`;
  const expectation = `Laporan lengkap dan tepat waktu ${Date.now()}`;

  // The employee plans one RHK with one indicator and submits it.
  const page = await newPage();
  await signIn(page, EMP);
  await page.goto(url);
  await page.waitForSelector('#plan-form');
  await page.fill('#rhk-text', 'Tersusunnya laporan kinerja unit');
  await page.fill('#plan-form tr.iki-row [data-f="name"]', 'Laporan kinerja tersusun');
  await page.fill('#plan-form tr.iki-row [data-f="unit"]', 'dokumen');
  await page.fill('#plan-form tr.iki-row [data-f="target"]', '6');
  await page.click('#plan-save');
  await page.waitForSelector('#skp-out .ok');
  await page.click('#skp-submit');
  await page.waitForFunction(() => document.querySelector('#skp-state')?.textContent.includes('Diajukan'));

  // The supervisor returns it with a note (and may print the evaluation document too).
  const sup = await newPage();
  await signIn(sup, SUP);
  await sup.goto(url);
  await sup.waitForSelector('#skp-return');
  assert.equal(await sup.locator('#print-eval').count(), 1, 'the evaluation print link');
  const returnNote = `Target terlalu rendah, naikkan menjadi 12 ${Date.now()}`;
  await sup.fill('#return-text', returnNote);
  await sup.click('#skp-return');
  await sup.waitForFunction(() => document.querySelector('#skp-state')?.textContent.includes('Dikembalikan'));
  assert.equal(await sup.locator('#skp-approve').count(), 0, 'nothing to approve while returned');

  // The employee sees it returned with the note, raises the target and submits again.
  await page.reload();
  await page.waitForSelector('#return-note');
  assert.ok((await page.innerText('#skp-state')).includes('Dikembalikan'));
  assert.ok((await page.innerText('#return-note')).includes(returnNote));
  assert.equal(await page.inputValue('#plan-form tr.iki-row [data-f="target"]'), '6', 'the plan as submitted');
  await page.fill('#plan-form tr.iki-row [data-f="target"]', '12');
  await page.click('#plan-save');
  await page.waitForSelector('#skp-out .ok');
  await page.click('#skp-submit');
  await page.waitForFunction(() => document.querySelector('#skp-state')?.textContent.includes('Diajukan'));
  await page.close();
  const resubmitted = await api(EMP, 'GET', skp);
  assert.deepEqual(resubmitted.body.history.map((t) => t.action), ['submit', 'return', 'submit']);
  assert.equal(resubmitted.body.history[1].note, returnNote);
  assert.equal(resubmitted.body.plan.rhk[0].indicators[0].target, 12);

  // The supervisor sets the expectation and approves.
  await sup.reload();
  await sup.waitForSelector('#skp-approve');
  await sup.fill('#exp-text', expectation);
  await sup.click('#exp-save');
  await sup.waitForSelector('#skp-out .ok');
  await sup.click('#skp-approve');
  await sup.waitForFunction(() => document.querySelector('#skp-state')?.textContent.includes('Disetujui'));

  // The employee writes this month's realization and a PDF as its evidence.
  const emp = await newPage();
  await signIn(emp, EMP);
  await emp.goto(url);
  await emp.waitForSelector('#real-save');
  await emp.fill('#real-iki-1', '3');
  await emp.click('#real-save');
  await emp.waitForSelector('#skp-out .ok');
  await emp.setInputFiles('#ev-file', { name: 'laporan.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await emp.click('#ev-save');
  await emp.waitForSelector('table.evidence');
  await shot(emp, 'skp');
  const stored = await api(EMP, 'GET', skp);
  assert.equal(stored.body.state, 'approved');
  assert.equal(stored.body.evidence['iki-1'][0].content_type, 'application/pdf');
  assert.equal(Object.values(stored.body.realizations)[0]['iki-1'], 3);
  // A second piece given by mistake is taken off again.
  await emp.fill('#ev-link', 'https://drive.example.go.id/salah.pdf');
  await emp.click('#ev-save');
  await emp.waitForSelector('#ev-remove-1');
  await emp.click('#ev-remove-1');
  await emp.waitForSelector('#skp-out .ok');
  await emp.waitForFunction(() => !document.querySelector('#ev-remove-1'));
  const kept = await api(EMP, 'GET', skp);
  assert.deepEqual(kept.body.evidence['iki-1'].map((e) => e.content_type), ['application/pdf']);
  const [month] = Object.keys(kept.body.realizations);

  // On the supervisor's own page: the team's progress shows this month realized, and the
  // member's rating panel for this year lists the evidence (whose file the supervisor may read).
  await sup.goto(`${BASE}/#/r/${REGION}/e/${SUP_NIP}`);
  const realized = sup.locator(`#team-progress tr[data-nip="${EMP_NIP}"] [data-month="${month}"]`);
  await realized.waitFor();
  assert.equal(await realized.getAttribute('data-count'), '1');
  assert.equal(await realized.innerText(), '✓', 'every indicator of the month');
  assert.equal(await sup.locator(`#team-progress tr[data-nip="${EMP_NIP}"] [data-state]`).getAttribute('data-state'), 'approved');
  assert.equal(await sup.locator(`#team-progress tr[data-nip="${EMP_NIP}"] [data-month]`).count(), 1, 'one month realized');
  await shotCard(sup, '#team-progress', 'supervisor-progress');
  await sup.fill('#team-period', year);
  await sup.click(`#open-${EMP_NIP}`);
  await sup.waitForSelector(`#evidence-${EMP_NIP} table.evidence`);
  const shownEvidence = await sup.innerText(`#evidence-${EMP_NIP}`);
  assert.ok(shownEvidence.includes('laporan.pdf') && shownEvidence.includes('Laporan kinerja tersusun'), shownEvidence);
  assert.equal(await sup.locator(`#evidence-${EMP_NIP} [id^="ev-remove-"]`).count(), 0, 'nothing to take off');
  await sup.locator(`#member-${EMP_NIP}`).screenshot({ path: join(SHOTS, 'supervisor-evidence.png') });
  const file = await fetch(`${BASE}${skp}/evidence/${kept.body.evidence['iki-1'][0].sha256}`, { headers: { Authorization: `Bearer ${SUP}` } });
  assert.equal(file.status, 200);
  assert.equal(await file.text(), '%PDF-1.4\n%%EOF\n');

  // The SKP prints: on the page and in the PDF Chromium makes of it, on A4 as the page's
  // stylesheet asks (`@page { size: A4 }`, not a size given here).
  // In reading order, with a cell's wrapped lines joined.
  const text = (pdf) => execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  const out = mkdtempSync(join(tmpdir(), 'kinerja-print-'));
  // Each signature block names its signer: the employee, and the supervisor under the place
  // (the region's name as the API holds it) and date.
  const place = (await api(EMP, 'GET', `/api/v1/regions/${REGION}`)).body.name;
  const signatures = async (p) => {
    const employee = await p.innerText('#document .signatures #sign-employee');
    assert.ok(employee.includes('Pegawai yang dinilai') && employee.includes(`NIP ${EMP_NIP}`), employee);
    const supervisor = await p.innerText('#document .signatures #sign-supervisor');
    assert.ok(supervisor.includes('Pejabat penilai kinerja') && supervisor.includes(`NIP ${SUP_NIP}`), supervisor);
    assert.ok(supervisor.includes(year) && supervisor.startsWith(`${place}, `), `placed and dated: ${supervisor}`);
  };
  await emp.goto(`${BASE}/#/print/skp/${REGION}/${EMP_NIP}/${year}`);
  await emp.waitForSelector('#document table.doc-table');
  for (const t of ['Sasaran Kinerja Pegawai', EMP_NIP, expectation]) {
    assert.ok((await emp.innerText('#document')).includes(t), t);
  }
  await signatures(emp);
  await emp.pdf({ path: join(out, 'skp.pdf'), preferCSSPageSize: true, printBackground: true });
  const info = execFileSync('pdfinfo', [join(out, 'skp.pdf')], { encoding: 'utf8' });
  // A4 is 595.28 × 841.89 pt; Chromium rounds to its pixels.
  const [, w, ht] = /^Page size:\s+([\d.]+) x ([\d.]+) pts/m.exec(info) || [];
  assert.ok(Math.abs(w - 595.28) < 2 && Math.abs(ht - 841.89) < 2, info);
  const skpText = text(join(out, 'skp.pdf'));
  for (const t of ['Sasaran Kinerja Pegawai', EMP_NIP, 'Laporan kinerja tersusun', 'Pejabat penilai kinerja']) {
    assert.ok(skpText.includes(t), `${t} in the printed SKP:\n${skpText}`);
  }
  await emp.close();

  // The evaluation document of an appraised period prints with its predikat and decision, here
  // for the supervisor, who now reads the member's record and appraisals.
  const ap = await api(AGENCY, 'POST', `/api/v1/regions/${REGION}/appraisals`, { period: '2025', nips: [EMP_NIP] });
  assert.equal(ap.status, 200, JSON.stringify(ap.body));
  const decision = ap.body.results[0].decision_id;
  await sup.goto(`${BASE}/#/print/evaluasi/${REGION}/${EMP_NIP}/2025`);
  await sup.waitForSelector('#document table.doc-table');
  await signatures(sup);
  await sup.pdf({ path: join(out, 'evaluasi.pdf'), format: 'A4', printBackground: true });
  const evalText = text(join(out, 'evaluasi.pdf'));
  for (const t of ['Dokumen Evaluasi Kinerja Pegawai', EMP_NIP, 'Predikat kinerja', decision, 'Pegawai yang dinilai']) {
    assert.ok(evalText.includes(t), `${t} in the printed evaluation:\n${evalText}`);
  }
  await sup.close();
  rmSync(out, { recursive: true, force: true });

  // The agency downloads its recap of the period.
  const ag = await newPage();
  await signIn(ag, AGENCY);
  await ag.waitForSelector('#recap-appraisals');
  await ag.fill('#recap-period', '2025');
  const [download] = await Promise.all([ag.waitForEvent('download'), ag.click('#recap-appraisals')]);
  assert.equal(download.suggestedFilename(), `penilaian-${REGION}-${AGENCY_ID}-2025.csv`);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('nip,nama,jabatan') && csv.includes(decision), csv.slice(0, 300));
  // And the daily reports of this year so far (the form's default range), with the employee's.
  const [daily] = await Promise.all([ag.waitForEvent('download'), ag.click('#recap-activities')]);
  assert.match(daily.suggestedFilename(), new RegExp(`^laporan-harian-${REGION}-${AGENCY_ID}-${year}-01-01-${year}-\\d{2}-\\d{2}\\.csv$`));
  const lines = readFileSync(await daily.path(), 'utf8').split(/\r?\n/);
  assert.equal(lines[0], 'nip,nama,id,tanggal,menit,status,uraian');
  assert.ok(lines.some((l) => l.startsWith(`${EMP_NIP},`) && l.includes(',approved,')), lines.slice(0, 5).join('\n'));
  await ag.close();
});

test('public survey: a respondent answers once with the code on their slip, without signing in', async () => {
  const issued = await api(AGENCY, 'POST', `/api/v1/regions/${REGION}/agencies/${AGENCY_ID}/surveys`, { period: '2026', count: 2 });
  assert.equal(issued.status, 201);
  const [code] = issued.body.codes;
  // The slip's link names the region, and the answer goes under it (a cluster's proxy routes it).
  assert.equal(issued.body.links[0], `/#/survey/${REGION}/${code}`);
  const page = await newPage();
  await page.goto(`${BASE}${issued.body.links[0]}`);
  await page.waitForSelector('#survey-form');
  for (let i = 0; i < 9; i += 1) await page.selectOption(`#survey-${i}`, i < 8 ? '4' : '3');
  await shot(page, 'public-survey');
  const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes('/surveys/'));
  await page.click('#survey-send');
  assert.equal(new URL((await posted).url()).pathname, `/api/v1/regions/${REGION}/surveys/${code}`);
  await page.waitForSelector('#survey-out .ok');
  const ikm = await api(AGENCY, 'GET', `/api/v1/regions/${REGION}/agencies/${AGENCY_ID}/ikm?period=2026`);
  assert.equal(ikm.body.respondents, 1);
  assert.ok(Math.abs(ikm.body.ikm - 35 / 9) < 1e-9, JSON.stringify(ikm.body));
  // The same code again, through an older slip's link (no region: the global route), is
  // refused in words.
  await page.goto(`${BASE}/#/survey/${code}x`);
  await page.goto(`${BASE}/#/survey/${code}`);
  await page.waitForSelector('#survey-form');
  for (let i = 0; i < 9; i += 1) await page.selectOption(`#survey-${i}`, '1');
  await page.click('#survey-send');
  await page.locator('#survey-out .error[data-status="400"]').waitFor();
  assert.match(await page.innerText('#survey-out'), /used/);
  await page.close();
});

test('no uncaught script errors and nothing fetched from elsewhere', () => {
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(foreign, []);
});
