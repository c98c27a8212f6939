// The people side of an employee's own page: the self-assessment, the supervisor's feedback
// notes, and — for a supervisor — their team: each member's ratings to give (beside the
// evidence of their SKP), peers to assign and notes to write, the team's SKP progress month by
// month, and the team's daily reports waiting for approval. Every write goes to the API as the
// signed-in person; the server decides by relationship (self, supervisor, assigned peer), not
// by the page.

import { api, all, enc } from './api.js';
import { h, mount, card, field, table, errorBox, okBox, busy, when, num, regionToday, BERAKHLAK, SKP_STATE } from './ui.js';
import { evidenceTable, MONTHS } from './skp.js';

/** Seven 1–5 selects for the BerAKHLAK values, prefilled from `ratings`; `read()` answers them. */
function ratingsForm(prefix, ratings) {
  const selects = Object.entries(BERAKHLAK).map(([k, label]) => {
    const sel = h('select', { id: `${prefix}-${k}`, 'aria-label': label },
      [1, 2, 3, 4, 5].map((v) => h('option', { value: v }, String(v))));
    sel.value = String((ratings && ratings[k]) || 3);
    return [k, field(label, sel), sel];
  });
  return {
    node: h('div', { class: 'rating-grid' }, selects.map(([, f]) => f)),
    read: () => Object.fromEntries(selects.map(([k, , s]) => [k, Number(s.value)])),
  };
}

/** One line per value: the self-assessment, the supervisor's and the peers' mean, as seen. */
function ratingsTable(view) {
  const rows = Object.entries(BERAKHLAK).map(([k, label]) => ({ k, label }));
  const val = (g, k) => (g && g.ratings ? g.ratings[k] : '—');
  return table([
    { title: 'Nilai BerAKHLAK', cell: (r) => r.label },
    { title: 'Diri sendiri', class: 'num', cell: (r) => val(view.self, r.k) },
    { title: 'Atasan', class: 'num', cell: (r) => val(view.supervisor, r.k) },
    { title: 'Rekan (rata-rata)', class: 'num', cell: (r) => (view.peer_mean ? num(view.peer_mean.mean[r.k]) : '—') },
  ], rows, { class: 'ratings' });
}

/** The employee's own self-assessment for `period`, with what they may see of the others'. */
export async function selfAssessment(base, period) {
  const box = h('div', { id: 'self-assessment' });
  if (!period) return card('Penilaian diri (self-assessment)', h('p', { class: 'muted' }, 'Belum ada SKP untuk dinilai.'));
  const path = `${base}/periods/${enc(period)}/ratings`;
  const render = async () => {
    let view;
    try {
      view = await api('GET', path);
    } catch (err) {
      mount(box, errorBox(err, 'Penilaian tidak dapat dibaca'));
      return;
    }
    const form = ratingsForm('self', view.self && view.self.ratings);
    const out = h('div', { id: 'self-out' });
    const save = h('button', { type: 'submit', class: 'primary', id: 'self-save' }, 'Simpan penilaian diri');
    mount(box,
      h('p', { class: 'muted' }, `Periode ${period}. Rekan yang ditugaskan: ${view.peers_assigned_count}; rata-rata rekan tampil setelah semua menilai.`),
      ratingsTable(view),
      h('form', {
        onsubmit: (e) => {
          e.preventDefault();
          busy(save, 'Menyimpan…', async () => {
            try {
              await api('PUT', `${path}/self`, form.read());
              await render();
              mount(document.getElementById('self-out'), okBox('Penilaian diri tersimpan.'));
            } catch (err) {
              mount(out, errorBox(err, 'Penilaian tidak tersimpan'));
            }
          });
        },
      }, form.node, save, out));
  };
  await render();
  return card('Penilaian diri (self-assessment)', box);
}

/** The notes the supervisor wrote to the employee, oldest first. */
function notesList(notes) {
  if (notes.length === 0) return h('p', { class: 'muted' }, 'Belum ada umpan balik.');
  return h('ul', { class: 'notes' }, notes.map((n) => h('li', {},
    h('div', { class: 'muted small' }, `${when(n.at)}${n.author_nip ? ` · atasan ${n.author_nip}` : ''}`),
    h('div', { class: 'note-text' }, n.text),
    n.dialog ? h('div', { class: 'small' }, `Dialog kinerja ${n.dialog.held_on}: ${n.dialog.outcome}`) : null)));
}

