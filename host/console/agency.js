// The agency view (agency tokens, and admins who picked an agency): employees with search and
// paging, the appraisal run with its results and predikat distribution, the talent view
// (nine-box grid and rotation recommendations), and the formasi (staff needed by workload).

import { api, all, enc, token } from './api.js';
import {
  h, mount, card, field, table, errorBox, busy, badge, level, num, recommendations, today, regionToday, regionName, PREDIKAT, PREDIKAT_ORDER,
} from './ui.js';
import { distributionChart, countPredikat, meter } from './chart.js';

const PAGE = 20;

export async function agencyView(ctx, region, agencyId) {
  const { main } = ctx;
  const base = `/api/v1/regions/${enc(region)}`;
  const [agency, employees, now, regionLabel] = await Promise.all([
    api('GET', `${base}/agencies/${enc(agencyId)}`),
    all(`${base}/employees?agency=${enc(agencyId)}`),
    regionToday(region),
    regionName(region),
  ]);
  if (!ctx.isCurrent()) return;
  employees.sort((a, b) => a.name.localeCompare(b.name, 'id'));
  const byNip = Object.fromEntries(employees.map((e) => [e.nip, e]));
  const nameOf = (nip) => (byNip[nip] ? byNip[nip].name : nip);

  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const body = h('div', {});
  const panes = {
    employees: ['Pegawai (employees)', () => employeesPane(region, employees)],
    appraisal: ['Penilaian (appraisal)', () => appraisalPane(base, agencyId, nameOf, region)],
    talent: ['Talenta & rotasi (nine-box)', () => talentPane(base, agencyId, nameOf, byNip)],
    formasi: ['Formasi (kebutuhan pegawai)', () => formasiPane(base, agencyId)],
  };
  const cache = {};
  const show = (key) => {
    for (const b of tabs.children) b.classList.toggle('active', b.dataset.tab === key);
    if (!cache[key]) cache[key] = panes[key][1]();
    mount(body, cache[key]);
  };
  for (const [key, [label]] of Object.entries(panes)) {
    tabs.appendChild(h('button', { class: 'tab', role: 'tab', id: `tab-${key}`, dataset: { tab: key }, onclick: () => show(key) }, label));
  }
  const crumbs = ctx.me.role === 'agency' ? null
    : h('p', { class: 'crumbs' }, h('a', { href: `#/r/${enc(region)}`, id: 'crumb-region' }, regionLabel), ' › ', agency.name);
  mount(main, crumbs, h('h1', {}, agency.name, ' ', h('small', { class: 'muted' }, `${region} / ${agency.id}`)),
    h('p', { class: 'muted' }, `${employees.length} pegawai`), recapsCard(region, agency.id, now), tabs, body);
  show('employees');
}

function employeesPane(region, employees) {
  const search = h('input', { type: 'search', id: 'emp-search', placeholder: 'Cari nama, NIP atau jabatan… (search)' });
  const list = h('div', { id: 'emp-list' });
  const pager = h('div', { class: 'pager' });
  let page = 0;
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const rows = q ? employees.filter((e) => e.name.toLowerCase().includes(q) || e.nip.includes(q) || e.position_id.toLowerCase().includes(q)) : employees;
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(page, pages - 1);
    mount(list, table([
      { title: 'Nama', cell: (e) => h('a', { href: `#/r/${enc(region)}/e/${enc(e.nip)}` }, e.name) },
      { title: 'NIP', cell: (e) => h('code', {}, e.nip) },
      { title: 'Jabatan (position)', cell: (e) => e.position_id },
      { title: 'Sejak', cell: (e) => e.position_since },
      { title: 'Potensi', cell: (e) => e.potential || '—' },
    ], rows.slice(page * PAGE, page * PAGE + PAGE), { empty: 'Tidak ada pegawai yang cocok.' }));
    mount(pager,
      h('button', { class: 'small', id: 'prev', disabled: page === 0, onclick: () => { page -= 1; render(); } }, '‹ Sebelumnya'),
      h('span', { id: 'page-info' }, ` Halaman ${page + 1} dari ${pages} · ${rows.length} pegawai `),
      h('button', { class: 'small', id: 'next', disabled: page >= pages - 1, onclick: () => { page += 1; render(); } }, 'Berikutnya ›'));
  };
  search.addEventListener('input', () => { page = 0; render(); });
  render();
  return card('Pegawai (employees)', search, list, pager);
}

