// The region view for admins and region admins: the region's plugin modules (upload, dry run,
// activation with a config editor, history with rollback) and its agencies.

import { api, all, enc } from './api.js';
import {
  h, mount, card, field, table, errorBox, okBox, busy, badge, level, num, bytes, when, shortId, REGIONS,
} from './ui.js';

export async function adminView(ctx, region) {
  const { me, main } = ctx;
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const body = h('div', {});
  mount(main,
    h('h1', {}, REGIONS[region] || region, ' ', h('small', { class: 'muted' }, region)),
    tabs, body);
  const panes = {
    plugins: ['Modul & kebijakan (plugins)', () => pluginsPane(region, me)],
    agencies: ['Instansi (agencies)', () => agenciesPane(region)],
  };
  const show = async (key) => {
    for (const b of tabs.children) b.classList.toggle('active', b.dataset.tab === key);
    mount(body, h('p', { class: 'muted' }, 'Memuat…'));
    try {
      mount(body, await panes[key][1]());
    } catch (err) {
      mount(body, errorBox(err));
    }
  };
  for (const [key, [label]] of Object.entries(panes)) {
    tabs.appendChild(h('button', { class: 'tab', role: 'tab', id: `tab-${key}`, dataset: { tab: key }, onclick: () => show(key) }, label));
  }
  await show('plugins');
}

async function agenciesPane(region) {
  const agencies = await all(`/api/v1/regions/${enc(region)}/agencies`);
  return card('Instansi (agencies)',
    h('p', { class: 'muted' }, 'Pilih instansi untuk melihat pegawai, menjalankan penilaian, dan talenta.'),
    h('ul', { class: 'tiles' }, agencies.map((a) =>
      h('li', {}, h('a', { class: 'tile', href: `#/r/${enc(region)}/a/${enc(a.id)}` }, h('strong', {}, a.name), h('small', {}, a.id))))));
}

/** Parses the config editor's text: an object, or a message saying what is wrong. */
export function parseConfig(text) {
  const t = text.trim();
  if (t === '') return { ok: true, value: {} };
  try {
    const v = JSON.parse(t);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      return { ok: false, message: 'Config harus berupa objek JSON {…} (must be a JSON object).' };
    }
    return { ok: true, value: v };
  } catch (e) {
    return { ok: false, message: `JSON tidak valid (invalid JSON): ${e.message}` };
  }
}

