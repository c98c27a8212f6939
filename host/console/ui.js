// Small DOM helpers shared by the views: an element builder, badges, number and date formats,
// error messages in words, and the regions' names (read from the API, which holds them).

import { api, all, token, enc } from './api.js';

/** h('div', {class: 'x', onclick: fn}, child, 'text', [more]) → an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const PREDIKAT = {
  sangat_baik: 'Sangat Baik',
  baik: 'Baik',
  butuh_perbaikan: 'Butuh Perbaikan',
  kurang: 'Kurang',
  sangat_kurang: 'Sangat Kurang',
};
export const PREDIKAT_ORDER = Object.keys(PREDIKAT);
export const PREDIKAT_COLOR = {
  sangat_baik: '#1e7b34',
  baik: '#4a9d2f',
  butuh_perbaikan: '#d19a00',
  kurang: '#e0661b',
  sangat_kurang: '#c62828',
};

export function badge(predikat) {
  const label = PREDIKAT[predikat] || predikat || '—';
  return h('span', { class: `badge p-${predikat || 'none'}`, title: predikat || '' }, label);
}

/** di_atas / sesuai / di_bawah → words. */
/** An SKP's state in words. */
export const SKP_STATE = {
  draft: 'Draf', submitted: 'Diajukan', approved: 'Disetujui', returned: 'Dikembalikan', locked: 'Terkunci',
};

/** Today as `YYYY-MM-DD` in the time zone `zone` (WIB when none is known). */
export function todayIn(zone) {
  return new Date().toLocaleDateString('sv-SE', { timeZone: zone || 'Asia/Jakarta' });
}

/** Today in the region's own time zone, the date the server judges its reports and months by
 * (its record read once per token; WIB when it cannot be read). */
export async function regionToday(region) {
  try {
    return todayIn((await readRegion(region)).time_zone);
  } catch {
    return todayIn(null);
  }
}

export const LEVEL = { di_atas: 'Di atas ekspektasi', sesuai: 'Sesuai ekspektasi', di_bawah: 'Di bawah ekspektasi' };
export function level(v) {
  return h('span', { class: `lvl l-${v || 'none'}` }, LEVEL[v] || v || '—');
}

export const BERAKHLAK = {
  berorientasi_pelayanan: 'Berorientasi Pelayanan',
  akuntabel: 'Akuntabel',
  kompeten: 'Kompeten',
  harmonis: 'Harmonis',
  loyal: 'Loyal',
  adaptif: 'Adaptif',
  kolaboratif: 'Kolaboratif',
};

export const RECOMMENDATION = {
  coaching: 'Pembinaan',
  dialog: 'Dialog kinerja',
  training: 'Pelatihan',
  promotion: 'Promosi',
  reward: 'Penghargaan',
  mentoring: 'Mentoring',
  counseling: 'Konseling',
};

export function recommendations(list) {
  if (!Array.isArray(list) || list.length === 0) return '—';
  return list.map((r) => {
    const kind = typeof r === 'string' ? r : r.kind;
    const detail = typeof r === 'object' ? Object.entries(r).filter(([k]) => k !== 'kind').map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ') : '';
    // The subject (what to train) is on the chip itself, not only in the tooltip.
    const subject = typeof r === 'object' && r.subject ? (BERAKHLAK[r.subject] || String(r.subject).replace(/_/g, ' ')) : '';
    const label = (RECOMMENDATION[kind] || kind) + (subject ? `: ${subject}` : '');
    return h('span', { class: `chip rec-${kind}`, title: detail || kind }, label);
  });
}

export function num(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return Number(v).toLocaleString('id-ID', { maximumFractionDigits: digits });
}

export function bytes(n) {
  if (n >= 1048576) return `${num(n / 1048576, 1)} MB`;
  if (n >= 1024) return `${num(n / 1024, 1)} KB`;
  return `${n} B`;
}

/** An RFC 3339 time as a local date and time. */
export function when(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  return d.toLocaleString('id-ID', { dateStyle: 'medium', timeStyle: 'short' });
}

export function shortId(id) {
  return id ? `${id.slice(0, 12)}…` : '—';
}

const STATUS_WORDS = {
  0: 'Tidak tersambung (offline)',
  400: 'Masukan tidak valid (bad request)',
  401: 'Token tidak dikenal atau dicabut (unauthorized)',
  403: 'Akses ditolak (forbidden)',
  404: 'Tidak ditemukan (not found)',
  408: 'Waktu habis (timeout)',
  409: 'Konflik (conflict)',
  413: 'Terlalu besar (too large)',
  422: 'Ditolak oleh plugin atau runtime (refused)',
  503: 'Server sibuk, coba lagi (busy)',
};

