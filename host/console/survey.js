// The public survey page (Survei Kepuasan Masyarakat, PermenPANRB 14/2017), reached by the
// link on a respondent's slip: `#/survey/{region}/{code}` (or `#/survey/{code}` on older slips).
// No sign-in; the code itself admits one answer.

import { api, enc } from './api.js';
import { h, mount, card, field, errorBox, okBox, busy } from './ui.js';

const ELEMENTS = [
  'Persyaratan',
  'Sistem, mekanisme, dan prosedur',
  'Waktu penyelesaian',
  'Biaya/tarif',
  'Produk spesifikasi jenis pelayanan',
  'Kompetensi pelaksana',
  'Perilaku pelaksana',
  'Penanganan pengaduan, saran dan masukan',
  'Sarana dan prasarana',
];
const SCORES = [[4, 'Sangat baik'], [3, 'Baik'], [2, 'Kurang baik'], [1, 'Tidak baik']];

/** `region` absent: an older slip's link, answered through the route that looks the code up. */
export function surveyPage(main, code, region) {
  // Under the region's prefix a cluster's proxy sends the answer to the node holding the region.
  const path = region ? `/api/v1/regions/${enc(region)}/surveys/${enc(code)}` : `/api/v1/surveys/${enc(code)}`;
  const selects = ELEMENTS.map((label, i) => {
    const sel = h('select', { id: `survey-${i}`, required: true },
      h('option', { value: '' }, '— pilih —'),
      SCORES.map(([v, words]) => h('option', { value: v }, `${v} · ${words}`)));
    return [field(`${i + 1}. ${label}`, sel), sel];
  });
  const out = h('div', { id: 'survey-out' });
  const send = h('button', { type: 'submit', class: 'primary', id: 'survey-send' }, 'Kirim jawaban');
  const form = h('form', {
    class: 'signin',
    id: 'survey-form',
    onsubmit: async (e) => {
      e.preventDefault();
      let done = false;
      await busy(send, 'Mengirim…', async () => {
        try {
          await api('POST', path, { elements: selects.map(([, s]) => Number(s.value)) });
          mount(out, okBox('Terima kasih. Jawaban Anda tercatat; kode ini sudah terpakai.'));
          done = true;
        } catch (err) {
          mount(out, errorBox(err, 'Jawaban tidak terkirim'));
        }
      });
      // After `busy` gives the button back: a code admits one answer.
      if (done) form.querySelectorAll('select, button').forEach((el) => { el.disabled = true; });
    },
  }, selects.map(([f]) => f), send, out);
  mount(main, h('div', { class: 'narrow' }, card('Survei Kepuasan Masyarakat',
    h('p', { class: 'muted' }, `Kode survei ${code}. Nilailah pelayanan yang baru Anda terima; setiap kode hanya dapat dipakai sekali, tanpa nama.`),
    form)));
}