async function pluginsPane(region, me) {
  const base = `/api/v1/regions/${enc(region)}`;
  const root = h('div', { class: 'plugins' });
  const modulesBox = h('div', { id: 'modules' });
  const activeBox = h('div', { id: 'active' });
  const historyBox = h('div', { id: 'history' });
  const flash = h('div', { id: 'flash' });
  let plugins = [];
  let policies = { active: {}, history: [] };
  let names = {};
  const agencies = await all(`${base}/agencies`).catch(() => []);

  // Who uploaded and activated: token labels where this token may list tokens.
  try {
    const toks = await api('GET', '/api/v1/tokens');
    names = Object.fromEntries(toks.items.map((t) => [t.id, t.label ? `${t.label} (${t.role})` : `${t.id} (${t.role})`]));
  } catch { /* a token that cannot list tokens sees ids */ }
  const by = (id) => (id ? names[id] || id : 'sistem (demo)');

  // --- upload ---
  const uploadOut = h('div', { id: 'upload-result' });
  const fileInput = h('input', { type: 'file', id: 'wasm-file', accept: '.wasm,application/wasm' });
  const upload = async (file) => {
    if (!file) return;
    mount(uploadOut, h('p', { class: 'muted' }, `Mengunggah ${file.name} (${bytes(file.size)})…`));
    const known = new Set(plugins.map((p) => p.id));
    try {
      const buf = await file.arrayBuffer();
      const up = await api('POST', `${base}/plugins`, undefined, { raw: buf, type: 'application/wasm' });
      mount(uploadOut, okBox(
        h('strong', {}, known.has(up.id) ? 'Modul ini sudah ada (already uploaded).' : 'Modul diterima (uploaded).'),
        h('div', {}, 'ID: ', h('code', { class: 'plugin-id' }, up.id)),
        h('div', {}, `Hooks: ${up.hooks.join(', ')} · ukuran ${bytes(up.size)}`)));
      await refresh();
      pickModule(up.id);
    } catch (err) {
      mount(uploadOut, errorBox(err, `Modul ${file.name} ditolak`));
    }
    fileInput.value = '';
  };
  fileInput.addEventListener('change', () => upload(fileInput.files[0]));
  const drop = h('div', { class: 'dropzone', id: 'dropzone', tabindex: 0 },
    h('strong', {}, 'Tarik & lepas berkas .wasm di sini'), h('span', { class: 'muted' }, ' (drag and drop) atau '),
    h('label', { class: 'button' }, 'Pilih berkas… (choose file)', fileInput));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    upload(e.dataTransfer.files[0]);
  });

  // --- dry run ---
  const drModule = h('select', { id: 'dry-module' });
  const drHook = h('select', { id: 'dry-hook' }, h('option', { value: 'appraise' }, 'appraise (penilaian)'), h('option', { value: 'rotate' }, 'rotate (rotasi)'));
  const drPeriod = h('input', { id: 'dry-period', value: '2025', size: 8 });
  const drAsOf = h('input', { id: 'dry-asof', type: 'date', value: new Date().toISOString().slice(0, 10) });
  const drAgency = h('select', { id: 'dry-agency' }, h('option', { value: '' }, '— seluruh wilayah —'), agencies.map((a) => h('option', { value: a.id }, a.name)));
  const drNips = h('textarea', { id: 'dry-nips', rows: 2, placeholder: 'NIP, dipisah koma/spasi (kosong: pakai instansi)' });
  const drConfig = h('textarea', { id: 'dry-config', rows: 3, placeholder: '{} — kosong: config yang aktif', class: 'code' });
  const drOut = h('div', { id: 'dry-result' });
  const drButton = h('button', { class: 'primary', id: 'dry-run' }, 'Jalankan uji (dry run)');
  drButton.addEventListener('click', () => busy(drButton, 'Menjalankan…', async () => {
    const hook = drHook.value;
    const input = { hook };
    if (drConfig.value.trim()) {
      const c = parseConfig(drConfig.value);
      if (!c.ok) return mount(drOut, errorBox({ status: 400, message: c.message }, 'Config'));
      input.config = c.value;
    }
    const nips = drNips.value.split(/[\s,;]+/).filter(Boolean);
    if (hook === 'appraise') {
      input.period = drPeriod.value.trim();
      if (nips.length) input.nips = nips;
      else if (drAgency.value) input.agency = drAgency.value;
    } else {
      input.as_of = drAsOf.value;
      if (drAgency.value) input.agency = drAgency.value;
    }
    try {
      const t0 = performance.now();
      const r = await api('POST', `${base}/plugins/${enc(drModule.value)}/dry-run`, input);
      mount(drOut, dryRunResult(r, hook, performance.now() - t0));
    } catch (err) {
      mount(drOut, errorBox(err, 'Uji gagal'));
    }
  }));
  const syncDry = () => {
    const rot = drHook.value === 'rotate';
    drPeriod.parentElement.hidden = rot;
    drNips.parentElement.hidden = rot;
    drAsOf.parentElement.hidden = !rot;
  };
  drHook.addEventListener('change', syncDry);

  // --- activation ---
  const acModule = h('select', { id: 'act-module' });
  const acHook = h('select', { id: 'act-hook' }, h('option', { value: 'appraise' }, 'appraise (penilaian)'), h('option', { value: 'rotate' }, 'rotate (rotasi)'));
  const acConfig = h('textarea', { id: 'act-config', rows: 6, class: 'code', spellcheck: 'false' }, '{}');
  const acCheck = h('div', { id: 'config-check', class: 'check' });
  const acOut = h('div', { id: 'act-result' });
  const acButton = h('button', { class: 'primary', id: 'activate' }, 'Aktifkan (activate)');
  const validate = () => {
    const c = parseConfig(acConfig.value);
    acButton.disabled = !c.ok || !acModule.value;
    acConfig.classList.toggle('invalid', !c.ok);
    mount(acCheck, c.ok ? h('span', { class: 'good' }, '✓ JSON valid') : h('span', { class: 'bad' }, c.message));
    return c;
  };
  const prefill = () => {
    const a = policies.active[acHook.value];
    acConfig.value = JSON.stringify(a && a.config ? a.config : {}, null, 2);
    validate();
  };
  acConfig.addEventListener('input', validate);
  acHook.addEventListener('change', prefill);
  const activate = async (plugin, hook, config) => {
    try {
      const act = await api('PUT', `${base}/policies/${enc(hook)}`, { plugin, config });
      mount(flash, okBox(`Hook ${hook} kini memakai modul ${shortId(act.plugin)} (aktivasi #${act.seq}).`));
      await refresh();
      return true;
    } catch (err) {
      mount(flash, errorBox(err, 'Aktivasi gagal'));
      return false;
    }
  };
  acButton.addEventListener('click', () => busy(acButton, 'Mengaktifkan…', async () => {
    const c = validate();
    if (!c.ok) return;
    mount(acOut);
    const ok = await activate(acModule.value, acHook.value, c.value);
    if (ok) mount(acOut, okBox('Aktif.'));
  }));

  function pickModule(id) {
    drModule.value = id;
    acModule.value = id;
    validate();
  }

  function renderModules() {
    const activeFor = (id) => Object.entries(policies.active).filter(([, a]) => a.plugin === id).map(([hook]) => hook);
    mount(modulesBox, table([
      { title: 'ID (sha256)', cell: (p) => h('code', { title: p.id, class: 'plugin-id' }, shortId(p.id)) },
      { title: 'Ukuran (size)', class: 'num', cell: (p) => bytes(p.size) },
      { title: 'Hooks', cell: (p) => p.hooks.join(', ') },
      { title: 'Aktif untuk', cell: (p) => activeFor(p.id).map((x) => h('span', { class: 'chip on' }, x)) },
      { title: 'Diunggah oleh (by)', cell: (p) => by(p.uploaded_by) },
      { title: 'Waktu (when)', cell: (p) => when(p.uploaded_at) },
      { title: '', cell: (p) => h('button', { class: 'small', onclick: () => { pickModule(p.id); drButton.scrollIntoView({ block: 'center' }); } }, 'Pilih') },
    ], plugins, { empty: 'Belum ada modul.', rowAttrs: (p) => ({ dataset: { id: p.id } }) }));
    for (const sel of [drModule, acModule]) {
      const v = sel.value;
      mount(sel, plugins.map((p) => h('option', { value: p.id }, `${shortId(p.id)} · ${p.hooks.join('+')} · ${when(p.uploaded_at)}`)));
      if (v && plugins.some((p) => p.id === v)) sel.value = v;
    }
  }

  function renderActive() {
    mount(activeBox, h('div', { class: 'hooks' }, ['appraise', 'rotate'].map((hook) => {
      const a = policies.active[hook];
      return h('div', { class: 'hookcard', dataset: { hook } },
        h('strong', {}, hook),
        a ? [h('div', {}, 'Modul ', h('code', { class: 'active-plugin', title: a.plugin }, shortId(a.plugin))),
          h('div', { class: 'muted' }, `sejak ${when(a.at)} oleh ${by(a.by)}`),
          h('pre', { class: 'code small' }, JSON.stringify(a.config)),
          h('button', { class: 'small danger', onclick: async (e) => {
            if (!confirm(`Nonaktifkan hook ${hook}? (deactivate)`)) return;
            await busy(e.target, '…', async () => {
              try {
                await api('DELETE', `${base}/policies/${enc(hook)}`);
                mount(flash, okBox(`Hook ${hook} dinonaktifkan.`));
                await refresh();
              } catch (err) { mount(flash, errorBox(err)); }
            });
          } }, 'Nonaktifkan (deactivate)')]
          : h('div', { class: 'muted' }, 'Tidak aktif (no active policy)'));
    })));
  }

  function renderHistory() {
    const rows = [...policies.history].reverse();
    mount(historyBox, table([
      { title: '#', class: 'num', cell: (a) => a.seq },
      { title: 'Waktu', cell: (a) => when(a.at) },
      { title: 'Hook', cell: (a) => a.hook },
      { title: 'Aksi', cell: (a) => (a.action === 'activate' ? 'aktivasi' : 'nonaktif') },
      { title: 'Modul', cell: (a) => (a.plugin ? h('code', { title: a.plugin }, shortId(a.plugin)) : '—') },
      { title: 'Oleh (by)', cell: (a) => by(a.by) },
      { title: 'Config', cell: (a) => (a.config ? h('code', { class: 'small' }, JSON.stringify(a.config)) : '—') },
      { title: '', cell: (a) => {
        const cur = policies.active[a.hook];
        if (a.action !== 'activate' || !a.plugin) return '';
        if (cur && cur.seq === a.seq) return h('span', { class: 'chip on' }, 'aktif');
        return h('button', { class: 'small rollback', dataset: { seq: a.seq }, onclick: (e) => busy(e.target, '…', () => activate(a.plugin, a.hook, a.config || {})) }, 'Kembalikan (rollback)');
      } },
    ], rows, { empty: 'Belum ada aktivasi.', rowAttrs: (a) => ({ dataset: { seq: a.seq, plugin: a.plugin || '' } }) }));
  }

  async function refresh() {
    [plugins, policies] = await Promise.all([
      api('GET', `${base}/plugins`).then((r) => r.items),
      api('GET', `${base}/policies`),
    ]);
    plugins.sort((a, b) => (b.uploaded_at || '').localeCompare(a.uploaded_at || ''));
    renderModules();
    renderActive();
    renderHistory();
    validate();
  }

  await refresh();
  prefill();
  mount(root,
    flash,
    card('Kebijakan aktif (active policies)', activeBox),
    card('Modul (modules)', modulesBox),
    card('Unggah modul (upload a .wasm)', drop, uploadOut),
    card('Uji coba tanpa menyimpan (dry run)',
      h('div', { class: 'form-row' },
        field('Modul', drModule), field('Hook', drHook), field('Periode', drPeriod, '2025, 2025-Q1, 2025-03'),
        field('Per tanggal (as of)', drAsOf), field('Instansi (agency)', drAgency)),
      field('Daftar NIP (optional)', drNips),
      field('Config (JSON, optional)', drConfig),
      drButton, drOut),
    card('Aktivasi (activate a module)',
      h('div', { class: 'form-row' }, field('Modul', acModule), field('Hook', acHook)),
      field('Config (JSON)', acConfig), acCheck, acButton, acOut),
    card('Riwayat aktivasi (activation history)', h('p', { class: 'muted' }, 'Klik “Kembalikan” untuk mengaktifkan lagi modul dan config yang lama (rollback).'), historyBox));
  syncDry();
  return root;
}

