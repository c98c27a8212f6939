// Kecamatan Tenayan Raya's `appraise` hook in AssemblyScript, ABI 1.
//
// Reads the request (one JSON document) from stdin, writes the response (one JSON document) to
// stdout, and exports `appraise` of type () -> (). @assemblyscript/wasi-shim routes I/O (and
// `abort`) through wasi_snapshot_preview1, so the module imports nothing else.
// Formulas: docs/region-policies.md, "Shared definitions" and "Tenayan Raya".
//
// AssemblyScript has no JSON in its standard library and no try/catch, so this file carries a
// small JSON parser, and refusals travel as return values (`fail` sets the message).

import { fd_read, fd_write } from "@assemblyscript/wasi-shim/assembly/bindings/wasi_snapshot_preview1";

// ---- JSON tree ------------------------------------------------------------------------------

const J_NULL: i32 = 0, J_BOOL: i32 = 1, J_NUM: i32 = 2, J_STR: i32 = 3, J_ARR: i32 = 4, J_OBJ: i32 = 5;

// Scalars share these empty arrays (never pushed to), so that only containers allocate: with the
// stub runtime (a bump allocator, see asconfig.json) every allocation stays until the call ends.
const NO_ITEMS = new Array<JValue>(0);
const NO_KEYS = new Array<string>(0);

class JValue {
  kind: i32 = J_NULL;
  num: f64 = 0;
  bool: bool = false;
  str: string = "";
  items: Array<JValue> = NO_ITEMS;  // array elements, or object member values
  keys: Array<string> = NO_KEYS;    // object member names

  get(key: string): JValue | null {
    if (this.kind != J_OBJ) return null;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }
}

let error: string = "";

function fail(message: string): bool {
  error = message;
  return false;
}

class Parser {
  pos: i32 = 0;
  depth: i32 = 0;
  constructor(public s: string) {}

  ws(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  value(): JValue | null {
    this.ws();
    if (this.pos >= this.s.length) { fail("unexpected end of input"); return null; }
    const c = this.s.charCodeAt(this.pos);
    if (c == 0x7b || c == 0x5b) return this.container(c == 0x7b);
    if (c == 0x22) {
      const v = new JValue();
      v.kind = J_STR;
      const str = this.string();
      if (str === null) return null;
      v.str = str;
      return v;
    }
    if (this.s.startsWith("null", this.pos)) { this.pos += 4; return new JValue(); }
    if (this.s.startsWith("true", this.pos) || this.s.startsWith("false", this.pos)) {
      const v = new JValue();
      v.kind = J_BOOL;
      v.bool = this.s.charCodeAt(this.pos) == 0x74;
      this.pos += v.bool ? 4 : 5;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = this.pos;
      while (this.pos < this.s.length) {
        const d = this.s.charCodeAt(this.pos);
        if (!((d >= 0x30 && d <= 0x39) || d == 0x2d || d == 0x2b || d == 0x2e || d == 0x65 || d == 0x45)) break;
        this.pos++;
      }
      const v = new JValue();
      v.kind = J_NUM;
      v.num = parseFloat(this.s.substring(start, this.pos));
      if (isNaN(v.num)) { fail("bad number"); return null; }
      return v;
    }
    fail("unexpected character");
    return null;
  }

  string(): string | null {
    this.pos++; // opening quote
    // The common case, no escapes: one substring, nothing else allocated.
    let end = this.pos;
    while (end < this.s.length) {
      const c = this.s.charCodeAt(end);
      if (c == 0x22 || c == 0x5c || c < 0x20) break;
      end++;
    }
    if (end < this.s.length && this.s.charCodeAt(end) == 0x22) {
      const plain = this.s.substring(this.pos, end);
      this.pos = end + 1;
      return plain;
    }
    const parts = new Array<string>();
    let run = this.pos;
    while (true) {
      if (this.pos >= this.s.length) { fail("unterminated string"); return null; }
      const c = this.s.charCodeAt(this.pos);
      if (c == 0x22) break;
      if (c < 0x20) { fail("control character in string"); return null; }
      if (c != 0x5c) { this.pos++; continue; }
      parts.push(this.s.substring(run, this.pos));
      const e = this.s.charCodeAt(this.pos + 1);
      this.pos += 2;
      if (e == 0x75) { // \uXXXX: JS strings are UTF-16, so surrogate pairs need no special care
        const code = i32(parseInt(this.s.substring(this.pos, this.pos + 4), 16));
        if (this.pos + 4 > this.s.length || code < 0) { fail("bad \\u escape"); return null; }
        parts.push(String.fromCharCode(code));
        this.pos += 4;
      } else if (e == 0x22) parts.push("\"");
      else if (e == 0x5c) parts.push("\\");
      else if (e == 0x2f) parts.push("/");
      else if (e == 0x62) parts.push("\b");
      else if (e == 0x66) parts.push("\f");
      else if (e == 0x6e) parts.push("\n");
      else if (e == 0x72) parts.push("\r");
      else if (e == 0x74) parts.push("\t");
      else { fail("bad escape in string"); return null; }
      run = this.pos;
    }
    parts.push(this.s.substring(run, this.pos));
    this.pos++; // closing quote
    return parts.join("");
  }

  container(isObj: bool): JValue | null {
    if (++this.depth > 128) { fail("nesting too deep"); return null; }
    const v = new JValue();
    v.kind = isObj ? J_OBJ : J_ARR;
    v.items = new Array<JValue>();
    if (isObj) v.keys = new Array<string>();
    const close: i32 = isObj ? 0x7d : 0x5d;
    this.pos++;
    this.ws();
    if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == close) { this.pos++; this.depth--; return v; }
    while (true) {
      if (isObj) {
        this.ws();
        if (this.pos >= this.s.length || this.s.charCodeAt(this.pos) != 0x22) { fail("expected a member name"); return null; }
        const key = this.string();
        if (key === null) return null;
        v.keys.push(key);
        this.ws();
        if (this.pos >= this.s.length || this.s.charCodeAt(this.pos) != 0x3a) { fail("expected ':'"); return null; }
        this.pos++;
      }
      const item = this.value();
      if (item === null) return null;
      v.items.push(item);
      this.ws();
      if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == 0x2c) { this.pos++; continue; }
      if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == close) { this.pos++; this.depth--; return v; }
      fail(isObj ? "expected ',' or '}'" : "expected ',' or ']'");
      return null;
    }
  }
}