function appraisalPane(base, agencyId, nameOf) {
  const period = h('input', { id: 'appr-period', value: '2025', size: 8 });
  const out = h('div', { id: 'appr-result' });
  const run = h('button', { class: 'primary', id: 'run-appraisal' }, 'Jalankan penilaian (run appraisal)');
  run.addEventListener('click', () => busy(run, 'Menilai…', async () => {
    try {
      const r = await api('POST', `${base}/appraisals`, { period: period.value.trim(), agency: agencyId });
      mount(out, appraisalResults(r, nameOf));
    } catch (err) {
      mount(out, errorBox(err, 'Penilaian gagal'));
    }
  }));
  return h('div', {},
    card('Penilaian kinerja (appraisal)',
      h('p', { class: 'muted' }, 'Menilai seluruh pegawai instansi untuk satu periode dengan plugin appraise yang aktif di wilayah ini. Hasil disimpan sebagai keputusan (decision).'),
      h('div', { class: 'form-row' }, field('Periode (period)', period, '2025, 2025-Q1 atau 2025-03'), run)),
    out);
}

function appraisalResults(r, nameOf) {
  const results = r.results || [];
  const counts = countPredikat(results);
  const filter = h('select', { id: 'appr-filter' }, h('option', { value: '' }, 'Semua predikat'), PREDIKAT_ORDER.map((p) => h('option', { value: p }, `${PREDIKAT[p]} (${counts[p]})`)));
  const tableBox = h('div', {});
  const render = () => {
    const rows = filter.value ? results.filter((x) => x.predikat === filter.value) : results;
    mount(tableBox, table([
      { title: 'Nama', cell: (x) => nameOf(x.nip) },
      { title: 'NIP', cell: (x) => h('code', {}, x.nip) },
      { title: 'Predikat', cell: (x) => badge(x.predikat) },
      { title: 'Skor', class: 'num', cell: (x) => num(x.score) },
      { title: 'Hasil kerja', cell: (x) => level(x.hasil_kerja) },
      { title: 'Perilaku kerja', cell: (x) => level(x.perilaku_kerja) },
      { title: 'Rekomendasi', cell: (x) => recommendations(x.recommendations) },
      { title: '', cell: (x) => h('button', { class: 'small explain', onclick: (e) => {
        const tr = e.target.closest('tr').nextElementSibling;
        tr.hidden = !tr.hidden;
        e.target.textContent = tr.hidden ? 'Penjelasan' : 'Tutup';
      } }, 'Penjelasan') },
    ], rows, {
      class: 'results',
      after: (x) => h('tr', { class: 'explanation', hidden: true }, h('td', { colspan: 8 },
        h('div', {}, h('strong', {}, 'Penjelasan (explanation): '), x.explanation || '—'),
        h('div', { class: 'muted' }, `Keputusan ${x.decision_id || '—'} · plugin ${(r.plugin || '').slice(0, 12)}…`))),
    }));
  };
  filter.addEventListener('change', render);
  render();
  const skipped = r.skipped || [];
  return h('div', {},
    card('Distribusi predikat (predikat distribution)',
      h('div', { class: 'chart-wrap', id: 'distribution' }, distributionChart(results)),
      h('p', { class: 'muted' }, `${results.length} dinilai, ${skipped.length} dilewati (skipped) · plugin ${(r.plugin || '').slice(0, 12)}…`)),
    card('Hasil penilaian (results)', h('div', { class: 'form-row' }, field('Saring (filter)', filter)), tableBox),
    skipped.length ? card('Dilewati (skipped)', table([
      { title: 'Nama', cell: (x) => nameOf(x.nip) },
      { title: 'NIP', cell: (x) => h('code', {}, x.nip) },
      { title: 'Alasan (reason)', cell: (x) => x.reason },
    ], skipped)) : null);
}

