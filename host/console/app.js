// The console's entry: sign-in, the hash router and the page frame. What is shown follows the
// token's role, learnt from GET /api/v1/tokens/self; the server still checks every call.

import { api, token, setToken, enc } from './api.js';
import {
  h, mount, card, field, errorBox, okBox, busy, when, choice, allRegions, rememberRegion,
  ROLE, REGION_LEVEL, REGION_SLUG, TIME_ZONE,
} from './ui.js';
import { adminView } from './admin.js';
import { agencyView } from './agency.js';
import { employeeView } from './employee.js';
import { surveyPage } from './survey.js';
import { skpView } from './skp.js';
import { printSkp, printEvaluation } from './print.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

/** The signed-in token's scope, or null. */
let me = null;

/** The landing page of a scope. */
function home(m) {
  switch (m.role) {
    case 'admin': return '#/';
    case 'region_admin': return `#/r/${enc(m.region)}`;
    case 'agency': return `#/r/${enc(m.region)}/a/${enc(m.agency)}`;
    case 'employee': return `#/r/${enc(m.region)}/e/${enc(m.nip)}`;
    default: return '#/';
  }
}

function renderWho() {
  if (!me) {
    mount(who);
    mount(nav);
    return;
  }
  const scope = [me.region, me.agency, me.nip].filter(Boolean).join(' / ');
  mount(who,
    h('span', { class: `role r-${me.role}`, id: 'role' }, ROLE[me.role] || me.role),
    h('span', { class: 'scope' }, scope || 'semua wilayah (all regions)'),
    me.label ? h('span', { class: 'muted label' }, `“${me.label}”`) : null,
    h('button', { class: 'link', id: 'signout', onclick: signOut }, 'Keluar (sign out)'));
  // An admin's landing page is the list of regions: one link, however many regions there are.
  const links = [me.role === 'admin'
    ? h('a', { href: home(me), id: 'nav-regions' }, 'Wilayah (regions)')
    : h('a', { href: home(me) }, 'Beranda')];
  mount(nav, links);
}

/** Goes to a page: a new hash routes through `hashchange`, the same one is routed again. */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function signOut() {
  // A sign-in session ends on the server too; an integration's token stays valid.
  if (me && me.expires_at) {
    try { await api('DELETE', '/api/v1/sessions/self'); } catch { /* already over */ }
  }
  setToken(null);
  me = null;
  renderWho();
  go('#/signin');
}

/** Checks the token just stored and goes to its landing page, or to the password change. */
async function enter() {
  me = await api('GET', '/api/v1/tokens/self');
  renderWho();
  if (me.must_change_password) return passwordPage();
  go(home(me));
}

/** Where the region an employee signed in to is remembered: the device's, not the tab's, so
 * the next sign-in on it starts filled in. */
const LAST_REGION = 'kinerja.region';

function lastRegion() {
  try { return localStorage.getItem(LAST_REGION) || ''; } catch { return ''; }
}

function rememberLastRegion(id) {
  try { localStorage.setItem(LAST_REGION, id); } catch { /* storage off: typed again next time */ }
}

/** People sign in with NIP and password; integrations and administrators with a token. */
function signInPage(message) {
  // Typed, not chosen: the regions cannot be listed without a token.
  const region = h('input', {
    id: 'signin-region', required: true, pattern: REGION_SLUG, placeholder: 'mis. jambi',
    autocapitalize: 'none', spellcheck: 'false', value: lastRegion(),
    title: 'Kode wilayah: huruf kecil, angka dan tanda hubung (region id)',
  });
  const nip = h('input', { id: 'signin-nip', inputmode: 'numeric', autocomplete: 'username', pattern: '[0-9]{18}', placeholder: '18 digit', required: true });
  const password = h('input', { type: 'password', id: 'signin-password', autocomplete: 'current-password', required: true });
  const personOut = h('div', {});
  if (message) mount(personOut, message);
  const personButton = h('button', { type: 'submit', class: 'primary', id: 'signin-person' }, 'Masuk');
  const person = h('form', {
    class: 'signin',
    onsubmit: async (e) => {
      e.preventDefault();
      await busy(personButton, 'Memeriksa…', async () => {
        try {
          // Under the region's prefix, so a cluster's proxy sends it to the node holding the region.
          const s = await api('POST', `/api/v1/regions/${enc(region.value.trim())}/sessions`, { nip: nip.value.trim(), password: password.value });
          setToken(s.token);
          rememberLastRegion(region.value.trim());
          await enter();
        } catch (err) {
          setToken(null);
          password.value = '';
          mount(personOut, errorBox(err, 'Gagal masuk'));
        }
      });
    },
  },
  field('Wilayah (region)', region, 'Kode wilayah dari instansi Anda, mis. jambi atau kota-pekanbaru.'),
  field('NIP', nip),
  field('Kata sandi (password)', password, 'Pertama kali masuk? Pakai kata sandi awal dari instansi Anda; Anda akan diminta menggantinya.'),
  personButton, personOut);

  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', placeholder: 'knj_…', required: true });
  const out = h('div', {});
  const button = h('button', { type: 'submit', id: 'signin' }, 'Masuk dengan token');
  const form = h('form', {
    class: 'signin',
    onsubmit: async (e) => {
      e.preventDefault();
      setToken(input.value.trim());
      await busy(button, 'Memeriksa…', async () => {
        try {
          await enter();
        } catch (err) {
          setToken(null);
          mount(out, errorBox(err, 'Gagal masuk'));
        }
      });
    },
  },
  field('Token API (API token)', input, 'Token dari admin Anda. Disimpan hanya di tab ini (sessionStorage).'),
  button, out);
  mount(main, h('div', { class: 'signin-pair' },
    card('Masuk sebagai pegawai (sign in)', person,
      h('p', { class: 'muted' }, 'Pegawai dan atasan masuk dengan NIP dan kata sandi; sesi berlaku 12 jam.')),
    card('Admin, instansi dan integrasi', form,
      h('p', { class: 'muted' }, 'Admin, admin wilayah dan instansi masuk dengan token API mereka.'))));
  (region.value ? nip : region).focus();
}