function get(v: JValue | null, key: string): JValue | null {
  return v === null ? null : v.get(key);
}

/** An optional block: absent, null and empty ({} or []) all mean absent. */
function present(v: JValue | null): JValue | null {
  if (v === null || v.kind == J_NULL) return null;
  if ((v.kind == J_OBJ || v.kind == J_ARR) && v.items.length == 0) return null;
  return v;
}

function isNum(v: JValue | null): bool {
  return v !== null && v.kind == J_NUM;
}

// ---- output ---------------------------------------------------------------------------------

function jsonString(s: string): string {
  const out = new Array<string>();
  out.push("\"");
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c != 0x22 && c != 0x5c && c >= 0x20) continue;
    out.push(s.substring(run, i));
    if (c == 0x22) out.push("\\\"");
    else if (c == 0x5c) out.push("\\\\");
    else out.push("\\u00" + (c < 0x10 ? "0" : "") + c.toString(16));
    run = i + 1;
  }
  out.push(s.substring(run));
  out.push("\"");
  return out.join("");
}

/** f64 as a JSON number. AssemblyScript's dtoa (Grisu2) is short but not always the exact
 *  shortest round trip: a component may differ from the Rust reference in its last digit. The
 *  score is unaffected (it is rounded to 2 decimals first), and components are informational. */
function jsonNum(x: f64): string {
  return x.toString();
}

/** A number for people: as jsonNum, without the ".0" AssemblyScript gives whole numbers. */
function numText(x: f64): string {
  const s = x.toString();
  return s.endsWith(".0") ? s.substring(0, s.length - 2) : s;
}

// ---- shared rules (region-policies.md, "Shared definitions") -------------------------------