// Nine-box numbering (PermenPANRB 3/2020): rows kinerja di atas / sesuai / di bawah, columns
// potential rendah / menengah / tinggi.
const GRID = [[4, 7, 9], [2, 5, 8], [1, 3, 6]];
const ROWS = ['Di atas ekspektasi', 'Sesuai ekspektasi', 'Di bawah ekspektasi'];
const COLS = ['Rendah', 'Menengah', 'Tinggi'];
const BOX_HINT = {
  9: 'Promosi & pertahankan; penghargaan',
  8: 'Pertahankan; rotasi / perluasan jabatan',
  7: 'Pertahankan; rotasi / pengayaan, pengembangan',
  6: 'Penempatan sesuai, pengembangan',
  5: 'Penempatan sesuai, pengembangan',
  4: 'Rotasi & pengembangan kompetensi',
  3: 'Penempatan sesuai, bimbingan',
  2: 'Penempatan sesuai, bimbingan',
  1: 'Penanganan sesuai aturan disiplin',
};

function talentPane(base, agencyId, nameOf) {
  const asOf = h('input', { id: 'rot-asof', type: 'date', value: today() });
  const out = h('div', { id: 'talent-result' });
  const run = h('button', { class: 'primary', id: 'run-rotation' }, 'Hitung talenta & rotasi (recommend)');
  run.addEventListener('click', () => busy(run, 'Menghitung…', async () => {
    try {
      const r = await api('POST', `${base}/rotations`, { as_of: asOf.value, agency: agencyId });
      mount(out, talentResults(r, nameOf));
    } catch (err) {
      mount(out, errorBox(err, 'Rekomendasi gagal'));
    }
  }));
  return h('div', {},
    card('Manajemen talenta (talent management)',
      h('p', { class: 'muted' }, 'Memetakan pegawai ke nine-box dari predikat terakhir dan potensi, lalu mengusulkan rotasi dan promosi dengan plugin rotate yang aktif.'),
      h('div', { class: 'form-row' }, field('Per tanggal (as of)', asOf), run)),
    out);
}