/** The employee's feedback notes (umpan balik berkelanjutan). */
export async function feedbackCard(base) {
  const box = h('div', { id: 'feedback' });
  try {
    mount(box, notesList(await all(`${base}/feedback`)));
  } catch (err) {
    mount(box, errorBox(err, 'Umpan balik tidak dapat dibaca'));
  }
  return card('Umpan balik dari atasan (feedback)', box);
}

/** The evidence (bukti dukung) of the member's SKP of `year`, which the supervisor rates by. */
async function evidenceBox(base, nip, year) {
  const box = h('div', { class: 'member-evidence', id: `evidence-${nip}` });
  const path = `${base}/skp/${enc(year)}`;
  try {
    const skp = await api('GET', path);
    mount(box, evidenceTable(path, skp) || h('p', { class: 'muted' }, `Belum ada bukti dukung pada SKP ${year}.`));
  } catch (err) {
    mount(box, err.status === 404 ? h('p', { class: 'muted' }, `Belum ada SKP ${year}.`) : errorBox(err, `SKP ${year}`));
  }
  return box;
}

/** One team member's panel: the supervisor's ratings (beside the evidence of the period's
 * year), peers and a note, for `period`. */
function memberPanel(region, member, period) {
  const base = `/api/v1/regions/${enc(region)}/employees/${enc(member.nip)}`;
  const panel = h('div', { class: 'member-panel', id: `member-${member.nip}` });
  const render = async () => {
    const path = `${base}/periods/${enc(period())}/ratings`;
    let view = null;
    let viewErr = null;
    try {
      view = await api('GET', path);
    } catch (err) {
      viewErr = err;
    }
    const form = ratingsForm(`sup-${member.nip}`, view && view.supervisor && view.supervisor.ratings);
    const out = h('div', { class: 'member-out' });
    const save = h('button', { type: 'submit', class: 'primary', id: `sup-save-${member.nip}` }, 'Simpan nilai atasan');
    const peers = h('input', { id: `peers-${member.nip}`, placeholder: 'NIP rekan, dipisah koma', value: view && view.peers_assigned ? view.peers_assigned.join(', ') : '' });
    const assign = h('button', { type: 'button', id: `peers-save-${member.nip}` }, 'Tugaskan rekan');
    const note = h('textarea', { id: `note-${member.nip}`, rows: 3, maxlength: 4000, placeholder: 'Umpan balik untuk pegawai' });
    const send = h('button', { type: 'button', id: `note-save-${member.nip}` }, 'Kirim umpan balik');
    const notes = h('div', {});
    const year = period().slice(0, 4);
    const evidence = /^\d{4}$/.test(year) ? await evidenceBox(base, member.nip, year) : null;
    try {
      mount(notes, notesList(await all(`${base}/feedback`)));
    } catch (err) {
      mount(notes, errorBox(err));
    }
    const act = (button, fn, done) => busy(button, 'Menyimpan…', async () => {
      try {
        await fn();
        await render();
        const o = panel.querySelector('.member-out');
        if (o) mount(o, okBox(done));
      } catch (err) {
        mount(out, errorBox(err, 'Tidak tersimpan'));
      }
    });
    assign.addEventListener('click', () => act(assign, () => api('PUT', `${base}/periods/${enc(period())}/peers`,
      { raters: peers.value.split(',').map((s) => s.trim()).filter(Boolean) }), 'Rekan penilai ditugaskan.'));
    send.addEventListener('click', () => act(send, () => api('POST', `${base}/feedback`, { text: note.value }), 'Umpan balik terkirim.'));
    mount(panel,
      viewErr ? errorBox(viewErr, `Penilaian ${period()}`) : ratingsTable(view),
      evidence ? [h('h4', {}, `Bukti dukung SKP ${year}`), evidence] : null,
      h('form', {
        onsubmit: (e) => {
          e.preventDefault();
          // The period as it is now, as the other buttons read it.
          act(save, () => api('PUT', `${base}/periods/${enc(period())}/ratings/supervisor`, form.read()), 'Nilai atasan tersimpan.');
        },
      }, form.node, save),
      h('div', { class: 'form-row' }, field('Rekan penilai (1–5 NIP)', peers), assign),
      h('div', { class: 'form-row' }, field('Umpan balik', note), send),
      out, h('h4', {}, 'Umpan balik terkirim'), notes);
  };
  return { panel, render };
}

