// Hand-written SVG charts: a predikat distribution, target-vs-realization bars, behaviour
// ratings and a small meter. No library: a few rectangles and labels are all they need.

import { PREDIKAT, PREDIKAT_ORDER, PREDIKAT_COLOR, BERAKHLAK, num } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function text(x, y, str, attrs = {}) {
  return s('text', { x, y, 'font-size': 12, fill: '#223', ...attrs }, str);
}

/** Counts of each predikat in appraisal results, in the fixed order of the scale. */
export function countPredikat(results) {
  const counts = Object.fromEntries(PREDIKAT_ORDER.map((p) => [p, 0]));
  for (const r of results) if (r.predikat in counts) counts[r.predikat] += 1;
  return counts;
}

/** A column chart of how many employees got each predikat, with counts and shares. */
export function distributionChart(results) {
  const counts = countPredikat(results);
  const total = results.length || 1;
  const W = 520, H = 240, left = 36, bottom = 44, top = 24;
  const max = Math.max(1, ...Object.values(counts));
  const slot = (W - left - 10) / PREDIKAT_ORDER.length;
  const barW = slot * 0.6;
  const plotH = H - top - bottom;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart distribution', role: 'img', 'aria-label': 'Distribusi predikat' },
    s('title', {}, 'Distribusi predikat (predikat distribution)'));
  // Gridlines at quarter steps of the largest count.
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((max * i) / 4);
    const y = top + plotH - (plotH * v) / max;
    svg.appendChild(s('line', { x1: left, x2: W - 10, y1: y, y2: y, stroke: '#e3e7ee' }));
    svg.appendChild(text(left - 6, y + 4, v, { 'text-anchor': 'end', fill: '#778', 'font-size': 10 }));
  }
  PREDIKAT_ORDER.forEach((p, i) => {
    const c = counts[p];
    const bh = (plotH * c) / max;
    const x = left + i * slot + (slot - barW) / 2;
    const y = top + plotH - bh;
    svg.appendChild(s('rect', { x, y, width: barW, height: Math.max(bh, c ? 1 : 0), fill: PREDIKAT_COLOR[p], rx: 3, 'data-predikat': p, 'data-count': c },
      s('title', {}, `${PREDIKAT[p]}: ${c}`)));
    svg.appendChild(text(x + barW / 2, y - 6, `${c} (${Math.round((100 * c) / total)}%)`, { 'text-anchor': 'middle', 'font-weight': 600 }));
    const words = PREDIKAT[p].split(' ');
    words.forEach((w, k) => svg.appendChild(text(x + barW / 2, H - bottom + 16 + k * 13, w, { 'text-anchor': 'middle', 'font-size': 11 })));
  });
  svg.appendChild(s('line', { x1: left, x2: W - 10, y1: top + plotH, y2: top + plotH, stroke: '#99a' }));
  return svg;
}

/**
 * Capaian of an indicator in percent, by the rule every region plugin applies
 * (docs/region-policies.md): 100 × R/T where higher is better, 100 × (2 − R/T) where lower is
 * better, clamped to 0–120; an unreported realization counts 0. So the bar shows what the
 * appraisal used: an unreported lower-is-better indicator is 0, not a full bar.
 */
export function capaian(ind) {
  const t = Number(ind.target);
  if (!(t > 0)) return 0;
  if (ind.realization === null || ind.realization === undefined) return 0;
  const q = Number(ind.realization) / t;
  const c = ind.direction === 'lower_is_better' ? 100 * (2 - q) : 100 * q;
  return Math.min(120, Math.max(0, c));
}

/**
 * One row per indicator: the target as a grey track, the realization as a coloured bar, and
 * the capaian (see `capaian`) in percent, coloured by it.
 */
export function indicatorChart(indicators) {
  const rowH = 46, W = 680, labelW = 210, barX = labelW + 10, barMax = W - barX - 150;
  const H = Math.max(1, indicators.length) * rowH + 10;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart indicators', role: 'img', 'aria-label': 'Target dan realisasi' },
    s('title', {}, 'Target vs realisasi (target vs realization)'));
  indicators.forEach((ind, i) => {
    const y = 8 + i * rowH;
    const t = Number(ind.target) || 0, r = Number(ind.realization) || 0;
    const scale = Math.max(t, r, 1e-9);
    const lower = ind.direction === 'lower_is_better';
    const pct = capaian(ind);
    const color = pct >= 100 ? '#1e7b34' : pct >= 80 ? '#d19a00' : '#c62828';
    svg.appendChild(text(0, y + 14, ind.name || ind.id, { 'font-weight': 600 }));
    svg.appendChild(text(0, y + 30, `${ind.kind || ''} · ${ind.unit || ''}${lower ? ' · makin kecil makin baik' : ''}`, { fill: '#667', 'font-size': 10 }));
    svg.appendChild(s('rect', { x: barX, y: y + 4, width: (barMax * t) / scale, height: 12, fill: '#d5dbe5', rx: 2 }, s('title', {}, `Target ${num(t)}`)));
    svg.appendChild(s('rect', { x: barX, y: y + 20, width: Math.max(1, (barMax * r) / scale), height: 12, fill: color, rx: 2, class: 'realization' }, s('title', {}, `Realisasi ${num(r)}`)));
    svg.appendChild(text(barX + barMax + 8, y + 14, `target ${num(t)}`, { fill: '#667', 'font-size': 11 }));
    svg.appendChild(text(barX + barMax + 8, y + 30, `real. ${ind.realization === null || ind.realization === undefined ? '—' : num(r)} · ${num(pct, 1)}%`, { fill: color, 'font-size': 11, 'font-weight': 600, class: 'capaian', 'data-capaian': String(pct) }));
  });
  return svg;
}