/** An API failure as a sentence box. */
export function errorBox(err, what) {
  const status = err && err.status !== undefined ? err.status : 0;
  const title = STATUS_WORDS[status] || `Kesalahan ${status}`;
  return h('div', { class: 'error', role: 'alert', dataset: { status: String(status) } },
    h('strong', {}, what ? `${what}: ${title}` : title),
    h('div', {}, err && err.message ? err.message : String(err)),
    err && err.code ? h('code', {}, err.code) : null);
}

export function okBox(...children) {
  return h('div', { class: 'ok', role: 'status' }, ...children);
}

/** A card with a heading. */
export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

/** A labelled form field. */
export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}

/** A table from column definitions [{title, cell: row => node}] and rows (opts.caption: its caption). */
export function table(columns, rows, opts = {}) {
  return h('table', { class: 'grid ' + (opts.class || '') },
    opts.caption ? h('caption', {}, opts.caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.class, scope: 'col' }, c.title)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, opts.empty || 'Tidak ada data.'))
      : rows.map((r) => {
        const tr = h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {}, columns.map((c) => h('td', { class: c.class }, c.cell(r))));
        return opts.after ? [tr, opts.after(r, tr)] : tr;
      })));
}

/** Runs an async action with the button disabled and a busy label. */
export async function busy(button, label, fn) {
  const old = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.textContent = old;
  }
}

export function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export const ROLE = {
  admin: 'Admin',
  region_admin: 'Admin wilayah (region admin)',
  agency: 'Instansi (agency)',
  employee: 'Pegawai (employee)',
};

/** A region's level of government in words. */
export const REGION_LEVEL = { provinsi: 'Provinsi', kabupaten: 'Kabupaten', kota: 'Kota', kecamatan: 'Kecamatan' };

/** Indonesia's three time zones, as the server names them. */
export const TIME_ZONE = {
  'Asia/Jakarta': 'WIB (Asia/Jakarta)',
  'Asia/Makassar': 'WITA (Asia/Makassar)',
  'Asia/Jayapura': 'WIT (Asia/Jayapura)',
};

/** A region id as the server accepts it (the HTML `pattern` of the sign-in's region). */
export const REGION_SLUG = '[a-z][a-z0-9]*(-[a-z0-9]+)*';

/** A select of `words` ({value: label}) with `value` chosen; a value it lacks (a region's
 * level an earlier version left null) shows an empty choice the form cannot be sent with. */
export function choice(id, words, value) {
  const known = value !== undefined && value !== null && value in words;
  return h('select', { id, required: true },
    known ? null : h('option', { value: '' }, '— pilih (choose) —'),
    Object.entries(words).map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

// Regions are records: their names come from the API, read once per token and kept, since a
// page may name the same region many times. A token sees only the regions it may read, so the
// cache is dropped when the token changes (sign-out, another sign-in in the tab).
let cachedFor = null;
let cached = new Map();

function regionCache() {
  const t = token();
  if (t !== cachedFor) {
    cachedFor = t;
    cached = new Map();
  }
  return cached;
}

/** The region `{id, name, level, time_zone, …}` (GET /api/v1/regions/{id}, once); fails as the API does. */
export function readRegion(id) {
  const c = regionCache();
  if (!c.has(id)) {
    const p = api('GET', `/api/v1/regions/${enc(id)}`);
    // A failure is not kept: the next page asks again.
    p.catch(() => { if (c.get(id) === p) c.delete(id); });
    c.set(id, p);
  }
  return c.get(id);
}

/** The region's name, or its id when it cannot be read (a printed page still names a place). */
export async function regionName(id) {
  try {
    return (await readRegion(id)).name;
  } catch {
    return id;
  }
}

/** Keeps a region just written, so the pages show its new name without asking again. */
export function rememberRegion(r) {
  regionCache().set(r.id, Promise.resolve(r));
}

/** Every region the token may read, by id: all of them for an admin (every page of the list,
 * not `all`'s usual cap, since this list is the admin's way to each region). */
export async function allRegions() {
  const items = await all('/api/v1/regions', Infinity);
  for (const r of items) rememberRegion(r);
  return items;
}
