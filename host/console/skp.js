// The SKP page of one employee and year: the plan (RHK and indicators) the employee writes and
// submits, the supervisor's expectations and approval (or return with a note), the monthly
// realizations with their evidence, and the links to the printable SKP and evaluation document.
// What the page offers follows the relationship; the server decides every write.

import { api, enc, token } from './api.js';
import { h, mount, card, field, table, errorBox, okBox, busy, num, regionToday, SKP_STATE } from './ui.js';

/** The months of an SKP year, as its realizations are keyed. */
export const MONTHS = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];

/** One editable indicator row of the plan form; fields without an input (weight, monthly
 * targets) are kept from `ind` as they were. */
function indicatorRow(ind, i) {
  const input = (name, value, attrs = {}) => h('input', { 'data-f': name, value: value ?? '', ...attrs });
  const select = (name, value, options) => {
    const s = h('select', { 'data-f': name }, options.map(([v, l]) => h('option', { value: v }, l)));
    s.value = value;
    return s;
  };
  const tr = h('tr', { class: 'iki-row' },
    h('td', {}, input('id', ind.id || `iki-${i + 1}`, { size: 6 })),
    h('td', {}, input('name', ind.name, { placeholder: 'Indikator kinerja individu', size: 28 })),
    h('td', {}, select('kind', ind.kind || 'utama', [['utama', 'Utama'], ['tambahan', 'Tambahan']])),
    h('td', {}, select('direction', ind.direction || 'higher_is_better', [['higher_is_better', 'Makin tinggi makin baik'], ['lower_is_better', 'Makin rendah makin baik']])),
    h('td', {}, input('unit', ind.unit, { placeholder: 'dokumen', size: 8 })),
    h('td', {}, input('target', ind.target, { type: 'number', min: 0, step: 'any', size: 6 })),
    h('td', {}, select('accumulation', ind.accumulation || 'sum', [['sum', 'Jumlah per bulan'], ['level', 'Nilai terakhir']])));
  tr.read = () => {
    const v = (f) => tr.querySelector(`[data-f="${f}"]`).value.trim();
    return {
      ...ind, id: v('id'), name: v('name'), kind: v('kind'), direction: v('direction'), unit: v('unit'),
      target: Number(v('target')), accumulation: v('accumulation'),
    };
  };
  return tr;
}

/** The plan editor: every RHK with its indicators; `read()` answers the plan body. */
function planForm(skp) {
  const plan = skp ? skp.plan.rhk : [{ id: 'rhk-1', text: '', indicators: [{}] }];
  let count = plan.reduce((n, r) => n + r.indicators.length, 0);
  const blocks = plan.map((rhk, k) => {
    const text = h('textarea', { class: 'rhk-text', id: k === 0 ? 'rhk-text' : `rhk-text-${k}`, rows: 2, maxlength: 1000, placeholder: 'Rencana hasil kerja' }, rhk.text);
    const body = h('tbody', {}, rhk.indicators.map((ind, i) => indicatorRow(ind, i)));
    const add = h('button', { type: 'button', class: 'small', id: k === 0 ? 'iki-add' : `iki-add-${k}` }, 'Tambah indikator');
    add.addEventListener('click', () => { body.appendChild(indicatorRow({}, count)); count += 1; });
    const node = h('div', { class: 'rhk-edit' }, field(`Rencana hasil kerja (${rhk.id})`, text),
      h('table', { class: 'plan-edit' },
        h('thead', {}, h('tr', {}, ['ID', 'Indikator', 'Jenis', 'Arah', 'Satuan', 'Target tahunan', 'Akumulasi'].map((t) => h('th', {}, t)))),
        body),
      add);
    return { node, read: () => ({ ...rhk, text: text.value.trim(), indicators: [...body.children].map((tr) => tr.read()) }) };
  });
  return { node: h('div', { id: 'plan-form' }, blocks.map((b) => b.node)), read: () => ({ rhk: blocks.map((b) => b.read()) }) };
}

/** The plan as read: RHK, expectations and indicators with this year's realizations by month. */
function planTable(skp) {
  return skp.plan.rhk.map((r) => h('div', { class: 'rhk' },
    h('h4', {}, `${r.id}: ${r.text}`),
    h('p', { class: 'muted', id: `exp-${r.id}` }, `Ekspektasi pimpinan: ${skp.expectations[r.id] || '—'}`),
    table([
      { title: 'Indikator', cell: (i) => `${i.name} (${i.kind})` },
      { title: 'Target', class: 'num', cell: (i) => `${num(i.target, 2)} ${i.unit}` },
      { title: 'Akumulasi', cell: (i) => (i.accumulation === 'level' ? 'nilai terakhir' : 'jumlah') },
      ...MONTHS.map((m) => ({
        title: m, class: 'num',
        cell: (i) => {
          const v = skp.realizations[m] && skp.realizations[m][i.id];
          return v === undefined ? '' : num(v, 2);
        },
      })),
      { title: 'Bukti', cell: (i) => String((skp.evidence[i.id] || []).length) },
    ], r.indicators, { class: 'skp-table' })));
}