/** Half away from zero (Math.round is JavaScript's half-up, which differs for negatives). */
function roundHalfAway(x: f64): f64 {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

function round9(x: f64): f64 {
  if (!isFinite(x) || Math.abs(x) >= 1e9) return x;
  return roundHalfAway(x * 1e9) / 1e9;
}
function ge9(a: f64, b: f64): bool { return round9(a) >= round9(b); }
function lt9(a: f64, b: f64): bool { return round9(a) < round9(b); }

/** 2 decimals, half away from zero, decided on the 9-decimal value in integer billionths. */
function round2(x: f64): f64 {
  if (!isFinite(x)) return x;
  const nanos = roundHalfAway(x * 1e9);
  if (Math.abs(nanos) >= 9.0e18) return roundHalfAway(x * 100.0) / 100.0;
  const n = <i64>nanos;
  const mag = <u64>(n < 0 ? -n : n);
  const h = <f64>((mag + 5000000) / 10000000);
  return (n < 0 ? -h : h) / 100.0;
}

/** Two decimals for the explanation, from round2. */
function fmt2(x: f64): string {
  const r = round2(x);
  const cents = <i64>roundHalfAway(Math.abs(r) * 100);
  const frac = <i32>(cents % 100);
  return (r < 0 ? "-" : "") + (cents / 100).toString() + "." + (frac < 10 ? "0" : "") + frac.toString();
}

const VALUES: string[] = ["berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif"];
const RATING: string[] = ["di_atas", "sesuai", "di_bawah"];
const DI_ATAS = 0, SESUAI = 1, DI_BAWAH = 2;
const PREDIKAT: string[] = ["sangat_baik", "baik", "butuh_perbaikan", "kurang", "sangat_kurang"];
const SANGAT_BAIK = 0, BAIK = 1, BUTUH_PERBAIKAN = 2, KURANG = 3, SANGAT_KURANG = 4;

/** The PermenPANRB 6/2022 matrix. */
function matrix(hk: i32, pk: i32): i32 {
  if (hk == DI_ATAS) return pk == DI_ATAS ? SANGAT_BAIK : pk == SESUAI ? BAIK : KURANG;
  if (hk == SESUAI) return pk == DI_BAWAH ? KURANG : BAIK;
  return pk == DI_BAWAH ? SANGAT_KURANG : BUTUH_PERBAIKAN;
}

/** Reads a rater's seven ratings (integers 1–5) into `out`; false (with the error) if bad. */
function readRatings(rater: JValue | null, who: string, out: Int32Array): bool {
  if (rater === null || rater.kind != J_OBJ) return fail(who + ": expected an object of seven ratings");
  for (let i = 0; i < 7; i++) {
    const r = rater.get(VALUES[i]);
    if (r === null || r.kind != J_NUM) return fail(who + ": missing rating " + VALUES[i]);
    if (r.num != Math.floor(r.num) || r.num < 1 || r.num > 5)
      return fail(who + ": " + VALUES[i] + " is rated " + numText(r.num) + "; ratings must be integers from 1 to 5");
    out[i] = <i32>r.num;
  }
  return true;
}

function mean7(r: Int32Array): f64 {
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += r[i];
  return <f64>sum / 7.0;
}

// ---- Tenayan Raya appraise ------------------------------------------------------------------

/** Appends one result to `out`; false (with the error) to refuse the request. */
function appraiseCase(c: JValue, out: Array<string>): bool {
  const nip = get(get(c, "employee"), "nip");
  if (nip === null || nip.kind != J_STR) return fail("employee.nip: expected a string");
  const wd = get(get(c, "period"), "working_days");
  if (wd === null || wd.kind != J_NUM || wd.num < 1) return fail("period.working_days must be at least 1");

  // HK = C: weighted mean of capaian, weights default 1, no indicators → 0.
  let weighted: f64 = 0, totalWeight: f64 = 0, nInd = 0;
  const inds = present(c.get("indicators"));
  if (inds !== null) {
    if (inds.kind != J_ARR) return fail("indicators: expected an array");
    for (let k = 0; k < inds.items.length; k++, nInd++) {
      const ind = inds.items[k];
      const t = ind.get("target"), r = ind.get("realization"), w = ind.get("weight"), dir = ind.get("direction");
      if (t === null || t.kind != J_NUM || !(t.num > 0)) return fail("indicators[" + k.toString() + "]: target must be > 0");
      if (dir === null || dir.kind != J_STR) return fail("indicators[" + k.toString() + "]: direction missing");
      const lower = dir.str == "lower_is_better";
      if (!lower && dir.str != "higher_is_better") return fail("indicators[" + k.toString() + "]: unknown direction " + dir.str);
      let weight: f64 = 1;
      if (w !== null && w.kind != J_NULL) {
        if (w.kind != J_NUM || !(w.num >= 0)) return fail("indicators[" + k.toString() + "]: weight must be >= 0");
        weight = w.num;
      }
      let cap: f64 = 0; // a null realization counts 0
      if (r !== null && r.kind != J_NULL) {
        if (r.kind != J_NUM) return fail("indicators[" + k.toString() + "]: realization must be a number");
        const ratio = r.num / t.num;
        cap = lower ? 100.0 * (2.0 - ratio) : 100.0 * ratio;
        cap = cap < 0 ? 0 : cap > 120 ? 120 : cap;
      }
      weighted += cap * weight;
      totalWeight += weight;
    }
  }
  if (nInd > 0 && !(totalWeight > 0)) return fail("indicators: the weights add up to 0");
  const hk: f64 = nInd > 0 ? weighted / totalWeight : 0;
  const hasil = ge9(hk, 110) ? DI_ATAS : ge9(hk, 90) ? SESUAI : DI_BAWAH;

  // Behaviour 360°: S supervisor (0.5), R peers (0.3), U public (0.2), renormalised.
  const behavior = c.get("behavior");
  const sup = new Int32Array(7), tmp = new Int32Array(7);
  if (!readRatings(get(behavior, "supervisor"), "behavior.supervisor", sup)) return false;
  const names = new Array<string>(), vals = new Array<f64>(), weights = new Array<f64>();
  names.push("supervisor"); vals.push(mean7(sup)); weights.push(0.5);
  const peers = present(get(behavior, "peers"));
  if (peers !== null) {
    if (peers.kind != J_ARR) return fail("behavior.peers: expected an array");
    let sum: f64 = 0;
    for (let i = 0; i < peers.items.length; i++) {
      if (!readRatings(peers.items[i], "behavior.peers[" + i.toString() + "]", tmp)) return false;
      sum += mean7(tmp);
    }
    names.push("peers"); vals.push(sum / <f64>peers.items.length); weights.push(0.3);
  }
  const self = present(get(behavior, "self"));
  if (self !== null && !readRatings(self, "behavior.self", tmp)) return false;

  let hasIkm = false, ikm: f64 = 0; // a survey nobody answered is ignored
  const pf = present(c.get("public_feedback"));
  if (pf !== null) {
    const n = pf.get("respondents"), i = pf.get("ikm");
    if (n === null || n.kind != J_NUM || n.num < 0) return fail("public_feedback.respondents: expected a count");
    if (n.num > 0) {
      if (i === null || i.kind != J_NUM || !(i.num >= 1 && i.num <= 4)) return fail("public_feedback.ikm must be within 1–4");
      hasIkm = true;
      ikm = i.num;
      names.push("public"); vals.push(1.0 + (ikm - 1.0) * 4.0 / 3.0); weights.push(0.2);
    }
  }
  let wsum: f64 = 0, bsum: f64 = 0;
  for (let i = 0; i < names.length; i++) wsum += weights[i];
  for (let i = 0; i < names.length; i++) bsum += vals[i] * weights[i];
  const b = bsum / wsum;

  let ratedOne = false;
  for (let i = 0; i < 7; i++) if (sup[i] == 1) ratedOne = true;
  const perilaku = (lt9(b, 3.0) || ratedOne) ? DI_BAWAH : ge9(b, 4.25) ? DI_ATAS : SESUAI;
  const pred = matrix(hasil, perilaku);
  const raw = 0.6 * hk + 0.4 * (20.0 * b);
  if (!isFinite(raw)) return fail("score is not a finite number: some input is out of range");
  const score = round2(raw);
  const poorService = hasIkm && lt9(ikm * 25.0, 76.61);

  // ---- the result ----
  out.push("{\"nip\":" + jsonString(nip.str));
  out.push(",\"hasil_kerja\":\"" + RATING[hasil] + "\",\"perilaku_kerja\":\"" + RATING[perilaku] +
    "\",\"predikat\":\"" + PREDIKAT[pred] + "\",\"score\":" + jsonNum(score));
  out.push(",\"components\":[{\"name\":\"capaian\",\"value\":" + jsonNum(hk) + "}");
  for (let i = 0; i < names.length; i++)
    out.push(",{\"name\":\"" + names[i] + "\",\"value\":" + jsonNum(vals[i]) + ",\"weight\":" + jsonNum(weights[i] / wsum) + "}");
  out.push(",{\"name\":\"behavior\",\"value\":" + jsonNum(b) + "}]");

  // Recommendations in the policy order (none can repeat in this region).
  const recs = new Array<string>();
  if (pred == SANGAT_BAIK) recs.push("{\"kind\":\"reward\"}");
  if (pred == BUTUH_PERBAIKAN || pred == KURANG || pred == SANGAT_KURANG) recs.push("{\"kind\":\"coaching\"}");
  if (poorService) recs.push("{\"kind\":\"training\",\"subject\":\"pelayanan_prima\"}");
  for (let i = 0; i < 7; i++) if (sup[i] <= 2) recs.push("{\"kind\":\"training\",\"subject\":\"" + VALUES[i] + "\"}");
  out.push(",\"recommendations\":[" + recs.join(",") + "]");

  // Built as pieces joined once: with the stub runtime every intermediate string of a `+` chain
  // would stay allocated until the call ends.
  const ex = new Array<string>();
  ex.push("HK "); ex.push(fmt2(hk)); ex.push(hasil == DI_ATAS ? " ≥ 110" : hasil == SESUAI ? " ≥ 90" : " < 90");
  ex.push(" → "); ex.push(RATING[hasil]); ex.push("; B from ");
  for (let i = 0; i < names.length; i++) {
    if (i > 0) ex.push(", ");
    ex.push(names[i]); ex.push(" "); ex.push(fmt2(vals[i])); ex.push(" (weight "); ex.push(fmt2(weights[i] / wsum)); ex.push(")");
  }
  ex.push(" = "); ex.push(fmt2(b)); ex.push(" → "); ex.push(RATING[perilaku]);
  if (ratedOne) ex.push(" (a value rated 1)");
  ex.push("; matrix ("); ex.push(RATING[hasil]); ex.push(", "); ex.push(RATING[perilaku]); ex.push(") → "); ex.push(PREDIKAT[pred]);
  ex.push("; score = 0.6 HK + 0.4 × 20 B = "); ex.push(fmt2(score));
  if (hasIkm) {
    ex.push("; IKM "); ex.push(numText(ikm)); ex.push(" × 25 = "); ex.push(fmt2(ikm * 25.0));
    if (poorService) ex.push(" < 76.61 (grade C/D) → pelayanan_prima training");
  }
  const explanation = ex.join("");
  out.push(",\"explanation\":" + jsonString(explanation) + "}");
  return true;
}

// ---- I/O: straight WASI calls, looping over short reads and short writes -------------------

// Scratch space for one iovec (pointer, length) and the count the call returns.
const IOV = memory.data(16);

/** The whole of stdin, decoded from UTF-8. */
function readStdin(): string {
  let buf = new ArrayBuffer(1 << 16);
  let len = 0;
  while (true) {
    if (len == buf.byteLength) { // full: double, keeping what was read
      const bigger = new ArrayBuffer(buf.byteLength * 2);
      memory.copy(changetype<usize>(bigger), changetype<usize>(buf), len);
      buf = bigger;
    }
    store<u32>(IOV, <u32>(changetype<usize>(buf) + len));
    store<u32>(IOV, <u32>(buf.byteLength - len), 4);
    const err = fd_read(0, IOV, 1, IOV + 8);
    const n = <i32>load<u32>(IOV, 8);
    if (err != 0 || n == 0) break;
    len += n;
  }
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), len);
}

