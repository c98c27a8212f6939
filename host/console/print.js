// Print-ready documents of one employee: the SKP of a year and the evaluation document
// (dokumen evaluasi kinerja) of a period, laid out for A4 with the signature blocks of the
// employee and the pejabat penilai kinerja. The browser's print (or "save as PDF") makes the
// paper; the page carries nothing else.

import { api, enc } from './api.js';
import { h, mount, num, readRegion, LEVEL, PREDIKAT, SKP_STATE } from './ui.js';

/** A date as printed under a signature, `7 Desember 2026`, in the region's time zone. */
function longDate(zone) {
  return new Date().toLocaleDateString('id-ID', { timeZone: zone || 'Asia/Jakarta', day: 'numeric', month: 'long', year: 'numeric' });
}

/** Where a document is signed: the region's name and time zone (its id and WIB when the
 * region cannot be read; a printed page still names a place). */
async function placeOf(region) {
  try {
    const r = await readRegion(region);
    return { name: r.name, zone: r.time_zone };
  } catch {
    return { name: region, zone: null };
  }
}

/** The identity table of the employee and of the pejabat penilai. */
function identities(employee) {
  const sup = employee.supervisor;
  return h('table', { class: 'doc-id' },
    h('tr', {}, h('th', { colspan: 2 }, 'Pegawai yang dinilai'), h('th', { colspan: 2 }, 'Pejabat penilai kinerja')),
    h('tr', {}, h('td', {}, 'Nama'), h('td', {}, employee.name), h('td', {}, 'Nama'), h('td', {}, sup ? sup.name : '—')),
    h('tr', {}, h('td', {}, 'NIP'), h('td', {}, employee.nip), h('td', {}, 'NIP'), h('td', {}, sup ? sup.nip : '—')),
    h('tr', {}, h('td', {}, 'Jabatan'), h('td', {}, employee.position_id), h('td', {}, 'Jabatan'), h('td', {}, sup ? sup.position_id : '—')),
    h('tr', {}, h('td', {}, 'Unit kerja'), h('td', {}, employee.agency), h('td', {}, 'Unit kerja'), h('td', {}, employee.agency)));
}

/** The two signature blocks. */
function signatures(employee, place) {
  // `place`: as placeOf answers it.
  const sup = employee.supervisor;
  const block = (id, title, name, nip) => h('div', { class: 'sign', id },
    h('p', {}, title), h('div', { class: 'sign-space' }), h('p', { class: 'sign-name' }, name), h('p', {}, `NIP ${nip}`));
  return h('div', { class: 'signatures' },
    block('sign-employee', 'Pegawai yang dinilai,', employee.name, employee.nip),
    block('sign-supervisor', `${place.name}, ${longDate(place.zone)}\nPejabat penilai kinerja,`, sup ? sup.name : '………………………', sup ? sup.nip : '………………'));
}

function frame(main, ...children) {
  document.body.classList.add('printing');
  mount(main, h('article', { class: 'document', id: 'document' }, ...children));
}

/** The SKP of `year`: RHK, indicators and targets, expectations, and the signatures. */
export async function printSkp(ctx, region, nip, year) {
  const { main } = ctx;
  const emp = `/api/v1/regions/${enc(region)}/employees/${enc(nip)}`;
  // The place under the signature is the region's name as the API holds it.
  const [employee, skp, place] = await Promise.all([api('GET', emp), api('GET', `${emp}/skp/${enc(year)}`), placeOf(region)]);
  if (!ctx.isCurrent()) return;
  const rows = skp.plan.rhk.flatMap((r, i) => r.indicators.map((ind, j) => h('tr', {},
    j === 0 ? h('td', { rowspan: r.indicators.length }, String(i + 1)) : null,
    j === 0 ? h('td', { rowspan: r.indicators.length }, r.text) : null,
    h('td', {}, ind.name), h('td', { class: 'num' }, `${num(ind.target, 2)} ${ind.unit}`),
    j === 0 ? h('td', { rowspan: r.indicators.length }, skp.expectations[r.id] || '—') : null)));
  frame(main,
    h('header', {}, h('h1', {}, 'Sasaran Kinerja Pegawai'), h('p', {}, `${place.name} · periode penilaian ${year} · ${(SKP_STATE[skp.state] || skp.state).toLowerCase()}`)),
    identities(employee),
    h('table', { class: 'doc-table' },
      h('thead', {}, h('tr', {}, ['No', 'Rencana hasil kerja', 'Indikator kinerja individu', 'Target', 'Ekspektasi pimpinan'].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows)),
    signatures(employee, place));
}

/** The evaluation document of `period`: the stored appraisal's result and the signatures (for
 * the employee, their supervisor, their agency and the administrators, who read the
 * appraisals). */
export async function printEvaluation(ctx, region, nip, period) {
  const { main } = ctx;
  const emp = `/api/v1/regions/${enc(region)}/employees/${enc(nip)}`;
  const [employee, appraisals, place] = await Promise.all([api('GET', emp), api('GET', `${emp}/appraisals?limit=1000`), placeOf(region)]);
  if (!ctx.isCurrent()) return;
  const d = appraisals.items.find((a) => a.period === period);
  if (!d) {
    frame(main, h('p', { class: 'error', id: 'no-appraisal' }, `Belum ada penilaian untuk periode ${period}.`));
    return;
  }
  const o = d.output || {};
  const row = (k, v) => h('tr', {}, h('th', {}, k), h('td', {}, v));
  frame(main,
    h('header', {}, h('h1', {}, 'Dokumen Evaluasi Kinerja Pegawai'), h('p', {}, `${place.name} · periode ${period}`)),
    identities(employee),
    h('table', { class: 'doc-table' },
      row('Hasil kerja', LEVEL[o.hasil_kerja] || o.hasil_kerja || '—'),
      row('Perilaku kerja', LEVEL[o.perilaku_kerja] || o.perilaku_kerja || '—'),
      row('Predikat kinerja', PREDIKAT[o.predikat] || o.predikat || '—'),
      row('Skor', o.score === undefined ? '—' : num(o.score, 2)),
      row('Penjelasan', o.explanation || '—'),
      row('Nomor keputusan', d.id)),
    signatures(employee, place));
}