/** What a report's state reads as, for the employee and the supervisor. */
export function reportState(a) {
  const label = { pending: 'Menunggu persetujuan', approved: 'Disetujui', rejected: 'Ditolak' }[a.state] || a.state;
  return h('span', { class: `state state-${a.state}`, title: a.note || '' },
    a.note ? `${label}: ${a.note}` : label);
}

/** The team's pending daily reports: chosen ones approved at once, or rejected with a note. */
function reviewCard(region, team) {
  const box = h('div', { id: 'review' });
  const out = h('div', { id: 'review-out' });
  const note = h('input', { id: 'review-note', placeholder: 'Alasan penolakan', maxlength: 1000 });
  const approve = h('button', { type: 'button', class: 'primary', id: 'review-approve' }, 'Setujui yang dipilih');
  const reject = h('button', { type: 'button', id: 'review-reject' }, 'Tolak yang dipilih');
  let pending = [];
  const load = async () => {
    const lists = await Promise.all(team.map(async (m) => (await all(
      `/api/v1/regions/${enc(region)}/employees/${enc(m.nip)}/activities?state=pending`, 5000))
      .map((a) => ({ ...a, member: m }))));
    pending = lists.flat().sort((a, b) => (a.date < b.date ? 1 : -1));
    mount(box, table([
      { title: '', cell: (a) => h('input', { type: 'checkbox', id: `rev-${a.id}`, 'data-id': a.id, 'data-nip': a.member.nip, 'aria-label': `Pilih laporan ${a.id}` }) },
      { title: 'Pegawai', cell: (a) => a.member.name },
      { title: 'Tanggal', cell: (a) => a.date },
      { title: 'Uraian kegiatan', cell: (a) => a.description },
      { title: 'Menit', class: 'num', cell: (a) => a.minutes },
    ], pending, { class: 'review', empty: 'Tidak ada laporan yang menunggu.' }));
  };
  const chosen = () => [...box.querySelectorAll('input[type=checkbox]:checked')]
    .map((c) => ({ id: Number(c.dataset.id), nip: c.dataset.nip }));
  const run = (button, fn, done) => busy(button, 'Menyimpan…', async () => {
    const picked = chosen();
    if (picked.length === 0) {
      mount(out, errorBox(new Error('Pilih laporan lebih dulu.')));
      return;
    }
    try {
      await fn(picked);
      await load();
      mount(out, okBox(done(picked.length)));
    } catch (err) {
      mount(out, errorBox(err, 'Tidak tersimpan'));
      await load();
    }
  });
  approve.addEventListener('click', () => run(approve,
    (picked) => api('POST', `/api/v1/regions/${enc(region)}/activities/approve`, { ids: picked.map((p) => p.id) }),
    (n) => `${n} laporan disetujui.`));
  reject.addEventListener('click', () => run(reject, async (picked) => {
    for (const p of picked) {
      await api('POST', `/api/v1/regions/${enc(region)}/employees/${enc(p.nip)}/activities/${p.id}/reject`, { note: note.value });
    }
  }, (n) => `${n} laporan ditolak.`));
  load().catch((err) => mount(box, errorBox(err, 'Laporan tim tidak dapat dibaca')));
  return card('Laporan harian tim (menunggu persetujuan)',
    h('p', { class: 'muted' }, 'Hanya laporan yang disetujui yang dihitung dalam penilaian.'),
    box, h('div', { class: 'form-row' }, approve, field('Alasan', note), reject), out);
}

/** The team's SKP of a year (this one unless chosen) month by month: each member's state and,
 * per month, how many of their indicators have a realization written (✓ when all have), read
 * from each member's SKP. */
