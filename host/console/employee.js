// The employee view: profile, the period's indicators (target vs realization) and behaviour
// ratings, appraisal history with each decision's explanation, and daily activity reports with
// a form to add one. Employees see their own page and, as a supervisor, their direct reports'
// pages (read-only); the API answers 403 for any other.

import { api, all, enc } from './api.js';
import {
  h, mount, card, field, table, errorBox, okBox, busy, badge, level, num, when, recommendations, regionToday,
  regionName,
} from './ui.js';
import { indicatorChart, behaviourChart } from './chart.js';
import { selfAssessment, feedbackCard, teamCard, reportState } from './people.js';

const PAGE = 15;

export async function employeeView(ctx, region, nip) {
  const { main, me } = ctx;
  const base = `/api/v1/regions/${enc(region)}/employees/${enc(nip)}`;
  let emp;
  try {
    emp = await api('GET', base);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    mount(main, card('Halaman pegawai', h('div', { id: 'forbidden' }, errorBox(err,
      err.status === 403 ? 'Anda hanya dapat membuka halaman Anda sendiri dan halaman bawahan langsung Anda' : 'Pegawai tidak dapat dibuka'))));
    return;
  }
  // "Today" is the region's, as the server judges the reports' dates by.
  // The breadcrumbs name the region and the agency (their ids where they cannot be read).
  const [periods, appraisals, now, regionLabel, agencyLabel] = await Promise.all([
    all(`${base}/periods`),
    all(`${base}/appraisals`),
    regionToday(region),
    me.role === 'employee' ? null : regionName(region),
    me.role === 'employee' ? null
      : api('GET', `/api/v1/regions/${enc(region)}/agencies/${enc(emp.agency)}`).then((a) => a.name, () => emp.agency),
  ]);
  if (!ctx.isCurrent()) return;
  periods.sort((a, b) => b.period.localeCompare(a.period));
  const latest = appraisals[0];

  // A supervisor reads a direct report's page but writes nothing on it: the reports are the
  // employee's to add and withdraw (the server refuses the supervisor), and are approved or
  // rejected from the team card on the supervisor's own page.
  const own = me.role === 'employee' && me.nip === nip;
  const readOnly = me.role === 'employee' && !own;
  const crumbs = me.role === 'employee'
    ? (readOnly ? h('p', { class: 'crumbs' }, h('a', { href: `#/r/${enc(region)}/e/${enc(me.nip)}`, id: 'back-own' }, 'Halaman saya'), ' › ', emp.name) : null)
    : h('p', { class: 'crumbs' }, me.role !== 'agency' ? [h('a', { href: `#/r/${enc(region)}`, id: 'crumb-region' }, regionLabel), ' › '] : null,
      h('a', { href: `#/r/${enc(region)}/a/${enc(emp.agency)}`, id: 'crumb-agency' }, agencyLabel), ' › ', emp.name);

  const profile = card(null,
    h('div', { class: 'profile' },
      h('div', {},
        h('h1', { id: 'emp-name' }, emp.name),
        h('div', {}, 'NIP ', h('code', { id: 'emp-nip' }, emp.nip)),
        h('div', { class: 'muted' }, `${emp.agency} · ${emp.position_id} sejak ${emp.position_since}`),
        emp.history && emp.history.length ? h('div', { class: 'muted small' }, 'Riwayat jabatan: ',
          emp.history.map((x) => `${x.position_id} (${x.from} – ${x.until})`).join('; ')) : null),
      latest ? h('div', { class: 'latest' }, h('small', {}, `Predikat terakhir (${latest.period || '—'})`), badge(latest.output && latest.output.predikat),
        h('div', { class: 'score' }, num(latest.output && latest.output.score))) : null));

  // --- period record ---
  const periodSel = h('select', { id: 'period' }, periods.map((p) => h('option', { value: p.period }, p.period)));
  const periodBox = h('div', { id: 'period-box' });
  const renderPeriod = () => {
    const p = periods.find((x) => x.period === periodSel.value);
    if (!p) {
      mount(periodBox, h('p', { class: 'muted' }, 'Belum ada catatan periode (no period record).'));
      return;
    }
    mount(periodBox,
      h('h3', {}, `Indikator kinerja (SKP) ${p.start} – ${p.end}`),
      p.indicators && p.indicators.length ? h('div', { class: 'chart-wrap', id: 'indicators' }, indicatorChart(p.indicators)) : h('p', { class: 'muted' }, 'Tidak ada indikator.'),
      h('h3', {}, 'Perilaku kerja (BerAKHLAK)'),
      p.behavior ? h('div', { class: 'chart-wrap', id: 'behaviour' }, behaviourChart(p.behavior)) : h('p', { class: 'muted' }, 'Belum ada penilaian perilaku.'),
      p.innovations && p.innovations.length ? [h('h3', {}, 'Inovasi'), h('ul', {}, p.innovations.map((i) => h('li', {}, typeof i === 'string' ? i : (i.title || JSON.stringify(i)))))] : null);
  };
  periodSel.addEventListener('change', renderPeriod);
  renderPeriod();

  // --- appraisal history ---
  const history = table([
    { title: 'Periode', cell: (d) => d.period || d.as_of || '—' },
    { title: 'Predikat', cell: (d) => badge(d.output && d.output.predikat) },
    { title: 'Skor', class: 'num', cell: (d) => num(d.output && d.output.score) },
    { title: 'Hasil kerja', cell: (d) => level(d.output && d.output.hasil_kerja) },
    { title: 'Perilaku kerja', cell: (d) => level(d.output && d.output.perilaku_kerja) },
    { title: 'Rekomendasi', cell: (d) => recommendations(d.output && d.output.recommendations) },
    { title: 'Waktu', cell: (d) => when(d.at) },
  ], appraisals, {
    class: 'history',
    empty: 'Belum ada hasil penilaian.',
    after: (d) => h('tr', { class: 'explanation' }, h('td', { colspan: 7 },
      h('details', {}, h('summary', {}, `Penjelasan keputusan ${d.id}`),
        h('p', {}, (d.output && d.output.explanation) || '—'),
        h('p', { class: 'muted small' }, `plugin ${d.plugin.slice(0, 12)}… · fuel ${num(d.fuel, 0)} · ${num(d.duration_ms)} ms`)))),
  });

  // --- activities ---
  const actList = h('div', { id: 'activities' });
  const actPager = h('div', { class: 'pager' });
  let activities = [];
  let page = 0;
  const renderActs = () => {
    const pages = Math.max(1, Math.ceil(activities.length / PAGE));
    page = Math.min(page, pages - 1);
    mount(actList, table([
      { title: 'Tanggal', cell: (a) => a.date },
      { title: 'Uraian kegiatan', cell: (a) => a.description },
      { title: 'Menit', class: 'num', cell: (a) => a.minutes },
      { title: 'Status', cell: (a) => reportState(a) },
      // A pending report can still be withdrawn by whoever wrote it.
      { title: '', cell: (a) => (a.state === 'pending' && !readOnly ? h('button', {
        class: 'small', id: `withdraw-${a.id}`,
        onclick: (e) => busy(e.target, 'Menarik…', async () => {
          try {
            await api('DELETE', `${base}/activities/${a.id}`);
            mount(actOut, okBox(`Laporan ${a.date} ditarik.`));
            await loadActs();
          } catch (err) {
            mount(actOut, errorBox(err, 'Laporan tidak dapat ditarik'));
          }
        }),
      }, 'Tarik') : null) },
    ], activities.slice(page * PAGE, page * PAGE + PAGE), { class: 'acts', empty: 'Belum ada laporan.' }));
    mount(actPager,
      h('button', { class: 'small', disabled: page === 0, onclick: () => { page -= 1; renderActs(); } }, '‹ Lebih baru'),
      ` Halaman ${page + 1} dari ${pages} · ${activities.length} laporan `,
      h('button', { class: 'small', disabled: page >= pages - 1, onclick: () => { page += 1; renderActs(); } }, 'Lebih lama ›'));
  };
  const loadActs = async () => {
    // Newest first; the API lists by date ascending, so the whole (bounded) list is read.
    activities = (await all(`${base}/activities`, 5000)).reverse();
    page = 0;
    renderActs();
  };
  const date = h('input', { type: 'date', id: 'act-date', value: now, required: true });
  const desc = h('input', { id: 'act-desc', placeholder: 'Uraian kegiatan hari ini', required: true, maxlength: 1000 });
  const minutes = h('input', { type: 'number', id: 'act-minutes', min: 1, max: 1440, value: 60, required: true });
  const actOut = h('div', { id: 'act-out' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'act-submit' }, 'Tambah laporan (add)');
  const form = h('form', {
    class: 'form-row',
    id: 'act-form',
    onsubmit: (e) => {
      e.preventDefault();
      busy(submit, 'Menyimpan…', async () => {
        try {
          await api('POST', `${base}/activities`, { date: date.value, description: desc.value.trim(), minutes: Number(minutes.value) });
          mount(actOut, okBox(`Laporan ${date.value} tersimpan.`));
          desc.value = '';
          await loadActs();
        } catch (err) {
          mount(actOut, errorBox(err, 'Laporan tidak tersimpan'));
        }
      });
    },
  }, field('Tanggal', date), field('Uraian (description)', desc), field('Menit', minutes), submit);

  // The person's own page also carries their self-assessment, their supervisor's notes and,
  // for a supervisor, their team.
  const people = own ? await Promise.all([
    selfAssessment(base, periods[0] && periods[0].period),
    feedbackCard(base),
    teamCard(region, nip, periods.map((p) => p.period)),
  ]) : [];
  if (!ctx.isCurrent()) return;
  const year = now.slice(0, 4);
  const skpLinks = card('SKP (sasaran kinerja pegawai)', h('p', { class: 'form-row' },
    h('a', { href: `#/r/${enc(region)}/e/${enc(nip)}/skp/${year}`, id: 'skp-link' }, `SKP ${year}`),
    h('a', { href: `#/r/${enc(region)}/e/${enc(nip)}/skp/${year - 1}` }, `SKP ${year - 1}`)));
  mount(main, crumbs, profile, skpLinks,
    card('Kinerja per periode', h('div', { class: 'form-row' }, field('Periode', periodSel)), periodBox),
    people,
    card('Riwayat penilaian (appraisal history)', history),
    card('Laporan kegiatan harian (daily activity reports)',
      readOnly ? h('p', { class: 'muted', id: 'read-only' }, 'Halaman bawahan Anda: hanya dibaca. Laporan yang menunggu disetujui atau ditolak dari kartu Laporan harian tim di halaman Anda.') : form,
      actOut, actList, actPager));
  await loadActs();
}
