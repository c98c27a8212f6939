// Kecamatan Tenayan Raya's `appraise` hook in JavaScript, plugin ABI 2 (world `appraiser` of
// schemas/wit/policy.wit), built into a WebAssembly component by ComponentizeJS (build.sh).
//
// The same policy as ../javascript/tenayan_raya_appraise.js (ABI 1), reading the request as the
// typed records ComponentizeJS passes in, not as JSON. Its conventions (jco/ComponentizeJS 0.23):
// - the export `kinerja:policy/appraise` is the object `appraise` below, with a method `appraise`;
// - a record is a plain object with camelCase fields (`working-days` → `workingDays`,
//   `self-assessment` → `selfAssessment`, `berorientasi-pelayanan` → `berorientasiPelayanan`);
// - an enum is its WIT name as a string, kebab-case: "higher-is-better", "di-atas", "sangat-baik";
// - an option<T> is the value or `undefined` (return `undefined`, or leave the field out, for none);
//   the checks below use `== null`, which also accepts the `null` of componentize-qjs;
// - u8/u32/f64 are numbers, u64 is a BigInt (`public-feedback.respondents`), a tuple an array;
// - result<T, string>: return T for `ok`; throw a *string* for `err`, the refusal message. A thrown
//   Error object is not an `err`: ComponentizeJS rethrows it and the call traps (a failure).
// Formulas: docs/region-policies.md, "Shared definitions" and "Tenayan Raya".
"use strict";

/** The seven BerAKHLAK values: the record's field (camelCase) and the contract's name. */
const VALUES = [
  ["berorientasiPelayanan", "berorientasi_pelayanan"],
  ["akuntabel", "akuntabel"],
  ["kompeten", "kompeten"],
  ["harmonis", "harmonis"],
  ["loyal", "loyal"],
  ["adaptif", "adaptif"],
  ["kolaboratif", "kolaboratif"],
];

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

/** The PermenPANRB 6/2022 matrix (WIT enum strings). */
function matrix(hk, pk) {
  if (hk === "di-atas") return pk === "di-atas" ? "sangat-baik" : pk === "sesuai" ? "baik" : "kurang";
  if (hk === "sesuai") return pk === "di-bawah" ? "kurang" : "baik";
  return pk === "di-bawah" ? "sangat-kurang" : "butuh-perbaikan";
}

/** An enum value as the contract writes it in texts: "di-atas" → "di_atas". */
const snake = (e) => e.replace(/-/g, "_");

/** An optional list: none and empty both mean absent. */
const present = (v) => (v == null || v.length === 0 ? null : v);