/** BerAKHLAK ratings (1–5): the supervisor's and the employee's own, side by side. */
export function behaviourChart(behavior) {
  const sup = (behavior && behavior.supervisor) || {};
  const self = (behavior && behavior.self) || {};
  const keys = Object.keys(BERAKHLAK).filter((k) => k in sup || k in self);
  const extra = [...new Set([...Object.keys(sup), ...Object.keys(self)])].filter((k) => !keys.includes(k));
  const all = [...keys, ...extra];
  const rowH = 30, W = 640, labelW = 190, barMax = W - labelW - 60;
  const H = all.length * rowH + 30;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart behaviour', role: 'img', 'aria-label': 'Perilaku kerja' },
    s('title', {}, 'Perilaku kerja BerAKHLAK (behaviour ratings)'));
  svg.appendChild(s('rect', { x: labelW, y: 2, width: 10, height: 10, fill: '#1d4e89' }));
  svg.appendChild(text(labelW + 14, 11, 'Atasan (supervisor)', { 'font-size': 11 }));
  svg.appendChild(s('rect', { x: labelW + 150, y: 2, width: 10, height: 10, fill: '#8fb3de' }));
  svg.appendChild(text(labelW + 164, 11, 'Diri sendiri (self)', { 'font-size': 11 }));
  all.forEach((k, i) => {
    const y = 22 + i * rowH;
    svg.appendChild(text(0, y + 14, BERAKHLAK[k] || k));
    const a = sup[k], b = self[k];
    if (a !== undefined) {
      svg.appendChild(s('rect', { x: labelW, y: y + 2, width: (barMax * a) / 5, height: 10, fill: '#1d4e89', rx: 2 }, s('title', {}, `Atasan: ${a}`)));
      svg.appendChild(text(labelW + (barMax * a) / 5 + 4, y + 11, a, { 'font-size': 10 }));
    }
    if (b !== undefined) {
      svg.appendChild(s('rect', { x: labelW, y: y + 14, width: (barMax * b) / 5, height: 10, fill: '#8fb3de', rx: 2 }, s('title', {}, `Diri sendiri: ${b}`)));
      svg.appendChild(text(labelW + (barMax * b) / 5 + 4, y + 23, b, { 'font-size': 10 }));
    }
  });
  return svg;
}

/** A 0–100 meter, e.g. job-person match. */
export function meter(value) {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  const color = v >= 90 ? '#1e7b34' : v >= 78 ? '#4a9d2f' : v >= 68 ? '#d19a00' : '#c62828';
  return s('svg', { viewBox: '0 0 100 10', width: 90, height: 9, class: 'meter', role: 'img', 'aria-label': `${num(v, 1)}%` },
    s('rect', { x: 0, y: 0, width: 100, height: 10, fill: '#e3e7ee', rx: 2 }),
    s('rect', { x: 0, y: 0, width: v, height: 10, fill: color, rx: 2 }));
}

/** One horizontal bar of predikat counts stacked in the order of the scale (e.g. an agency). */
export function predikatBar(counts, label) {
  const c = counts || {};
  const keys = [...PREDIKAT_ORDER, ...Object.keys(c).filter((k) => !PREDIKAT_ORDER.includes(k))];
  const total = keys.reduce((t, k) => t + (Number(c[k]) || 0), 0);
  const words = keys.filter((k) => c[k]).map((k) => `${PREDIKAT[k] || k} ${c[k]}`).join(', ') || 'kosong';
  const svg = s('svg', { viewBox: '0 0 100 10', width: 120, height: 10, class: 'meter stack', role: 'img', 'aria-label': `${label}: ${words}` },
    s('title', {}, `${label}: ${words}`),
    s('rect', { x: 0, y: 0, width: 100, height: 10, fill: '#e3e7ee', rx: 2 }));
  let x = 0;
  for (const k of keys) {
    const n = Number(c[k]) || 0;
    if (!n || !total) continue;
    const w = (100 * n) / total;
    svg.appendChild(s('rect', { x, y: 0, width: w, height: 10, fill: PREDIKAT_COLOR[k] || '#98a2b3', 'data-predikat': k, 'data-count': n }));
    x += w;
  }
  return svg;
}