/** Opens an evidence file (fetched with the token) in a new tab. */
async function openFile(path) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!r.ok) return;
  const url = URL.createObjectURL(await r.blob());
  window.open(url, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** The evidence (bukti dukung) of an SKP as a table, or null when there is none: the indicator,
 * the month it backs, and the link or the file (opened with the token from `base`, the SKP's
 * path). `extra` adds columns; each row carries its place in the list as `i`. Shown on the SKP
 * page and in the supervisor's rating panel. */
export function evidenceTable(base, skp, extra = []) {
  const rows = Object.entries(skp.evidence || {})
    .flatMap(([iki, list]) => list.map((e) => ({ iki, ...e })))
    .map((e, i) => ({ ...e, i }));
  if (rows.length === 0) return null;
  const names = Object.fromEntries(skp.plan.rhk.flatMap((r) => r.indicators.map((ind) => [ind.id, ind.name])));
  return table([
    { title: 'Indikator', cell: (e) => (names[e.iki] ? `${names[e.iki]} (${e.iki})` : e.iki) },
    { title: 'Bulan', cell: (e) => e.month || 'tahunan' },
    { title: 'Bukti', cell: (e) => (e.url ? h('a', { href: /^https?:\/\//.test(e.url) ? e.url : '#', rel: 'noopener noreferrer', target: '_blank' }, e.url)
      : h('button', { type: 'button', class: 'link', onclick: () => openFile(`${base}/evidence/${e.sha256}`) },
        `${e.name || 'berkas'} (${e.content_type}, ${e.size} B)`)) },
    ...extra,
  ], rows, { class: 'evidence' });
}

export async function skpView(ctx, region, nip, year) {
  const { main, me } = ctx;
  const emp = `/api/v1/regions/${enc(region)}/employees/${enc(nip)}`;
  const base = `${emp}/skp/${enc(year)}`;
  // The employee's record: their own, their team's (for a supervisor) or their agency's.
  const [employee, skp, now] = await Promise.all([
    api('GET', emp),
    api('GET', base).catch((err) => (err.status === 404 ? null : Promise.reject(err))),
    regionToday(region),
  ]);
  if (!ctx.isCurrent()) return;
  const own = me.role === 'employee' && me.nip === nip;
  const central = me.role !== 'employee';
  const supervisor = me.role === 'employee' && employee.supervisor && employee.supervisor.nip === me.nip;
  const out = h('div', { id: 'skp-out' });
  const reload = () => skpView(ctx, region, nip, year);
  const act = (button, fn, done) => busy(button, 'Menyimpan…', async () => {
    try {
      await fn();
      await reload();
      const o = document.getElementById('skp-out');
      if (o) mount(o, okBox(done));
    } catch (err) {
      mount(out, errorBox(err, 'Tidak tersimpan'));
    }
  });
  const button = (id, label, fn, done, cls) => {
    const b = h('button', { type: 'button', id, class: cls || '' }, label);
    b.addEventListener('click', () => act(b, fn, done));
    return b;
  };
  const state = skp ? skp.state : null;
  const parts = [];
  parts.push(h('p', {},
    h('strong', {}, `${employee.name} · ${employee.nip} · ${employee.position_id}`), ' ',
    h('span', { class: `state state-${state || 'none'}`, id: 'skp-state' }, state ? SKP_STATE[state] : 'Belum ada SKP'),
    employee.supervisor ? h('span', { class: 'muted' }, ` · Pejabat penilai: ${employee.supervisor.name}`) : null));
  // In this tab: a new one would open signed out (the token lives in this tab's storage).
  const links = h('p', { class: 'form-row' },
    skp ? h('a', { href: `#/print/skp/${enc(region)}/${enc(nip)}/${enc(year)}`, id: 'print-skp' }, 'Cetak SKP') : null,
    own || central || supervisor ? h('a', { href: `#/print/evaluasi/${enc(region)}/${enc(nip)}/${enc(year)}`, id: 'print-eval' }, 'Cetak dokumen evaluasi kinerja') : null);
  parts.push(links);
  if (skp) parts.push(...planTable(skp));
  const returned = skp && skp.history.filter((t) => t.action === 'return').pop();
  if (state === 'returned' && returned) parts.push(h('p', { class: 'error', id: 'return-note' }, `Dikembalikan: ${returned.note}`));

  // The employee (or the agency) plans while draft or returned, then submits.
  if ((own || central) && (!skp || state === 'draft' || state === 'returned')) {
    const form = planForm(skp);
    parts.push(h('h3', {}, 'Rencana SKP'), form.node, h('div', { class: 'form-row' },
      button('plan-save', 'Simpan rencana', () => api('PUT', base, form.read()), 'Rencana tersimpan.', 'primary'),
      skp ? button('skp-submit', 'Ajukan ke atasan', () => api('POST', `${base}/submit`, {}), 'SKP diajukan.') : null));
  }
  // The supervisor (or the agency) sets expectations, then approves or returns.
  if ((supervisor || central) && skp && ['draft', 'submitted', 'returned'].includes(state)) {
    const exps = skp.plan.rhk.map((r, k) => [r.id, h('textarea', { id: k === 0 ? 'exp-text' : `exp-text-${k}`, rows: 2, maxlength: 2000, placeholder: `Ekspektasi pimpinan untuk ${r.id}` }, skp.expectations[r.id] || '')]);
    parts.push(h('h3', {}, 'Ekspektasi dan persetujuan atasan'),
      ...exps.map(([id, t]) => field(`Ekspektasi pimpinan (${id})`, t)),
      button('exp-save', 'Simpan ekspektasi', () => api('PUT', `${base}/expectations`,
        Object.fromEntries(exps.filter(([, t]) => t.value.trim() !== '').map(([id, t]) => [id, t.value]))), 'Ekspektasi tersimpan.'));
    if (state === 'submitted') {
      const note = h('input', { id: 'return-text', placeholder: 'Catatan pengembalian', maxlength: 2000 });
      parts.push(h('div', { class: 'form-row' },
        button('skp-approve', 'Setujui SKP', () => api('POST', `${base}/approve`, {}), 'SKP disetujui.', 'primary'),
        field('Catatan', note),
        button('skp-return', 'Kembalikan', () => api('POST', `${base}/return`, { note: note.value }), 'SKP dikembalikan.')));
    }
  }
  // Realizations and evidence while approved.
  if ((own || central) && state === 'approved') {
    const month = h('select', { id: 'real-month' }, MONTHS.map((m) => h('option', { value: m }, m)));
    const [y, m] = now.split('-');
    month.value = y === String(year) ? m : '12';
    const inds = skp.plan.rhk.flatMap((r) => r.indicators);
    const inputs = inds.map((i) => [i.id, h('input', { type: 'number', min: 0, step: 'any', id: `real-${i.id}`, size: 6 })]);
    const link = h('input', { id: 'ev-link', placeholder: 'Tautan dokumen (alamat web)', size: 30 });
    const file = h('input', { type: 'file', id: 'ev-file', accept: 'application/pdf,image/png,image/jpeg' });
    const which = h('select', { id: 'ev-indicator' }, inds.map((i) => h('option', { value: i.id }, i.name)));
    const evidence = async () => {
      const path = `${base}/indicators/${enc(which.value)}/evidence?month=${month.value}`;
      if (file.files && file.files[0]) {
        const f = file.files[0];
        await api('POST', `${path}&name=${encodeURIComponent(f.name)}`, undefined, { raw: f, type: f.type || 'application/octet-stream' });
        return;
      }
      await api('POST', path, { link: link.value.trim(), month: month.value });
    };
    parts.push(h('h3', {}, 'Realisasi bulanan'), h('div', { class: 'form-row' }, field('Bulan', month),
      ...inputs.map(([id, inp]) => field(inds.find((i) => i.id === id).name, inp)),
      button('real-save', 'Simpan realisasi', () => api('PUT', `${base}/realizations/${month.value}`,
        { indicators: Object.fromEntries(inputs.filter(([, inp]) => inp.value !== '').map(([id, inp]) => [id, Number(inp.value)])) }),
      'Realisasi tersimpan.', 'primary')),
    h('div', { class: 'form-row' }, field('Indikator', which), field('Tautan bukti', link), field('atau berkas (PDF/PNG/JPEG ≤ 2 MiB)', file),
      button('ev-save', 'Tambah bukti dukung', evidence, 'Bukti dukung tersimpan.')));
  }
  if (supervisor && (state === 'approved' || state === 'locked')) {
    parts.push(button('skp-reopen', 'Buka kembali SKP', () => api('POST', `${base}/reopen`, {}), 'SKP dibuka kembali.'));
  }
  if (skp) {
    // Taken off as it was added: by the employee or centrally, while approved.
    const removable = (own || central) && state === 'approved';
    const remove = (e) => button(`ev-remove-${e.i}`, 'Hapus', () => api('DELETE',
      `${base}/indicators/${enc(e.iki)}/evidence?${e.sha256 ? `sha256=${e.sha256}` : `link=${encodeURIComponent(e.url)}`}`),
    'Bukti dukung dihapus.', 'link');
    const evidence = evidenceTable(base, skp, removable ? [{ title: '', cell: remove }] : []);
    if (evidence) parts.push(h('h3', {}, 'Bukti dukung'), evidence);
  }
  parts.push(out);
  mount(main, card(`SKP ${year}`, ...parts));
}
