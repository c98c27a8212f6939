// Kecamatan Tenayan Raya's `appraise` hook in JavaScript, ABI 1.
//
// Plain ECMAScript, no imports. The QuickJS host (quickjs_host.c, compiled into the same .wasm)
// parses stdin as JSON, calls the global function `appraise(request)`, and writes what it returns
// to stdout with JSON.stringify. A thrown Error becomes the refusal {"error": {"message": …}};
// console.log / console.error write to stderr, the plugin's log.
// Formulas: docs/region-policies.md, "Shared definitions" and "Tenayan Raya".
"use strict";

const VALUES = ["berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif"];

// ---- shared rules (region-policies.md, "Shared definitions") --------------------------------

/** Half away from zero (Math.round rounds half up: Math.round(-2.5) is -2). */
function roundHalfAway(x) {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** x rounded to 9 decimals: every threshold is compared on this value. */
function round9(x) {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e9) return x;
  return roundHalfAway(x * 1e9) / 1e9;
}
const ge9 = (a, b) => round9(a) >= round9(b);
const lt9 = (a, b) => round9(a) < round9(b);

/** Reported numbers: 2 decimals, half away from zero, decided on the 9-decimal value in whole
 *  billionths (1.005 is 1.00499999… in binary and would otherwise round down). Billionths of any
 *  score stay far below 2^53, so the integer arithmetic below is exact. */
function round2(x) {
  if (!Number.isFinite(x)) return x;
  const nanos = roundHalfAway(x * 1e9);
  if (Math.abs(nanos) >= Number.MAX_SAFE_INTEGER) return roundHalfAway(x * 100) / 100;
  const hundredths = Math.floor((Math.abs(nanos) + 5e6) / 1e7);
  return (nanos < 0 ? -hundredths : hundredths) / 100;
}

const fmt2 = (x) => round2(x).toFixed(2);

/** The PermenPANRB 6/2022 matrix. */
function matrix(hk, pk) {
  if (hk === "di_atas") return pk === "di_atas" ? "sangat_baik" : pk === "sesuai" ? "baik" : "kurang";
  if (hk === "sesuai") return pk === "di_bawah" ? "kurang" : "baik";
  return pk === "di_bawah" ? "sangat_kurang" : "butuh_perbaikan";
}

/** An optional block: absent, null and empty ({} or []) all mean absent. */
function present(v) {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.length ? v : null;
  if (typeof v === "object" && Object.keys(v).length === 0) return null;
  return v;
}