function talentResults(r, nameOf) {
  const talent = r.talent || [];
  const boxes = {};
  const unplaced = [];
  for (const t of talent) {
    if (t.box === null || t.box === undefined) unplaced.push(t.nip);
    else (boxes[t.box] = boxes[t.box] || []).push(t.nip);
  }
  const grid = h('div', { class: 'ninebox', id: 'ninebox' },
    h('div', { class: 'corner' }, 'Kinerja ↓ · Potensi →'),
    COLS.map((c) => h('div', { class: 'colhead' }, c)),
    GRID.map((row, i) => [
      h('div', { class: 'rowhead' }, ROWS[i]),
      row.map((n) => {
        const nips = boxes[n] || [];
        return h('div', { class: `box b${n} ${n >= 7 ? 'pool' : ''}`, dataset: { box: n, count: nips.length } },
          h('div', { class: 'boxhead' }, h('span', { class: 'boxnum' }, n), h('span', { class: 'count' }, nips.length)),
          h('div', { class: 'hint' }, BOX_HINT[n]),
          h('ul', { class: 'names' }, nips.slice(0, 8).map((nip) => h('li', { title: nip }, nameOf(nip))),
            nips.length > 8 ? h('li', { class: 'muted' }, `+${nips.length - 8} lainnya`) : null));
      }),
    ]),
    h('div', { class: 'axis-x' }, 'Potensi (potential) →'));
  const moves = r.moves || [];
  const flags = r.flags || [];
  return h('div', {},
    card('Nine-box talenta',
      h('p', { class: 'muted' }, 'Kotak 7–9 adalah kelompok rencana suksesi (talent pool).'),
      grid,
      unplaced.length ? h('p', { class: 'muted' }, `${unplaced.length} pegawai belum dapat dipetakan (tanpa predikat atau potensi).`) : null),
    card(`Rekomendasi mutasi (rotation recommendations) — ${moves.length}`,
      table([
        { title: 'Nama', cell: (m) => nameOf(m.nip) },
        { title: 'Jenis', cell: (m) => h('span', { class: `chip k-${m.kind}` }, m.kind === 'promotion' ? 'Promosi' : m.kind === 'rotation' ? 'Rotasi' : m.kind) },
        { title: 'Dari → ke', cell: (m) => [h('code', {}, m.from), ' → ', h('code', {}, m.to)] },
        { title: 'Job-person match', cell: (m) => [meter(m.job_person_match), ' ', `${num(m.job_person_match, 1)}%`] },
        { title: 'Kesiapan (readiness)', cell: (m) => h('span', { class: `ready r-${m.readiness}` }, m.readiness === 'ready' ? 'Siap (ready)' : m.readiness === 'needs_training' ? 'Perlu pelatihan' : m.readiness) },
        { title: 'Pelatihan (training)', cell: (m) => (m.training && m.training.length ? m.training.join(', ') : '—') },
      ], moves, { class: 'moves', empty: 'Tidak ada usulan.' })),
    flags.length ? card(null, h('details', { id: 'flags' }, h('summary', {}, h('strong', {}, `Catatan (flags) — ${flags.length}`), h('span', { class: 'muted' }, ' misalnya masa jabatan melewati 5 tahun (overdue)')),
      table([
        { title: 'Nama', cell: (f) => nameOf(f.nip) },
        { title: 'Jenis', cell: (f) => f.kind },
        { title: 'Rincian', cell: (f) => f.detail },
      ], flags.slice(0, 200)))) : null,
    h('p', { class: 'muted' }, `Keputusan ${r.decision_id || '—'} · plugin ${(r.plugin || '').slice(0, 12)}…`));
}

// The formasi (PermenPANRB 1/2020): per position the staff the workload calls for (or the
// capacity where no workload analysis was done), the staff there are, and the gap.
const KIND = { struktural: 'Struktural', fungsional: 'Fungsional', pelaksana: 'Pelaksana' };

function gapCell(gap) {
  if (gap > 0) return h('span', { class: 'bad', dataset: { gap } }, `kurang ${gap}`);
  if (gap < 0) return h('span', { class: 'good', dataset: { gap } }, `lebih ${-gap}`);
  return h('span', { class: 'muted', dataset: { gap } }, 'sesuai');
}

function formasiPane(base, agencyId) {
  const out = h('div', { id: 'formasi' }, h('p', { class: 'muted' }, 'Memuat formasi…'));
  api('GET', `${base}/agencies/${enc(agencyId)}/formasi`)
    .then((f) => mount(out, formasiResults(f)))
    .catch((err) => mount(out, errorBox(err, 'Formasi gagal dimuat')));
  return out;
}