/** A session opened with an initial password: the employee chooses their own first. */
function passwordPage() {
  const old = h('input', { type: 'password', id: 'pw-old', autocomplete: 'current-password', required: true });
  const fresh = h('input', { type: 'password', id: 'pw-new', autocomplete: 'new-password', minlength: 8, maxlength: 128, required: true });
  const again = h('input', { type: 'password', id: 'pw-again', autocomplete: 'new-password', required: true });
  const out = h('div', {});
  const button = h('button', { type: 'submit', class: 'primary', id: 'pw-save' }, 'Simpan kata sandi');
  const form = h('form', {
    class: 'signin',
    onsubmit: async (e) => {
      e.preventDefault();
      if (fresh.value !== again.value) {
        mount(out, h('div', { class: 'error', role: 'alert' }, 'Kata sandi baru dan ulangannya tidak sama.'));
        return;
      }
      await busy(button, 'Menyimpan…', async () => {
        try {
          await api('PUT', '/api/v1/sessions/self/password', { old: old.value, new: fresh.value });
          await enter();
        } catch (err) {
          mount(out, errorBox(err, 'Kata sandi tidak diganti'));
        }
      });
    },
  },
  field('Kata sandi awal (initial password)', old),
  field('Kata sandi baru (new password)', fresh, '8–128 karakter, tidak memuat NIP Anda.'),
  field('Ulangi kata sandi baru', again),
  button, out);
  mount(main, h('div', { class: 'narrow' }, card('Ganti kata sandi awal', form,
    h('p', { class: 'muted' }, 'Kata sandi awal hanya untuk masuk pertama kali. Pilih kata sandi Anda sendiri untuk melanjutkan.'))));
  old.focus();
}

/** One region as a tile: name, id, level and time zone; it opens the region's page. */
function regionTile(r) {
  return h('li', { dataset: { region: r.id } }, h('a', { href: `#/r/${enc(r.id)}`, class: 'tile' },
    h('strong', {}, r.name),
    h('small', {}, h('code', {}, r.id)),
    h('small', {}, `${REGION_LEVEL[r.level] || r.level || '—'} · ${TIME_ZONE[r.time_zone] || r.time_zone}`)));
}

/** Admin's landing page: the regions, as the API lists them, and a form to add one. */
async function regionsPage() {
  const list = h('ul', { class: 'tiles', id: 'regions' }, h('li', { class: 'muted' }, 'Memuat… (loading)'));
  const count = h('span', { class: 'muted', id: 'regions-count' });
  // Hundreds of regions: a filter by name or id finds one without scrolling.
  const filter = h('input', { type: 'search', id: 'region-filter', placeholder: 'Cari nama atau kode wilayah (filter)' });
  let regions = [];
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = regions.filter((r) => !q || r.id.includes(q) || r.name.toLowerCase().includes(q));
    count.textContent = `${shown.length} dari ${regions.length} wilayah`;
    mount(list, shown.length ? shown.map(regionTile) : h('li', { class: 'muted' }, 'Tidak ada wilayah.'));
  };
  filter.addEventListener('input', render);
  const load = async () => {
    try {
      regions = await allRegions();
      render();
    } catch (err) {
      mount(list, h('li', {}, errorBox(err, 'Wilayah tidak terbaca')));
    }
  };
  mount(main,
    card('Wilayah (regions)', filter, count, list),
    card('Tambah wilayah (add a region)', regionForm((id) => regions.some((r) => r.id === id), load)));
  await load();
}

/** The add-region form: PUT /api/v1/regions/{id}. The id is checked by the server, whose
 * answer says what a region id must look like. PUT also replaces a region, so an id already
 * listed (`exists`) is written only once the admin confirms. */