/** Writes all of `text` as UTF-8 to the file descriptor `fd` (1 stdout, 2 stderr). */
function writeAll(fd: u32, text: string): void {
  const bytes = String.UTF8.encode(text);
  let at: usize = 0;
  const total = <usize>bytes.byteLength;
  while (at < total) {
    store<u32>(IOV, <u32>(changetype<usize>(bytes) + at));
    store<u32>(IOV, <u32>(total - at), 4);
    if (fd_write(fd, IOV, 1, IOV + 8) != 0) return;
    const n = <usize>load<u32>(IOV, 8);
    if (n == 0) return;
    at += n;
  }
}

function answer(request: string): string {
  const p = new Parser(request);
  const req = p.value();
  if (req === null) return refusal("invalid request: " + error + " at character " + p.pos.toString());
  p.ws();
  if (p.pos != request.length) return refusal("invalid request: trailing data after the document");
  const abi = req.get("abi");
  if (abi === null || abi.kind != J_NUM || abi.num != 1) return refusal("unsupported abi: this plugin speaks ABI 1");
  const hook = req.get("hook");
  if (hook === null || hook.kind != J_STR || hook.str != "appraise") return refusal("request is not for the appraise hook");
  const cases = req.get("cases");
  if (cases === null || cases.kind != J_ARR) return refusal("invalid request: cases must be an array");

  const out = new Array<string>();
  out.push("{\"results\":[");
  for (let i = 0; i < cases.items.length; i++) {
    if (i > 0) out.push(",");
    const c = cases.items[i];
    if (!appraiseCase(c, out)) {
      const nip = get(get(c, "employee"), "nip");
      return refusal("cases[" + i.toString() + "] (nip " + (nip !== null && nip.kind == J_STR ? nip.str : "?") + "): " + error);
    }
  }
  out.push("]}");
  return out.join("");
}

function refusal(message: string): string {
  writeAll(2, "refused: " + message + "\n");
  return "{\"error\":{\"message\":" + jsonString(message) + "}}";
}

/** The hook: ABI 1 reactor export, type () -> (). */
export function appraise(): void {
  writeAll(1, answer(readStdin()));
}