function progressCard(region, team, initialYear) {
  const box = h('div', { id: 'team-progress' }, h('p', { class: 'muted' }, 'Memuat… (loading)'));
  const pick = h('input', { id: 'progress-year', type: 'number', min: 2000, max: 2100, value: initialYear });
  const load = async () => {
    const year = pick.value;
    if (!/^\d{4}$/.test(year)) return;
    const rows = await Promise.all(team.map(async (m) => {
      try {
        return { m, skp: await api('GET', `/api/v1/regions/${enc(region)}/employees/${enc(m.nip)}/skp/${enc(year)}`) };
      } catch (err) {
        return err.status === 404 ? { m, skp: null } : { m, err };
      }
    }));
    const month = (r, mo) => {
      if (!r.skp) return null;
      const total = r.skp.plan.rhk.reduce((n, x) => n + x.indicators.length, 0);
      const done = Object.values(r.skp.realizations[mo] || {}).filter((v) => v !== null && v !== undefined).length;
      if (done === 0) return null;
      return h('span', {
        class: done >= total ? 'month-done' : 'month-part',
        dataset: { month: mo, count: String(done) },
        title: `${done} dari ${total} indikator terealisasi`,
      }, done >= total ? '✓' : `${done}/${total}`);
    };
    mount(box, table([
      { title: 'Pegawai', cell: (r) => h('a', { href: `#/r/${enc(region)}/e/${enc(r.m.nip)}/skp/${enc(year)}` }, r.m.name) },
      { title: `SKP ${year}`, cell: (r) => {
        if (r.err) return h('span', { class: 'bad', title: r.err.message }, `Tidak terbaca (${r.err.status})`);
        const state = r.skp ? r.skp.state : 'none';
        return h('span', { class: `state state-${state}`, dataset: { state } }, r.skp ? (SKP_STATE[state] || state) : 'Belum ada SKP');
      } },
      ...MONTHS.map((mo) => ({ title: mo, class: 'm', cell: (r) => month(r, mo) })),
    ], rows, { class: 'progress', rowAttrs: (r) => ({ dataset: { nip: r.m.nip } }) }));
  };
  const reload = () => load().catch((err) => mount(box, errorBox(err, 'Progres SKP tim tidak dapat dibaca')));
  pick.addEventListener('change', reload);
  reload();
  return card('Progres SKP tim (realisasi bulanan)',
    h('p', { class: 'muted' }, 'Per bulan: berapa indikator yang realisasinya sudah diisi; ✓ bila semua.'),
    h('div', { class: 'form-row' }, field('Tahun', pick)), box);
}

/** A supervisor's team: their direct reports, each with a panel to rate and give feedback, and
 * links to their page and their SKP. */
export async function teamCard(region, nip, periods) {
  let team;
  try {
    team = await all(`/api/v1/regions/${enc(region)}/employees/${enc(nip)}/subordinates`);
  } catch (err) {
    return card('Tim saya (bawahan langsung)', errorBox(err, 'Tim tidak dapat dibaca'));
  }
  if (team.length === 0) return null;
  const thisYear = (await regionToday(region)).slice(0, 4);
  const period = h('input', { id: 'team-period', value: periods[0] || String(new Date().getFullYear()), size: 8 });
  const rows = team.map((m) => ({ m, ...memberPanel(region, m, () => period.value.trim()) }));
  const list = h('div', { id: 'team' }, rows.map(({ m, panel, render }) => h('details', {
    class: 'member',
    ontoggle: (e) => { if (e.target.open) render(); },
  }, h('summary', { id: `open-${m.nip}` }, `${m.name} · ${m.nip} · ${m.position_id}`),
    h('p', { class: 'form-row' },
      h('a', { href: `#/r/${enc(region)}/e/${enc(m.nip)}`, id: `page-${m.nip}` }, 'Halaman pegawai'),
      h('a', { href: `#/r/${enc(region)}/e/${enc(m.nip)}/skp/${thisYear}`, id: `skp-${m.nip}` }, `SKP ${thisYear} dan realisasi bulanannya`)),
    panel)));
  return [card('Tim saya (bawahan langsung)',
    h('p', { class: 'muted' }, 'Nilai perilaku kerja bawahan, tugaskan rekan penilai, dan beri umpan balik.'),
    h('div', { class: 'form-row' }, field('Periode', period)), list),
  progressCard(region, team, thisYear), reviewCard(region, team)];
}