function formasiResults(f) {
  const t = f.totals;
  const hours = num(f.effective_minutes / 60, 0);
  return h('div', {},
    card('Formasi: kebutuhan pegawai (needs analysis)',
      h('p', { class: 'muted' }, `Analisis beban kerja (PermenPANRB 1/2020): kebutuhan = Σ(volume × menit per satuan) / (${hours} jam × 60). `
        + 'Kebutuhan dibulatkan ke atas; jabatan tanpa uraian tugas memakai kapasitasnya. Selisih = kebutuhan − yang ada.'),
      h('div', { class: 'stats', id: 'formasi-totals' },
        h('div', { class: 'stat' }, h('small', {}, 'Kebutuhan (needed)'), h('span', { id: 'formasi-needed' }, num(t.needed, 0))),
        h('div', { class: 'stat' }, h('small', {}, 'Yang ada (held)'), h('span', { id: 'formasi-held' }, num(t.held, 0))),
        h('div', { class: 'stat down' }, h('small', {}, 'Kekurangan (shortage)'), h('span', { id: 'formasi-shortage' }, num(t.shortage, 0))),
        h('div', { class: 'stat' }, h('small', {}, 'Kelebihan (surplus)'), h('span', { id: 'formasi-surplus' }, num(t.surplus, 0))),
        h('div', { class: 'stat' }, h('small', {}, 'Dengan beban kerja'), `${t.positions_with_workload} / ${t.positions} jabatan`)),
      table([
        { title: 'Jabatan (position)', cell: (r) => [r.title, ' ', h('code', { class: 'muted' }, r.position_id)] },
        { title: 'Jenis', cell: (r) => `${KIND[r.kind] || r.kind} · ${r.level}` },
        { title: 'Dasar (basis)', cell: (r) => (r.basis === 'workload'
          ? h('span', { class: 'chip on' }, 'Beban kerja')
          : h('span', { class: 'chip' }, 'Kapasitas')) },
        { title: 'Beban kerja (menit/tahun)', class: 'num', cell: (r) => num(r.workload_minutes, 0) },
        { title: 'Kebutuhan', class: 'num', cell: (r) => (r.needed_exact === null || r.needed_exact === undefined
          ? String(r.needed)
          : `${num(r.needed_exact, 2)} → ${r.needed}`) },
        { title: 'Ada', class: 'num', cell: (r) => String(r.held) },
        { title: 'Selisih (gap)', class: 'num', cell: (r) => gapCell(r.gap) },
      ], f.positions, {
        class: 'formasi',
        empty: 'Instansi ini belum memiliki jabatan.',
        rowAttrs: (r) => ({ dataset: { position: r.position_id, basis: r.basis } }),
      })));
}

/** Downloads `path` (an authenticated CSV export) as the file the server names. */
async function download(path) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!r.ok) {
    const b = await r.json().catch(() => null);
    throw Object.assign(new Error((b && b.error && b.error.message) || `HTTP ${r.status}`), { status: r.status });
  }
  const name = (/filename="([^"]+)"/.exec(r.headers.get('content-disposition') || '') || [])[1] || 'rekap.csv';
  const url = URL.createObjectURL(await r.blob());
  const a = h('a', { href: url, download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The agency's recaps as CSV: the appraisals of a period, the daily reports of a range. */
function recapsCard(region, agency, now) {
  const base = `/api/v1/regions/${enc(region)}/agencies/${enc(agency)}`;
  const year = now.slice(0, 4);
  const period = h('input', { id: 'recap-period', value: String(year - 1), size: 8 });
  const from = h('input', { type: 'date', id: 'recap-from', value: `${year}-01-01` });
  const to = h('input', { type: 'date', id: 'recap-to', value: now });
  const out = h('div', { id: 'recap-out' });
  const get = (button, path) => busy(button, 'Mengunduh…', async () => {
    try {
      await download(path());
      mount(out);
    } catch (err) {
      mount(out, errorBox(err, 'Rekap tidak dapat diunduh'));
    }
  });
  const ap = h('button', { type: 'button', id: 'recap-appraisals' }, 'Unduh rekap penilaian (CSV)');
  ap.addEventListener('click', () => get(ap, () => `${base}/appraisals.csv?period=${encodeURIComponent(period.value.trim())}`));
  const rep = h('button', { type: 'button', id: 'recap-activities' }, 'Unduh rekap laporan harian (CSV)');
  rep.addEventListener('click', () => get(rep, () => `${base}/activities.csv?from=${from.value}&to=${to.value}`));
  return card('Rekap (unduh CSV)', h('div', { class: 'form-row' }, field('Periode', period), ap),
    h('div', { class: 'form-row' }, field('Dari', from), field('Sampai', to), rep), out);
}
