// The region view for admins and region admins: the region's plugin modules (upload, dry run,
// impact preview against the active policy, activation with a config editor, history with
// rollback), its agencies, and its settings (name, level, time zone).

import { api, all, enc } from './api.js';
import {
  h, mount, card, field, table, errorBox, okBox, busy, badge, level, num, bytes, when, shortId, today, choice,
  readRegion, rememberRegion, PREDIKAT, PREDIKAT_ORDER, REGION_LEVEL, TIME_ZONE,
} from './ui.js';
import { meter, predikatBar } from './chart.js';

export async function adminView(ctx, region) {
  const { me, main } = ctx;
  // The region's record: its name heads the page; a region that does not exist (404) or is not
  // the token's (403) ends here, in words.
  let info = await readRegion(region);
  if (!ctx.isCurrent()) return;
  const title = h('span', { id: 'region-title' }, info.name);
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const body = h('div', {});
  mount(main,
    h('h1', {}, title, ' ', h('small', { class: 'muted' }, region)),
    tabs, body);
  // A saved setting renames the page at once; the panes read the name when shown.
  const renamed = (r) => {
    info = r;
    title.textContent = r.name;
  };
  const panes = {
    plugins: ['Modul & kebijakan (plugins)', () => pluginsPane(region, me, info.name)],
    agencies: ['Instansi (agencies)', () => agenciesPane(region)],
  };
  // Only those who may write the region's settings get the tab (the server decides anyway).
  if (me.role === 'admin' || me.role === 'region_admin') {
    panes.settings = ['Pengaturan wilayah (region settings)', () => settingsPane(info, renamed)];
  }
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

/** The region's name, level and time zone, written whole (PUT /api/v1/regions/{region}); the
 * time zone is also the one of the region's reporting rules. */
function settingsPane(info, renamed) {
  const name = h('input', { id: 'settings-name', required: true, maxlength: 200, value: info.name });
  const lvl = choice('settings-level', REGION_LEVEL, info.level);
  const zone = choice('settings-zone', TIME_ZONE, info.time_zone);
  const out = h('div', { id: 'settings-out' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, 'Simpan pengaturan (save)');
  const form = h('form', {
    id: 'region-settings',
    onsubmit: async (e) => {
      e.preventDefault();
      await busy(button, 'Menyimpan…', async () => {
        try {
          const r = await api('PUT', `/api/v1/regions/${enc(info.id)}`, { name: name.value.trim(), level: lvl.value, time_zone: zone.value });
          rememberRegion(r);
          renamed(r);
          mount(out, okBox(h('strong', {}, 'Pengaturan disimpan (saved).'),
            h('div', { id: 'settings-saved' }, `${r.name} · ${REGION_LEVEL[r.level] || r.level} · ${TIME_ZONE[r.time_zone] || r.time_zone}`),
            h('div', { class: 'muted' }, `diperbarui ${when(r.updated_at)}`)));
        } catch (err) {
          mount(out, errorBox(err, 'Pengaturan tidak disimpan'));
        }
      });
    },
  },
  h('div', { class: 'form-row' },
    field('Nama (name)', name),
    field('Tingkat (level)', lvl),
    field('Zona waktu (time zone)', zone)),
  h('p', { class: 'muted small' }, 'Zona waktu ini juga dipakai aturan pelaporan wilayah (reporting rules): tanggal “hari ini” untuk laporan harian.'),
  button, out);
  return card('Pengaturan wilayah (region settings)',
    h('p', { class: 'muted' }, 'Kode wilayah ', h('code', {}, info.id), ' tetap; ',
      info.created_at ? `dibuat ${when(info.created_at)}, diperbarui ${when(info.updated_at)}.` : 'dibuat sebelum wilayah menjadi data (created by an earlier version).'),
    form);
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

async function pluginsPane(region, me, regionName) {
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
    const toks = await all('/api/v1/tokens');
    names = Object.fromEntries(toks.map((t) => [t.id, t.label ? `${t.label} (${t.role})` : `${t.id} (${t.role})`]));
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
  const drAsOf = h('input', { id: 'dry-asof', type: 'date', value: today() });
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

  // --- impact preview: the candidate against the active policy on the same cases ---
  const agencyName = Object.fromEntries(agencies.map((a) => [a.id, a.name]));
  const imModule = h('select', { id: 'impact-module' });
  const imHook = h('select', { id: 'impact-hook' }, h('option', { value: 'appraise' }, 'appraise (penilaian)'), h('option', { value: 'rotate' }, 'rotate (rotasi)'));
  const imPeriod = h('input', { id: 'impact-period', value: '2025', size: 8 });
  const imAsOf = h('input', { id: 'impact-asof', type: 'date', value: today() });
  const imAgency = h('select', { id: 'impact-agency' }, h('option', { value: '' }, '— seluruh wilayah —'), agencies.map((a) => h('option', { value: a.id }, a.name)));
  const imConfig = h('textarea', { id: 'impact-config', rows: 3, class: 'code', spellcheck: 'false', placeholder: '{} — kosong: config kebijakan yang aktif' });
  const imCheck = h('div', { id: 'impact-config-check', class: 'check' });
  const imOut = h('div', { id: 'impact-result', 'aria-live': 'polite' });
  const imButton = h('button', { class: 'primary', id: 'impact-run' }, 'Pratinjau dampak (preview impact)');
  const imValidate = () => {
    const c = parseConfig(imConfig.value);
    imConfig.classList.toggle('invalid', !c.ok);
    mount(imCheck, !imConfig.value.trim() ? h('span', { class: 'muted' }, 'Kosong: memakai config kebijakan yang aktif (active config).')
      : c.ok ? h('span', { class: 'good' }, '✓ JSON valid') : h('span', { class: 'bad' }, c.message));
    return c;
  };
  imConfig.addEventListener('input', imValidate);
  imButton.addEventListener('click', () => busy(imButton, 'Menghitung dampak…', async () => {
    const c = imValidate();
    if (!c.ok) return mount(imOut, errorBox({ status: 400, message: c.message }, 'Config'));
    if (!imModule.value) return mount(imOut, errorBox({ status: 400, message: 'Pilih modul dulu (choose a module).' }, 'Modul'));
    const hook = imHook.value;
    const input = { hook };
    if (hook === 'appraise') input.period = imPeriod.value.trim();
    else input.as_of = imAsOf.value;
    if (imAgency.value) input.agency = imAgency.value;
    if (imConfig.value.trim()) input.config = c.value;
    mount(imOut, h('p', { class: 'muted' }, 'Menjalankan modul kandidat dan kebijakan aktif pada kasus yang sama…'));
    try {
      const t0 = performance.now();
      const r = await api('POST', `${base}/plugins/${enc(imModule.value)}/impact`, input);
      mount(imOut, impactResult(r, performance.now() - t0, region, agencyName, regionName));
    } catch (err) {
      mount(imOut, errorBox(err, 'Pratinjau gagal'));
    }
  }));
  const syncImpact = () => {
    const rot = imHook.value === 'rotate';
    imPeriod.parentElement.hidden = rot;
    imAsOf.parentElement.hidden = !rot;
  };
  imHook.addEventListener('change', syncImpact);

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
    imModule.value = id;
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
    for (const sel of [drModule, imModule, acModule]) {
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
      all(`${base}/plugins`),
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
    card('Pratinjau dampak (policy impact preview)',
      h('p', { class: 'muted' }, 'Menjalankan modul kandidat dan kebijakan yang aktif pada pegawai yang sama, lalu membandingkan hasilnya: siapa yang predikatnya berubah, skor yang paling bergeser, per instansi, dan untuk rotasi usulan yang bertambah atau hilang. Tidak ada yang disimpan.'),
      h('div', { class: 'form-row' },
        field('Modul kandidat', imModule), field('Hook', imHook), field('Periode', imPeriod, '2025, 2025-Q1, 2025-03'),
        field('Per tanggal (as of)', imAsOf), field('Instansi (agency)', imAgency)),
      field('Config kandidat (JSON, optional)', imConfig), imCheck,
      imButton, imOut),
    card('Aktivasi (activate a module)',
      h('div', { class: 'form-row' }, field('Modul', acModule), field('Hook', acHook)),
      field('Config (JSON)', acConfig), acCheck, acButton, acOut),
    card('Riwayat aktivasi (activation history)', h('p', { class: 'muted' }, 'Klik “Kembalikan” untuk mengaktifkan lagi modul dan config yang lama (rollback).'), historyBox));
  syncDry();
  syncImpact();
  imValidate();
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

/** A signed number: +3,5 / −2 / 0. */
function signed(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const n = Number(v);
  return n > 0 ? `+${num(n, digits)}` : n < 0 ? `−${num(-n, digits)}` : num(0, digits);
}

function deltaCell(v) {
  return h('span', { class: `delta ${v > 0 ? 'good' : v < 0 ? 'bad' : 'muted'}` }, signed(v));
}

function stat(id, label, value, cls) {
  return h('span', { class: `stat ${cls || ''}`, id }, h('small', {}, label), h('span', { class: 'value' }, value));
}

/** The answer of the impact endpoint: what changes if the candidate replaced the active policy. */
function impactResult(r, ms, region, agencyName, regionName) {
  const sameModule = r.candidate_plugin === r.active_plugin;
  const sameConfig = JSON.stringify(r.candidate_config) === JSON.stringify(r.active_config);
  const head = h('p', { class: 'impact-head' },
    'Kandidat ', h('code', { title: r.candidate_plugin }, shortId(r.candidate_plugin)),
    ' dibanding kebijakan aktif ', h('code', { title: r.active_plugin }, shortId(r.active_plugin)),
    ` untuk hook ${r.hook} di ${r.region === region ? regionName : r.region}`,
    sameModule && sameConfig ? h('span', { class: 'muted' }, ' — modul dan config sama dengan yang aktif.')
      : sameModule ? h('span', { class: 'muted' }, ' — modul sama, config berbeda.') : null);
  const configs = h('details', { class: 'impact-configs' }, h('summary', {}, 'Config kandidat dan aktif'),
    h('div', { class: 'pair' },
      h('div', {}, h('small', { class: 'muted' }, 'Kandidat (candidate)'), h('pre', { class: 'code small' }, JSON.stringify(r.candidate_config, null, 2))),
      h('div', {}, h('small', { class: 'muted' }, 'Aktif (active)'), h('pre', { class: 'code small' }, JSON.stringify(r.active_config, null, 2)))));
  const timing = [
    stat('impact-time', 'Waktu server (duration)', `${num(r.duration_ms, 2)} ms`),
    stat('impact-roundtrip', 'Waktu total (round trip)', `${num(ms, 0)} ms`),
    stat('impact-fuel', 'Fuel aktif / kandidat', `${num(r.fuel_active, 0)} / ${num(r.fuel_candidate, 0)}`),
  ];
  const skipped = r.skipped || [];
  const skippedBox = skipped.length
    ? h('details', { id: 'impact-skipped' }, h('summary', {}, `${skipped.length} pegawai dilewati (skipped)`),
      table([
        { title: 'NIP', cell: (x) => h('code', {}, x.nip) },
        { title: 'Alasan (reason)', cell: (x) => x.reason },
      ], skipped.slice(0, 200)))
    : null;
  let body = null;
  if (r.appraise) body = appraiseImpact(r.appraise, timing, region, agencyName);
  else if (r.rotate) body = rotateImpact(r.rotate, timing, region);
  else body = [h('div', { class: 'stats' }, timing), h('p', { class: 'muted' }, 'Tidak ada perbandingan.')];
  return h('div', { class: 'impact', dataset: { hook: r.hook } }, head, body, skippedBox, configs);
}

function appraiseImpact(a, timing, region, agencyName) {
  const agencyOf = (id) => agencyName[id] || id;
  const stats = h('div', { class: 'stats' },
    stat('impact-employees', 'Pegawai (employees)', num(a.employees, 0)),
    stat('impact-changed', 'Predikat berubah (changed)', num(a.changed, 0)),
    stat('impact-up', 'Naik (up)', num(a.up, 0), 'up'),
    stat('impact-down', 'Turun (down)', num(a.down, 0), 'down'),
    timing);
  const agencies = [...(a.agencies || [])].sort((x, y) => y.changed - x.changed || agencyOf(x.agency).localeCompare(agencyOf(y.agency), 'id'));
  return [
    stats,
    h('h3', {}, 'Perpindahan predikat (transitions)'),
    h('div', { class: 'tx-wrap' }, transitionTable(a)),
    h('h3', {}, 'Perubahan skor terbesar (largest score changes)'),
    h('div', { id: 'impact-changes' }, table([
      { title: 'Nama', cell: (x) => h('a', { href: `#/r/${enc(region)}/e/${enc(x.nip)}` }, x.name || x.nip) },
      { title: 'NIP', cell: (x) => h('code', {}, x.nip) },
      { title: 'Instansi', cell: (x) => agencyOf(x.agency) },
      { title: 'Predikat aktif → kandidat', cell: (x) => [badge(x.predikat_active), ' → ', badge(x.predikat_candidate)] },
      { title: 'Skor aktif', class: 'num', cell: (x) => num(x.score_active) },
      { title: 'Skor kandidat', class: 'num', cell: (x) => num(x.score_candidate) },
      { title: 'Selisih (Δ)', class: 'num', cell: (x) => deltaCell(x.delta) },
    ], a.largest_score_changes || [], {
      class: 'impact-changes',
      caption: 'Sampai 10 pegawai dengan selisih skor terbesar (kandidat − aktif).',
      empty: 'Tidak ada skor atau predikat yang berubah.',
      rowAttrs: (x) => ({ dataset: { nip: x.nip } }),
    })),
    h('h3', {}, 'Per instansi (per agency)'),
    h('div', { id: 'impact-agencies' }, table([
      { title: 'Instansi', cell: (x) => agencyOf(x.agency) },
      { title: 'Pegawai', class: 'num', cell: (x) => num(x.employees, 0) },
      { title: 'Berubah', class: 'num', cell: (x) => num(x.changed, 0) },
      { title: 'Naik', class: 'num', cell: (x) => (x.up ? h('span', { class: 'good' }, num(x.up, 0)) : '0') },
      { title: 'Turun', class: 'num', cell: (x) => (x.down ? h('span', { class: 'bad' }, num(x.down, 0)) : '0') },
      { title: 'Rata-rata skor aktif', class: 'num', cell: (x) => num(x.mean_score_active) },
      { title: 'Rata-rata skor kandidat', class: 'num', cell: (x) => num(x.mean_score_candidate) },
      { title: 'Selisih (Δ)', class: 'num', cell: (x) => deltaCell(Math.round((x.mean_score_candidate - x.mean_score_active) * 100) / 100) },
      { title: 'Predikat aktif / kandidat', cell: (x) => h('div', { class: 'bars' },
        h('span', {}, h('small', { class: 'muted' }, 'aktif'), predikatBar(x.predikat_active, `${agencyOf(x.agency)}, aktif`)),
        h('span', {}, h('small', { class: 'muted' }, 'kandidat'), predikatBar(x.predikat_candidate, `${agencyOf(x.agency)}, kandidat`))) },
    ], agencies, {
      class: 'impact-agencies',
      caption: 'Ringkasan per instansi, urut dari yang paling banyak berubah.',
      rowAttrs: (x) => ({ dataset: { agency: x.agency } }),
    })),
  ];
}

/** The 5×5 table of predikat transitions: rows the active policy's, columns the candidate's. */
function transitionTable(a) {
  const levels = a.levels && a.levels.length ? a.levels : PREDIKAT_ORDER;
  const t = a.transitions || [];
  const cell = (i, j) => Number((t[i] && t[i][j]) || 0);
  const max = Math.max(1, ...levels.flatMap((_, i) => levels.map((__, j) => cell(i, j))));
  const heat = (n) => (n === 0 ? 0 : Math.min(5, 1 + Math.floor((4 * n) / max)));
  const rowSum = (i) => levels.reduce((s, _, j) => s + cell(i, j), 0);
  const colSum = (j) => levels.reduce((s, _, i) => s + cell(i, j), 0);
  const total = levels.reduce((s, _, i) => s + rowSum(i), 0);
  const word = (l) => PREDIKAT[l] || l;
  const tableEl = h('table', { class: 'grid tx', id: 'impact-transitions' },
    h('caption', {}, 'Baris: predikat dengan kebijakan aktif. Kolom: predikat dengan modul kandidat. ',
      'Diagonal (berbingkai) = tidak berubah; kiri bawah diagonal = naik, kanan atas = turun.'),
    h('thead', {},
      h('tr', {}, h('td', { colspan: 2, class: 'corner' }), h('th', { colspan: levels.length, scope: 'colgroup', class: 'axis' }, 'Kandidat (candidate) →'), h('td', {})),
      h('tr', {}, h('td', { colspan: 2, class: 'corner' }),
        levels.map((l) => h('th', { scope: 'col' }, badge(l))),
        h('th', { scope: 'col', class: 'num' }, 'Jumlah'))),
    h('tbody', {}, levels.map((from, i) => h('tr', {},
      i === 0 ? h('th', { scope: 'rowgroup', rowspan: levels.length, class: 'axis side' }, 'Aktif (active) ↓') : null,
      h('th', { scope: 'row' }, badge(from)),
      levels.map((to, j) => {
        const n = cell(i, j);
        const kind = i === j ? 'same' : j < i ? 'up' : 'down';
        const what = i === j ? 'tetap' : j < i ? 'naik' : 'turun';
        return h('td', {
          class: `num cell ${kind} h${heat(n)}`,
          dataset: { from, to, count: n },
          title: `${word(from)} → ${word(to)} (${what}): ${n} pegawai`,
        }, num(n, 0));
      }),
      h('td', { class: 'num total' }, num(rowSum(i), 0))))),
    h('tfoot', {}, h('tr', {},
      h('th', { colspan: 2, scope: 'row' }, 'Jumlah'),
      levels.map((_, j) => h('td', { class: 'num total' }, num(colSum(j), 0))),
      h('td', { class: 'num total' }, num(total, 0)))));
  const legend = h('p', { class: 'tx-legend small' },
    h('span', { class: 'swatch same' }), ' tetap (unchanged) ',
    h('span', { class: 'swatch up' }), ' naik (up) ',
    h('span', { class: 'swatch down' }), ' turun (down) · makin pekat makin banyak pegawai');
  return [tableEl, legend];
}

const MOVE_COLUMNS = (region) => [
  { title: 'NIP', cell: (m) => h('a', { href: `#/r/${enc(region)}/e/${enc(m.nip)}` }, h('code', {}, m.nip)) },
  { title: 'Jenis', cell: (m) => h('span', { class: `chip k-${m.kind}` }, m.kind === 'promotion' ? 'Promosi' : m.kind === 'rotation' ? 'Rotasi' : m.kind) },
  { title: 'Dari → ke', cell: (m) => [h('code', {}, m.from), ' → ', h('code', {}, m.to)] },
  { title: 'Job-person match', cell: (m) => [meter(m.job_person_match), ' ', `${num(m.job_person_match, 1)}%`] },
  { title: 'Kesiapan (readiness)', cell: (m) => h('span', { class: `ready r-${m.readiness}` }, m.readiness === 'ready' ? 'Siap (ready)' : m.readiness === 'needs_training' ? 'Perlu pelatihan' : m.readiness) },
  { title: 'Pelatihan (training)', cell: (m) => (m.training && m.training.length ? m.training.join(', ') : '—') },
];

function rotateImpact(x, timing, region) {
  const added = x.moves_added || [];
  const removed = x.moves_removed || [];
  const attrs = (m) => ({ dataset: { nip: m.nip, to: m.to } });
  return [
    h('div', { class: 'stats' },
      stat('impact-moves-active', 'Usulan aktif (active)', num(x.moves_active, 0)),
      stat('impact-moves-candidate', 'Usulan kandidat (candidate)', num(x.moves_candidate, 0)),
      stat('impact-moves-kept', 'Tetap (kept)', num(x.moves_kept, 0)),
      stat('impact-moves-added', 'Bertambah (added)', num(added.length, 0), 'up'),
      stat('impact-moves-removed', 'Hilang (removed)', num(removed.length, 0), 'down'),
      timing),
    h('h3', {}, `Usulan baru dari kandidat (moves added) — ${added.length}`),
    h('div', { id: 'impact-added' }, table(MOVE_COLUMNS(region), added, {
      class: 'moves impact-added', caption: 'Diusulkan oleh kandidat, tidak oleh kebijakan aktif.', empty: 'Tidak ada usulan baru.', rowAttrs: attrs,
    })),
    h('h3', {}, `Usulan yang hilang (moves removed) — ${removed.length}`),
    h('div', { id: 'impact-removed' }, table(MOVE_COLUMNS(region), removed, {
      class: 'moves impact-removed', caption: 'Diusulkan oleh kebijakan aktif, tidak lagi oleh kandidat.', empty: 'Tidak ada usulan yang hilang.', rowAttrs: attrs,
    })),
  ];
}