/** A rater's seven ratings (u8 by type), checked to be 1–5. */
function ratings(rater, who) {
  return VALUES.map(([field, name]) => {
    const r = rater[field];
    if (r < 1 || r > 5) throw new Error(`${who}: ${name} is rated ${r}; ratings must be integers from 1 to 5`);
    return r;
  });
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---- Tenayan Raya ---------------------------------------------------------------------------

function appraiseCase(c) {
  const nip = c.employee.nip;
  if (!(c.period.workingDays >= 1)) throw new Error("period.working_days must be at least 1");

  // HK = C: weighted mean of capaian, weights default 1, no indicators → 0.
  const indicators = c.indicators;
  let weighted = 0, totalWeight = 0;
  indicators.forEach((ind, k) => {
    if (!(ind.target > 0)) throw new Error(`indicators[${k}]: target must be > 0`);
    const weight = ind.weight == null ? 1 : ind.weight;
    if (!(weight >= 0)) throw new Error(`indicators[${k}]: weight must be >= 0`);
    let capaian = 0; // an unreported realization counts 0
    if (ind.realization != null) {
      const ratio = ind.realization / ind.target;
      capaian = Math.min(120, Math.max(0, ind.direction === "lower-is-better" ? 100 * (2 - ratio) : 100 * ratio));
    }
    weighted += capaian * weight;
    totalWeight += weight;
  });
  if (indicators.length > 0 && !(totalWeight > 0)) throw new Error("indicators: the weights add up to 0");
  const hk = indicators.length > 0 ? weighted / totalWeight : 0;
  const hasil = ge9(hk, 110) ? "di-atas" : ge9(hk, 90) ? "sesuai" : "di-bawah";

  // Behaviour 360°: S supervisor (0.5), R peers (0.3), U public (0.2), renormalised.
  const behavior = c.behavior;
  const sup = ratings(behavior.supervisor, "behavior.supervisor");
  const parts = [{ name: "supervisor", value: mean(sup), weight: 0.5 }];
  const peers = present(behavior.peers);
  if (peers) {
    parts.push({ name: "peers", value: mean(peers.map((p, i) => mean(ratings(p, `behavior.peers[${i}]`)))), weight: 0.3 });
  }
  if (behavior.selfAssessment != null) ratings(behavior.selfAssessment, "behavior.self");
  let ikm = null; // a survey nobody answered is ignored
  const pf = c.publicFeedback;
  if (pf != null && pf.respondents > 0n) {
    if (!(pf.ikm >= 1 && pf.ikm <= 4)) throw new Error(`public_feedback.ikm must be within 1–4, got ${pf.ikm}`);
    ikm = pf.ikm;
    parts.push({ name: "public", value: 1 + ((ikm - 1) * 4) / 3, weight: 0.2 });
  }
  // Sums in the same order as the reference (supervisor, peers, public) for identical rounding.
  let wsum = 0, bsum = 0;
  for (const p of parts) wsum += p.weight;
  for (const p of parts) bsum += p.value * p.weight;
  const b = bsum / wsum;

  const ratedOne = sup.includes(1);
  const perilaku = lt9(b, 3.0) || ratedOne ? "di-bawah" : ge9(b, 4.25) ? "di-atas" : "sesuai";
  const predikat = matrix(hasil, perilaku);
  const raw = 0.6 * hk + 0.4 * (20 * b);
  if (!Number.isFinite(raw)) throw new Error("score is not a finite number: some input is out of range");
  const score = round2(raw);
  const poorService = ikm !== null && lt9(ikm * 25, 76.61);

  // Recommendations in the policy order (none can repeat in this region).
  const recommendations = [];
  if (predikat === "sangat-baik") recommendations.push({ kind: "reward" });
  if (predikat === "butuh-perbaikan" || predikat === "kurang" || predikat === "sangat-kurang") recommendations.push({ kind: "coaching" });
  if (poorService) recommendations.push({ kind: "training", subject: "pelayanan_prima" });
  sup.forEach((r, i) => { if (r <= 2) recommendations.push({ kind: "training", subject: VALUES[i][1] }); });

  // The explanation names the ratings as ABI 1 does (di_atas), so both plugins say the same.
  const hkWhy = hasil === "di-atas" ? "≥ 110" : hasil === "sesuai" ? "≥ 90" : "< 90";
  const bHow = parts.map((p) => `${p.name} ${fmt2(p.value)} (weight ${fmt2(p.weight / wsum)})`).join(", ");
  let explanation = `HK ${fmt2(hk)} ${hkWhy} → ${snake(hasil)}; B from ${bHow} = ${fmt2(b)} → ${snake(perilaku)}` +
    `${ratedOne ? " (a value rated 1)" : ""}; matrix (${snake(hasil)}, ${snake(perilaku)}) → ${snake(predikat)}; ` +
    `score = 0.6 HK + 0.4 × 20 B = ${fmt2(score)}`;
  if (ikm !== null) {
    explanation += `; IKM ${ikm} × 25 = ${fmt2(ikm * 25)}` + (poorService ? " < 76.61 (grade C/D) → pelayanan_prima training" : "");
  }

  return {
    nip,
    hasilKerja: hasil,
    perilakuKerja: perilaku,
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

// ---- the export: kinerja:policy/appraise@2.0.0 ----------------------------------------------

/** The interface `appraise` of the world `appraiser`: `appraise(request) -> result<response, string>`. */
export const appraise = {
  appraise(request) {
    return {
      results: request.cases.map((c, i) => {
        try {
          return appraiseCase(c);
        } catch (e) {
          // A thrown value becomes the hook's `err`; its string is the refusal message.
          throw `cases[${i}] (nip ${c.employee.nip}): ${e.message}`;
        }
      }),
    };
  },
};