function dryRunResult(r, hook, ms) {
  const stats = h('div', { class: 'stats' },
    h('span', { class: 'stat', id: 'dry-fuel' }, h('small', {}, 'Fuel'), num(r.fuel, 0)),
    h('span', { class: 'stat', id: 'dry-time' }, h('small', {}, 'Waktu plugin (duration)'), `${num(r.duration_ms, 2)} ms`),
    h('span', { class: 'stat' }, h('small', {}, 'Waktu total (round trip)'), `${num(ms, 0)} ms`));
  let body;
  if (hook === 'appraise') {
    const results = r.results || [];
    body = [
      h('p', {}, `${results.length} hasil, ${(r.skipped || []).length} dilewati (skipped).`),
      table([
        { title: 'NIP', cell: (x) => h('code', {}, x.nip) },
        { title: 'Predikat', cell: (x) => badge(x.predikat) },
        { title: 'Skor', class: 'num', cell: (x) => num(x.score) },
        { title: 'Hasil kerja', cell: (x) => level(x.hasil_kerja) },
        { title: 'Perilaku kerja', cell: (x) => level(x.perilaku_kerja) },
      ], results.slice(0, 50), { class: 'dry-results' }),
      results.length > 50 ? h('p', { class: 'muted' }, `… dan ${results.length - 50} lainnya.`) : null,
    ];
  } else {
    body = h('p', {}, `${(r.moves || []).length} usulan mutasi, ${(r.flags || []).length} catatan, ${(r.talent || []).length} pegawai dipetakan ke nine-box.`);
  }
  return h('div', { class: 'dry' }, stats, body,
    h('h3', {}, 'Log plugin (logs)'), h('pre', { class: 'code logs', id: 'dry-logs' }, r.logs ? r.logs : '(kosong / empty)'),
    h('details', {}, h('summary', {}, 'JSON lengkap (raw)'), h('pre', { class: 'code' }, JSON.stringify(r, null, 2).slice(0, 20000))));
}