/** A rater's seven ratings, checked to be integers 1–5. */
function ratings(rater, who) {
  if (rater === null || typeof rater !== "object") throw new Error(`${who}: expected an object of seven ratings`);
  return VALUES.map((v) => {
    const r = rater[v];
    if (typeof r !== "number") throw new Error(`${who}: missing rating ${v}`);
    if (!Number.isInteger(r) || r < 1 || r > 5) throw new Error(`${who}: ${v} is rated ${r}; ratings must be integers from 1 to 5`);
    return r;
  });
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---- Tenayan Raya ---------------------------------------------------------------------------

function appraiseCase(c) {
  const nip = c.employee && c.employee.nip;
  if (typeof nip !== "string") throw new Error("employee.nip: expected a string");
  if (!(c.period && c.period.working_days >= 1)) throw new Error("period.working_days must be at least 1");

  // HK = C: weighted mean of capaian, weights default 1, no indicators → 0.
  const indicators = present(c.indicators) || [];
  let weighted = 0, totalWeight = 0;
  indicators.forEach((ind, k) => {
    if (!(typeof ind.target === "number" && ind.target > 0)) throw new Error(`indicators[${k}]: target must be > 0`);
    if (ind.direction !== "higher_is_better" && ind.direction !== "lower_is_better")
      throw new Error(`indicators[${k}]: unknown direction ${ind.direction}`);
    const weight = ind.weight === undefined || ind.weight === null ? 1 : ind.weight;
    if (!(typeof weight === "number" && weight >= 0)) throw new Error(`indicators[${k}]: weight must be >= 0`);
    let capaian = 0; // a null realization counts 0
    if (ind.realization !== undefined && ind.realization !== null) {
      if (typeof ind.realization !== "number") throw new Error(`indicators[${k}]: realization must be a number`);
      const ratio = ind.realization / ind.target;
      capaian = Math.min(120, Math.max(0, ind.direction === "lower_is_better" ? 100 * (2 - ratio) : 100 * ratio));
    }
    weighted += capaian * weight;
    totalWeight += weight;
  });
  if (indicators.length > 0 && !(totalWeight > 0)) throw new Error("indicators: the weights add up to 0");
  const hk = indicators.length > 0 ? weighted / totalWeight : 0;
  const hasil = ge9(hk, 110) ? "di_atas" : ge9(hk, 90) ? "sesuai" : "di_bawah";

  // Behaviour 360°: S supervisor (0.5), R peers (0.3), U public (0.2), renormalised.
  const behavior = c.behavior || {};
  const sup = ratings(behavior.supervisor, "behavior.supervisor");
  const parts = [{ name: "supervisor", value: mean(sup), weight: 0.5 }];
  const peers = present(behavior.peers);
  if (peers) {
    parts.push({ name: "peers", value: mean(peers.map((p, i) => mean(ratings(p, `behavior.peers[${i}]`)))), weight: 0.3 });
  }
  if (present(behavior.self)) ratings(behavior.self, "behavior.self");
  let ikm = null; // a survey nobody answered is ignored
  const pf = present(c.public_feedback);
  if (pf) {
    if (!(typeof pf.respondents === "number" && pf.respondents >= 0)) throw new Error("public_feedback.respondents: expected a count");
    if (pf.respondents > 0) {
      if (!(typeof pf.ikm === "number" && pf.ikm >= 1 && pf.ikm <= 4)) throw new Error(`public_feedback.ikm must be within 1–4, got ${pf.ikm}`);
      ikm = pf.ikm;
      parts.push({ name: "public", value: 1 + ((ikm - 1) * 4) / 3, weight: 0.2 });
    }
  }
  // Sums in the same order as the reference (supervisor, peers, public) for identical rounding.
  let wsum = 0, bsum = 0;
  for (const p of parts) wsum += p.weight;
  for (const p of parts) bsum += p.value * p.weight;
  const b = bsum / wsum;

  const ratedOne = sup.includes(1);
  const perilaku = lt9(b, 3.0) || ratedOne ? "di_bawah" : ge9(b, 4.25) ? "di_atas" : "sesuai";
  const predikat = matrix(hasil, perilaku);
  const raw = 0.6 * hk + 0.4 * (20 * b);
  if (!Number.isFinite(raw)) throw new Error("score is not a finite number: some input is out of range");
  const score = round2(raw);
  const poorService = ikm !== null && lt9(ikm * 25, 76.61);

  // Recommendations in the policy order (none can repeat in this region).
  const recommendations = [];
  if (predikat === "sangat_baik") recommendations.push({ kind: "reward" });
  if (predikat === "butuh_perbaikan" || predikat === "kurang" || predikat === "sangat_kurang") recommendations.push({ kind: "coaching" });
  if (poorService) recommendations.push({ kind: "training", subject: "pelayanan_prima" });
  sup.forEach((r, i) => { if (r <= 2) recommendations.push({ kind: "training", subject: VALUES[i] }); });

  const hkWhy = hasil === "di_atas" ? "≥ 110" : hasil === "sesuai" ? "≥ 90" : "< 90";
  const bHow = parts.map((p) => `${p.name} ${fmt2(p.value)} (weight ${fmt2(p.weight / wsum)})`).join(", ");
  let explanation = `HK ${fmt2(hk)} ${hkWhy} → ${hasil}; B from ${bHow} = ${fmt2(b)} → ${perilaku}` +
    `${ratedOne ? " (a value rated 1)" : ""}; matrix (${hasil}, ${perilaku}) → ${predikat}; ` +
    `score = 0.6 HK + 0.4 × 20 B = ${fmt2(score)}`;
  if (ikm !== null) {
    explanation += `; IKM ${ikm} × 25 = ${fmt2(ikm * 25)}` + (poorService ? " < 76.61 (grade C/D) → pelayanan_prima training" : "");
  }

  return {
    nip,
    hasil_kerja: hasil,
    perilaku_kerja: perilaku,
    predikat,
    score,
    components: [
      { name: "capaian", value: hk },
      ...parts.map((p) => ({ name: p.name, value: p.value, weight: p.weight / wsum })),
      { name: "behavior", value: b },
    ],
    recommendations,
    explanation,
  };
}

/** The hook: called by the host with the parsed request; returns the response document. */
function appraise(request) {
  if (request.abi !== 1) throw new Error(`unsupported abi ${request.abi}: this plugin speaks ABI 1`);
  if (request.hook !== "appraise") throw new Error(`request is for hook ${request.hook}, not appraise`);
  if (!Array.isArray(request.cases)) throw new Error("invalid request: cases must be an array");
  return {
    results: request.cases.map((c, i) => {
      try {
        return appraiseCase(c);
      } catch (e) {
        throw new Error(`cases[${i}] (nip ${c && c.employee ? c.employee.nip : "?"}): ${e.message}`);
      }
    }),
  };
}