function regionForm(exists, saved) {
  const id = h('input', { id: 'region-id', required: true, placeholder: 'mis. kota-pekanbaru', autocapitalize: 'none', spellcheck: 'false' });
  const name = h('input', { id: 'region-name', required: true, maxlength: 200, placeholder: 'mis. Pemerintah Kota Pekanbaru' });
  const level = choice('region-level', REGION_LEVEL, 'kota');
  const zone = choice('region-zone', TIME_ZONE, 'Asia/Jakarta');
  const out = h('div', { id: 'region-out' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'region-save' }, 'Simpan wilayah (save)');
  return h('form', {
    id: 'region-form',
    onsubmit: async (e) => {
      e.preventDefault();
      await busy(button, 'Menyimpan…', async () => {
        const key = id.value.trim();
        if (exists(key) && !confirm(`Wilayah ${key} sudah ada. Ganti nama, tingkat dan zona waktunya? (replace)`)) return;
        try {
          const r = await api('PUT', `/api/v1/regions/${enc(key)}`, { name: name.value.trim(), level: level.value, time_zone: zone.value });
          rememberRegion(r);
          mount(out, okBox(h('strong', {}, `Wilayah ${r.name} disimpan (saved).`), ' ',
            h('a', { href: `#/r/${enc(r.id)}` }, `Buka ${r.id}`), h('div', { class: 'muted' }, `diperbarui ${when(r.updated_at)}`)));
          id.value = '';
          name.value = '';
          await saved();
        } catch (err) {
          mount(out, errorBox(err, `Wilayah ${key} tidak disimpan`));
        }
      });
    },
  },
  h('div', { class: 'form-row' },
    field('Kode wilayah (id)', id),
    field('Nama (name)', name),
    field('Tingkat (level)', level),
    field('Zona waktu (time zone)', zone)),
  h('p', { class: 'muted small' }, 'Kode wilayah: huruf kecil dan angka, disambung tanda hubung (slug). ',
    'Zona waktu menentukan tanggal “hari ini” wilayah untuk laporan harian (reporting rules).'),
  button, out);
}

/** Parses `#/r/{region}[/a/{agency}|/e/{nip}[/skp/{year}]]` and `#/print/{skp|evaluasi}/{region}/{nip}/{year|period}`. */
function parse(hash) {
  try {
    return hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return []; // a malformed %-escape: the landing page
  }
}

let seq = 0;

async function route() {
  const mine = ++seq;
  // A printed document hides the page frame; any other page shows it again.
  document.body.classList.remove('printing');
  // The public survey needs no sign-in: its code admits one answer. Slips carry
  // `#/survey/{region}/{code}`; `#/survey/{code}` (older slips) is answered through the global route.
  const s = parse(location.hash);
  if (s[0] === 'survey' && s[1]) {
    mount(who);
    mount(nav);
    if (s[2]) surveyPage(main, s[2], s[1]);
    else surveyPage(main, s[1]);
    return;
  }
  if (!token()) {
    me = null;
    renderWho();
    signInPage();
    return;
  }
  if (!me) {
    try {
      me = await api('GET', '/api/v1/tokens/self');
    } catch (err) {
      setToken(null);
      renderWho();
      signInPage(errorBox(err, 'Sesi berakhir'));
      return;
    }
  }
  // Every page but the survey shows who is signed in (the survey page blanks it).
  renderWho();
  if (mine !== seq) return;
  if (me.must_change_password) return passwordPage();
  const p = parse(location.hash);
  if (p[0] === 'signin' || p.length === 0) {
    if (me.role === 'admin') return regionsPage();
    location.replace(home(me));
    return;
  }
  mount(main, h('p', { class: 'muted' }, 'Memuat… (loading)'));
  const ctx = { me, main, isCurrent: () => mine === seq };
  try {
    if (p[0] === 'r' && p[1] && p.length === 2) return await adminView(ctx, p[1]);
    if (p[0] === 'r' && p[2] === 'a' && p[3]) return await agencyView(ctx, p[1], p[3]);
    if (p[0] === 'r' && p[2] === 'e' && p[3] && p[4] === 'skp' && p[5]) return await skpView(ctx, p[1], p[3], p[5]);
    if (p[0] === 'r' && p[2] === 'e' && p[3]) return await employeeView(ctx, p[1], p[3]);
    if (p[0] === 'print' && p[1] === 'skp' && p[4]) return await printSkp(ctx, p[2], p[3], p[4]);
    if (p[0] === 'print' && p[1] === 'evaluasi' && p[4]) return await printEvaluation(ctx, p[2], p[3], p[4]);
    mount(main, card('Halaman tidak ditemukan (page not found)', h('a', { href: home(me) }, 'Kembali ke beranda')));
  } catch (err) {
    if (mine === seq) mount(main, card(null, errorBox(err), h('p', {}, h('a', { href: home(me) }, 'Kembali ke beranda'))));
  }
}

window.addEventListener('hashchange', route);
route();
