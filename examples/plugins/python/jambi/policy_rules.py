"""Provinsi Jambi's policy (docs/region-policies.md, version 2: "Shared definitions" and "Jambi").

Pure Python on plain data (dicts, lists, str, int, float, None): no WebAssembly and no
componentize-py here, so every function can be tried and tested under ordinary Python. `app.py`
turns the records the server sends into this plain data and the answers back into records.

It mirrors the Rust plugin (plugins/jambi/src/lib.rs and the shared rules in plugins/pdk/src/)
step for step: the same rounding, order, edge cases, explanations and refusal messages.

The plain data uses the names of the JSON documents of docs/plugin-contract.md (snake_case;
`self` for the self-assessment, `box` for the nine-box, `from` for a move's origin); enum values
are their strings ("di_atas", "higher_is_better", ...); an absent optional field is None.

    appraise({"region": "jambi", "config": {}, "cases": [case, ...]})
        -> {"results": [result, ...]}               or raises Refusal("cases[0] (nip ...): ...")
    rotate({"region": "jambi", "config": {}, "as_of": "2026-12-31",
            "employees": [...], "positions": [...]})
        -> {"talent": [...], "moves": [...], "flags": [...]}

A case:

    {"employee": {"nip": "198503122010011001", "name": None, "agency": None,
                  "position_id": None, "position_since": None},
     "period": {"id": "2026", "start": "2026-01-01", "end": "2026-12-31", "working_days": 246},
     "indicators": [{"id": "iki-1", "name": None, "kind": "utama",
                     "direction": "higher_is_better", "unit": None, "target": 12.0,
                     "realization": 11.0, "weight": 2.0, "evidence": None}, ...],
     "behavior": {"supervisor": {"berorientasi_pelayanan": 4, "akuntabel": 4, "kompeten": 5,
                                 "harmonis": 4, "loyal": 4, "adaptif": 3, "kolaboratif": 4},
                  "peers": None, "self": None},
     "activities": {"days_reported": 230, "minutes_reported": None},
     "innovations": None,                      # or [{"title": ..., "date": ...}, ...]
     "process": {"inovasi": 85.0, "keterlibatan_masyarakat": 70.0},   # or None
     "budget": None, "public_feedback": None}
"""

import heapq
import math

# Import every module at the top of a file, never inside a function: componentize-py keeps only
# the modules imported while it builds the component, and a later `import` fails in the server.

# ---------------------------------------------------------------------------------------------
# Jambi's numbers. Change them here (and in the Rust plugin, and the fixtures) together.
# ---------------------------------------------------------------------------------------------

HK_DI_ATAS = 110.0  # HK at or above this (with an innovation, no weak utama indicator): di_atas
HK_SESUAI = 90.0  # HK at or above this: sesuai
UTAMA_FLOOR = 90.0  # no `utama` indicator may have a capaian below this for di_atas
REPORTING_FLOOR = 0.80  # q below this lowers hasil kerja one level and recommends dialog
M_DI_ATAS = 4.5  # m at or above this: perilaku kerja di_atas
WEIGHT_C, WEIGHT_P = 0.8, 0.2  # HK = 0.8 C + 0.2 P
WEIGHT_HK, WEIGHT_B = 0.6, 0.4  # score = 0.6 HK + 0.4 x 20 m

MIN_TENURE = 24  # rotation: minimum months in the current position
MAX_TENURE = 60  # more months than this: overdue flag and the priority bonus
MIN_JPM = 68.0  # minimum job-person match for an allowed move
READY_JPM = 80.0  # JPM from which a move is ready without training
OVERDUE_BONUS = 1000.0  # value bonus that puts overdue employees first
DECLINED_TRAINING = "bimbingan"  # training added for an employee who declined a rotation

# Shared by every region.
BEHAVIOUR_FLOOR = 3.0  # m below this (or any supervisor rating of 1): perilaku kerja di_bawah
BERAKHLAK = (
    "berorientasi_pelayanan",
    "akuntabel",
    "kompeten",
    "harmonis",
    "loyal",
    "adaptif",
    "kolaboratif",
)
MAX_LEVEL = 1e6  # competency levels are accepted from 0 up to this


class Refusal(Exception):
    """A deliberate refusal: the request cannot be answered. `str(e)` is the message."""


# ---------------------------------------------------------------------------------------------
# Numbers (region-policies.md, "Numbers")
# ---------------------------------------------------------------------------------------------


def round_half_away(x):
    """Rust's f64::round: to the nearest whole number, halves away from zero.

    (Python's round() sends halves to the even neighbour, and floor(x + 0.5) is wrong for
    0.49999999999999994.)"""
    if not math.isfinite(x) or abs(x) >= 4503599627370496.0:  # 2**52: already whole
        return x
    t = float(math.trunc(x))
    d = x - t  # the fraction, exactly
    if d >= 0.5:
        t += 1.0
    elif d <= -0.5:
        t -= 1.0
    return math.copysign(t, x)


def round9(x):
    """x rounded to 9 decimals; thresholds are compared on this value."""
    if -1e9 < x < 1e9:  # (and not NaN); anything else is returned as it is
        y = x * 1e9
        n = int(y)  # whole billionths toward zero; y - n is the fraction, exactly
        d = y - n
        if d >= 0.5:
            n += 1
        elif d <= -0.5:
            n -= 1
        return n / 1e9
    return x


def ge9(a, b):
    """a >= b on 9-decimal values (true when either is NaN, as the Rust comparison)."""
    return not round9(a) < round9(b)


def lt9(a, b):
    """a < b on 9-decimal values."""
    return round9(a) < round9(b)


def _hundredths(x):
    """(negative, whole hundredths) of round2(x), or None where round2 takes its slow path.

    The halving is decided in whole billionths (integers), from the 9-decimal value."""
    y = x * 1e9
    if -9.0e18 < y < 9.0e18:  # finite, and the billionths fit in 64 bits as in Rust
        n = int(y)
        d = y - n
        if d >= 0.5:
            n += 1
        elif d <= -0.5:
            n -= 1
        return n < 0, (abs(n) + 5_000_000) // 10_000_000
    return None


def round2(x):
    """A reported number: 2 decimals, half away from zero, from the 9-decimal value
    (1.005 -> 1.01, 2.675 -> 2.68)."""
    parts = _hundredths(x)
    if parts is None:
        if not math.isfinite(x):
            return x
        return round_half_away(x * 100.0) / 100.0
    negative, h = parts
    return -float(h) / 100.0 if negative else h / 100.0


def fmt2(x):
    """Two decimals for explanations: "96.39", the digits of round2(x)."""
    parts = _hundredths(x)
    if parts is not None and parts[1] < 10**15:
        negative, h = parts
        return "%s%d.%02d" % ("-" if negative else "", h // 100, h % 100)
    v = round2(x)  # never for a validated case
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return "%.2f" % v


def fmt_number(x):
    """A number as Rust's `{}` writes an f64 in messages: 3.0 -> "3", 0.1 -> "0.1", no exponent."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == int(x) and abs(x) < 1e16:
        return sign + str(abs(int(x)))
    text = repr(abs(x))  # the shortest digits that read back as x, maybe as 1.5e-07
    if "e" not in text:
        return sign + text
    mantissa, exponent = text.split("e")
    digits = mantissa.replace(".", "")
    point = (mantissa.index(".") if "." in mantissa else len(mantissa)) + int(exponent)
    if point <= 0:
        return sign + "0." + "0" * -point + digits
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return sign + digits[:point] + "." + digits[point:]


def quoted(s):
    """A string as Rust's `{:?}` writes it: in double quotes, with \\ and " escaped."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def total(values):
    """Left-to-right float sum, as Rust's `.sum()`. (Python 3.12's sum() compensates rounding
    errors, which would move some results in the last bits away from the reference.)"""
    acc = 0.0
    for v in values:
        acc += v
    return acc


# ---------------------------------------------------------------------------------------------
# Appraisal building blocks (region-policies.md, "Appraisal building blocks")
# ---------------------------------------------------------------------------------------------


def weight(indicator):
    w = indicator.get("weight")
    return 1.0 if w is None else w


def capaian(indicator):
    """Capaian in percent: 100 R/T (higher is better) or 100 (2 - R/T) (lower is better),
    clamped to [0, 120]; a realization not yet reported (None) gives 0."""
    r = indicator.get("realization")
    if r is None:
        return 0.0
    ratio = r / indicator["target"]
    if indicator["direction"] == "lower_is_better":
        raw = 100.0 * (2.0 - ratio)
    else:
        raw = 100.0 * ratio
    if raw < 0.0:
        return 0.0
    if raw > 120.0:
        return 120.0
    return raw


def weighted_capaian(indicators):
    """C: the weighted mean of capaian (weights default 1); 0 without indicators."""
    total_weight = total(weight(i) for i in indicators)
    if not indicators or total_weight == 0.0:
        return 0.0
    return total(capaian(i) * weight(i) for i in indicators) / total_weight


def mean_rating(ratings):
    """m(rater): the mean of the seven BerAKHLAK ratings."""
    return sum(ratings[v] for v in BERAKHLAK) / 7.0  # whole numbers: sum() is exact


def predikat(hasil_kerja, perilaku_kerja):
    """The PermenPANRB 6/2022 matrix."""
    if hasil_kerja == "di_bawah":
        return "sangat_kurang" if perilaku_kerja == "di_bawah" else "butuh_perbaikan"
    if perilaku_kerja == "di_bawah":
        return "kurang"
    if hasil_kerja == "di_atas" and perilaku_kerja == "di_atas":
        return "sangat_baik"
    return "baik"


def lower_one_level(rating):
    return "sesuai" if rating == "di_atas" else "di_bawah"


def has_rating_one(supervisor):
    return any(supervisor[v] == 1 for v in BERAKHLAK)


def behaviour_rating(value, supervisor, di_atas_from):
    """di_bawah below 3.0 or with any supervisor rating of 1; di_atas from `di_atas_from`."""
    if lt9(value, BEHAVIOUR_FLOOR) or has_rating_one(supervisor):
        return "di_bawah"
    if ge9(value, di_atas_from):
        return "di_atas"
    return "sesuai"


POOR = ("butuh_perbaikan", "kurang", "sangat_kurang")


def recommendations(pred, own, supervisor):
    """reward (sangat_baik), coaching (a poor predikat), the region's own, then training for each
    value the supervisor rated 2 or lower, in BerAKHLAK order; no duplicates."""
    out = []

    def push(rec):
        if rec not in out:
            out.append(rec)

    if pred == "sangat_baik":
        push({"kind": "reward"})
    if pred in POOR:
        push({"kind": "coaching"})
    for rec in own:
        push(rec)
    for v in BERAKHLAK:
        if supervisor[v] <= 2:
            push({"kind": "training", "subject": v})
    return out


def validate_ratings(ratings, where):
    for v in BERAKHLAK:
        r = ratings[v]
        if not 1 <= r <= 5:
            raise Refusal(
                "%s: %s is rated %d; ratings must be integers from 1 to 5" % (where, v, r)
            )


def validate_case(case):
    """The checks every region makes, naming the first problem (pdk rules::validate_case)."""
    behavior = case["behavior"]
    validate_ratings(behavior["supervisor"], "behavior.supervisor")
    for i, peer in enumerate(behavior.get("peers") or ()):
        validate_ratings(peer, "behavior.peers[%d]" % i)
    if behavior.get("self") is not None:
        validate_ratings(behavior["self"], "behavior.self")
    if case["period"]["working_days"] == 0:
        raise Refusal("period.working_days must be at least 1")
    indicators = case["indicators"]
    for i, ind in enumerate(indicators):
        at = "indicators[%d] (%s)" % (i, ind["id"])
        t = ind["target"]
        if not (math.isfinite(t) and t > 0.0):
            raise Refusal("%s: target must be > 0, got %s" % (at, fmt_number(t)))
        r = ind.get("realization")
        if r is not None and not math.isfinite(r):
            raise Refusal("%s: realization must be a finite number" % at)
        w = weight(ind)
        if not (math.isfinite(w) and w >= 0.0):
            raise Refusal("%s: weight must be ≥ 0, got %s" % (at, fmt_number(w)))
    if indicators and total(weight(i) for i in indicators) <= 0.0:
        raise Refusal("indicators: the weights add up to 0")
    for name, v in sorted((case.get("process") or {}).items()):
        if not (math.isfinite(v) and 0.0 <= v <= 100.0):
            raise Refusal("process.%s must be within 0–100, got %s" % (name, fmt_number(v)))


def ensure_finite(what, x):
    if not math.isfinite(x):
        raise Refusal(
            "%s is not a finite number (%s): some input is out of range" % (what, fmt_number(x))
        )
    return x


# ---------------------------------------------------------------------------------------------
# Words for explanations (pdk explain.rs)
# ---------------------------------------------------------------------------------------------

RATING_WORDS = {
    "di_atas": "di atas ekspektasi",
    "sesuai": "sesuai ekspektasi",
    "di_bawah": "di bawah ekspektasi",
}
PREDIKAT_WORDS = {
    "sangat_baik": "Sangat Baik",
    "baik": "Baik",
    "butuh_perbaikan": "Butuh Perbaikan",
    "kurang": "Kurang",
    "sangat_kurang": "Sangat Kurang",
}
KIND_WORDS = {
    "reward": "penghargaan",
    "coaching": "pembinaan",
    "dialog": "dialog kinerja",
    "training": "pelatihan",
}


def explain_recommendations(recs, pred, supervisor, own_causes):
    """"; rekomendasi: ..." with the cause of each recommendation, or "; tanpa rekomendasi".
    `own_causes` is a list of (recommendation, cause) for the region's own."""
    if not recs:
        return "; tanpa rekomendasi"
    parts = []
    for rec in recs:
        s = KIND_WORDS[rec["kind"]]
        subject = rec.get("subject")
        if subject is not None:
            s += " " + subject.replace("_", " ")
        cause = next((why for own, why in own_causes if own == rec), None)
        if cause is None:
            if rec["kind"] in ("reward", "coaching"):
                cause = "predikat " + PREDIKAT_WORDS[pred]
            elif subject in supervisor and subject in BERAKHLAK:
                cause = "nilai atasan untuk %s %d ≤ 2" % (
                    subject.replace("_", " "),
                    supervisor[subject],
                )
            else:
                cause = "aturan wilayah"
        parts.append(s + " (" + cause + ")")
    return "; rekomendasi: " + "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# appraise (region-policies.md, "Jambi", appraise)
# ---------------------------------------------------------------------------------------------


def appraise(request):
    """One result per case, in order. A malformed case refuses the whole request."""
    results = []
    for i, case in enumerate(request["cases"]):
        try:
            results.append(appraise_case(case))
        except Refusal as e:
            raise Refusal("cases[%d] (nip %s): %s" % (i, case["employee"]["nip"], e)) from None
    return {"results": results}


def appraise_case(case):
    validate_case(case)
    activities = case.get("activities")
    if activities is None:
        raise Refusal("activities.days_reported is required by the Jambi policy")
    supervisor = case["behavior"]["supervisor"]
    indicators = case["indicators"]

    # HK = 0.8 C + 0.2 P, with P the mean of the process ratings (P = C without any).
    c = weighted_capaian(indicators)
    process = case.get("process")
    if process:
        p = total(v for _, v in sorted(process.items())) / len(process)
        p_source = "rerata penilaian proses"
    else:
        p = c
        p_source = "tanpa penilaian proses, jadi P = C"
    hk = WEIGHT_C * c + WEIGHT_P * p

    # hasil kerja before the reporting rule.
    has_innovation = bool(case.get("innovations"))
    weak_utama = [
        i["id"] for i in indicators if i["kind"] == "utama" and lt9(capaian(i), UTAMA_FLOOR)
    ]
    if ge9(hk, HK_DI_ATAS) and has_innovation and not weak_utama:
        base, base_why = "di_atas", "≥ 110 dengan inovasi dan setiap indikator utama ≥ 90"
    elif ge9(hk, HK_SESUAI):
        base = "sesuai"
        if not ge9(hk, HK_DI_ATAS):
            base_why = "≥ 90"
        elif not has_innovation:
            base_why = "≥ 110 tetapi tanpa inovasi"
        else:
            base_why = "≥ 110 tetapi indikator utama %s di bawah 90" % ", ".join(weak_utama)
    else:
        base, base_why = "di_bawah", "< 90"

    # Daily reports: q below 0.80 lowers hasil kerja one level.
    days, working_days = activities["days_reported"], case["period"]["working_days"]
    q = days / working_days
    low_reporting = lt9(q, REPORTING_FLOOR)
    hasil_kerja = lower_one_level(base) if low_reporting else base

    m = mean_rating(supervisor)
    perilaku_kerja = behaviour_rating(m, supervisor, M_DI_ATAS)
    pred = predikat(hasil_kerja, perilaku_kerja)
    score = round2(ensure_finite("score", WEIGHT_HK * hk + WEIGHT_B * (20.0 * m)))
    dialog = {"kind": "dialog"}
    recs = recommendations(pred, [dialog] if low_reporting else [], supervisor)

    # The explanation, in the words of the Rust plugin.
    reporting = "%d/%d hari kerja = %s" % (days, working_days, fmt2(q))
    s = "C %s; P %s (%s); HK = 0.8 C + 0.2 P = %s %s → %s; laporan harian q = %s" % (
        fmt2(c),
        fmt2(p),
        p_source,
        fmt2(hk),
        base_why,
        RATING_WORDS[base],
        reporting,
    )
    if low_reporting:
        s += " < 0.80, hasil kerja turun satu tingkat ke " + RATING_WORDS[hasil_kerja]
    else:
        s += " ≥ 0.80, tetap"
    s += "; perilaku: rerata nilai atasan m = %s → %s" % (fmt2(m), RATING_WORDS[perilaku_kerja])
    if has_rating_one(supervisor):
        s += " (ada nilai 1 dari atasan)"
    s += "; matriks (hasil kerja %s, perilaku kerja %s) → predikat %s" % (
        RATING_WORDS[hasil_kerja],
        RATING_WORDS[perilaku_kerja],
        PREDIKAT_WORDS[pred],
    )
    s += "; skor = 0.6 HK + 0.4 × 20 m = " + fmt2(score)
    dialog_why = ("laporan harian q = " + reporting + " < 0.80") if low_reporting else ""
    s += explain_recommendations(recs, pred, supervisor, [(dialog, dialog_why)])

    return {
        "nip": case["employee"]["nip"],
        "hasil_kerja": hasil_kerja,
        "perilaku_kerja": perilaku_kerja,
        "predikat": pred,
        "score": score,
        "components": [
            {"name": "capaian", "value": c, "weight": WEIGHT_C},
            {"name": "process", "value": p, "weight": WEIGHT_P},
            {"name": "hk", "value": hk, "weight": WEIGHT_HK},
            {"name": "reporting", "value": q},
            {"name": "behavior", "value": m},
        ],
        "recommendations": recs,
        "explanation": s,
    }


# ---------------------------------------------------------------------------------------------
# Rotation building blocks (region-policies.md, "Rotation building blocks"; abi dates.rs,
# pdk talent.rs and rotation.rs)
# ---------------------------------------------------------------------------------------------

MIN_YEAR, MAX_YEAR = 1940, 2100


def days_in_month(year, month):
    if month in (1, 3, 5, 7, 8, 10, 12):
        return 31
    if month in (4, 6, 9, 11):
        return 30
    if month == 2:
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        return 29 if leap else 28
    return 0


def parse_date(s):
    """(year, month, day) of exactly YYYY-MM-DD, a real date from 1940 to 2100."""
    b = s.encode("utf-8")
    digits = b"0123456789"
    if (
        len(b) == 10
        and b[4:5] == b"-"
        and b[7:8] == b"-"
        and all(ch in digits for ch in b[0:4] + b[5:7] + b[8:10])
    ):
        y, m, d = int(b[0:4]), int(b[5:7]), int(b[8:10])
        if MIN_YEAR <= y <= MAX_YEAR and 1 <= m <= 12 and 1 <= d <= days_in_month(y, m):
            return (y, m, d)
    raise Refusal(
        "`%s` is not a real date in the form YYYY-MM-DD between %d and %d"
        % (s[:40], MIN_YEAR, MAX_YEAR)
    )


def tenure_months(since, as_of):
    """Whole months from `since` to `as_of`, never below 0 (2021-03-15 -> 2026-03-14 is 59)."""
    months = 12 * (as_of[0] - since[0]) + (as_of[1] - since[1]) - (1 if as_of[2] < since[2] else 0)
    return min(max(months, 0), 0xFFFFFFFF)


def job_person_match(competencies, required):
    """JPM: 100 x sum(min(a, r)) / sum(r) over the required competencies (a missing one is 0);
    100 when nothing is required."""
    held = 0.0
    needed = 0.0
    for name, r in sorted(required.items()):
        held += min(competencies.get(name, 0.0), r)
        needed += r
    if needed <= 0.0:
        return 100.0
    return 100.0 * held / needed


def competency_gaps(competencies, required):
    """The required competencies held below the level, sorted by name."""
    return [name for name, r in sorted(required.items()) if lt9(competencies.get(name, 0.0), r)]


NINE_BOX_ROWS = {"di_atas": (4, 7, 9), "sesuai": (2, 5, 8), "di_bawah": (1, 3, 6)}
POTENTIAL_COLUMN = {"rendah": 0, "menengah": 1, "tinggi": 2}


def nine_box(latest_predikat, potential):
    """1-9 (PermenPANRB 3/2020); None without a latest predikat; potential None is rendah."""
    if latest_predikat is None:
        return None
    axis = {"sangat_baik": "di_atas", "baik": "sesuai"}.get(latest_predikat, "di_bawah")
    return NINE_BOX_ROWS[axis][POTENTIAL_COLUMN[potential or "rendah"]]


def step(current, target):
    """"rotation" (same kind and level), "promotion" (exactly one level up) or None."""
    if target["level"] == current["level"] and target["kind"] == current["kind"]:
        return "rotation"
    if current["level"] + 1 == target["level"]:
        return "promotion"
    return None


def check_levels(levels, what):
    for name, v in sorted(levels.items()):
        if not (math.isfinite(v) and 0.0 <= v <= MAX_LEVEL):
            raise Refusal(
                "%s.%s must be a competency level from 0 to %s, got %s"
                % (what, name, fmt_number(MAX_LEVEL), fmt_number(v))
            )


def prepare(request):
    """Validates a rotate request and works out each employee's tenure, box and current
    position (pdk Roster::prepare), naming the first problem."""
    try:
        as_of = parse_date(request["as_of"])
    except Refusal as e:
        raise Refusal("as_of: %s" % e) from None
    index = {}
    for i, p in enumerate(request["positions"]):
        if p["id"] in index:
            raise Refusal("positions: id %s appears twice" % quoted(p["id"]))
        index[p["id"]] = i
        check_levels(p["required"], "positions[%d] (%s).required" % (i, p["id"]))
    seen = set()
    facts = []
    for i, e in enumerate(request["employees"]):
        at = "employees[%d] (%s)" % (i, e["nip"])
        if e["nip"] in seen:
            raise Refusal("employees: nip %s appears twice" % quoted(e["nip"]))
        seen.add(e["nip"])
        try:
            since = parse_date(e["position_since"])
        except Refusal as err:
            raise Refusal("%s.position_since: %s" % (at, err)) from None
        if e["position_id"] not in index:
            raise Refusal(
                "%s: current position %s is not among positions" % (at, quoted(e["position_id"]))
            )
        check_levels(e["competencies"], at + ".competencies")
        facts.append(
            {
                "tenure": tenure_months(since, as_of),
                "box": nine_box(e.get("latest_predikat"), e.get("potential")),
                "current": index[e["position_id"]],
            }
        )
    return facts


# ---------------------------------------------------------------------------------------------
# rotate (region-policies.md, "Jambi", rotate)
# ---------------------------------------------------------------------------------------------


def rotate(request):
    """Rotations, and promotions for the talent pool (boxes 7-9); overdue flags."""
    employees, positions = request["employees"], request["positions"]
    facts = prepare(request)
    candidates = []  # (employee index, position index, kind, value, jpm)
    flags = []
    for i, (e, f) in enumerate(zip(employees, facts)):
        current = positions[f["current"]]
        if f["tenure"] > MAX_TENURE:
            flags.append(
                {
                    "nip": e["nip"],
                    "kind": "overdue",
                    "detail": "%d months in %s (more than %d)"
                    % (f["tenure"], current["id"], MAX_TENURE),
                }
            )
        if f["tenure"] < MIN_TENURE or e.get("latest_predikat") is None:
            continue
        talent_pool = f["box"] in (7, 8, 9)
        bonus = OVERDUE_BONUS if f["tenure"] > MAX_TENURE else 0.0
        for pi, target in enumerate(positions):
            if pi == f["current"] or target["vacancies"] == 0:
                continue
            kind = step(current, target)
            if kind is None or (kind == "promotion" and not talent_pool):
                continue
            jpm = job_person_match(e["competencies"], target["required"])
            if not lt9(jpm, MIN_JPM):
                candidates.append((i, pi, kind, jpm + bonus, jpm))

    chosen = optimal_assignment(
        len(employees),
        [p["vacancies"] for p in positions],
        [(c[0], c[1], value_units(c[3])) for c in candidates],
    )
    moves = []
    for k in chosen:
        i, pi, kind, _, jpm = candidates[k]
        e = employees[i]
        declined = bool(e.get("declined_rotation"))
        if ge9(jpm, READY_JPM) and not declined:
            readiness, training = "ready", []
        else:
            readiness = "needs_training"
            training = competency_gaps(e["competencies"], positions[pi]["required"])
            if declined:
                training.append(DECLINED_TRAINING)
        moves.append(
            {
                "nip": e["nip"],
                "from": positions[facts[i]["current"]]["id"],
                "to": positions[pi]["id"],
                "kind": kind,
                "job_person_match": round2(jpm),
                "readiness": readiness,
                "training": training,
            }
        )
    moves.sort(key=lambda m: m["nip"])
    flag_order = {"overdue": 0, "review": 1, "coaching_first": 2}
    flags.sort(key=lambda f: (f["nip"], flag_order[f["kind"]]))
    talent = [{"nip": e["nip"], "box": f["box"]} for e, f in zip(employees, facts)]
    return {"talent": talent, "moves": moves, "flags": flags}


# ---------------------------------------------------------------------------------------------
# Optimal assignment (pdk assignment.rs), the same algorithm so the same moves are chosen
# ---------------------------------------------------------------------------------------------


def value_units(value):
    """A move's value in whole billionths, so that "optimal" and "tie" are exact."""
    return int(round_half_away(round9(value) * 1e9))


INF = (2**63 - 1) // 4


def optimal_assignment(employees, capacities, pairs):
    """Chooses among `pairs` (employee, position, value units) the moves with the largest total
    value, each employee at most once and each position at most its capacity; among optimal
    choices, the most moves. Returns the chosen indices into `pairs`, ascending.

    A min-cost flow (source -> employee -> position -> sink) by successive shortest paths:
    Dijkstra on reduced costs, then blocking flows over the tight edges; see assignment.rs."""
    positions = len(capacities)
    source, sink = 0, employees + positions + 1
    nodes = sink + 1
    to, cap, cost = [], [], []
    adj = [[] for _ in range(nodes)]

    def add(u, v, c, w):
        e = len(to)
        to.extend((v, u))
        cap.extend((c, 0))
        cost.extend((w, -w))
        adj[u].append(e)
        adj[v].append(e + 1)
        return e

    has_pair = [False] * employees
    pos_used = [False] * positions
    pair_edges = []
    for i, (emp, pos, value) in enumerate(pairs):
        if emp >= employees or pos >= positions or capacities[pos] == 0:
            continue
        has_pair[emp] = True
        pos_used[pos] = True
        pair_edges.append((i, add(1 + emp, 1 + employees + pos, 1, -value)))
    for emp in range(employees):
        if has_pair[emp]:
            add(source, 1 + emp, 1, 0)
    for pos in range(positions):
        if pos_used[pos]:
            add(1 + employees + pos, sink, capacities[pos], 0)
    if not pair_edges:
        return []

    # Initial potentials: shortest distances in the DAG source -> employees -> positions -> sink.
    pot = [INF] * nodes
    pot[source] = 0
    for emp in range(employees):
        if has_pair[emp]:
            pot[1 + emp] = 0
    for i, _ in pair_edges:
        p = 1 + employees + pairs[i][1]
        pot[p] = min(pot[p], -pairs[i][2])
    sink_pot = INF
    for pos in range(positions):
        if pos_used[pos]:
            sink_pot = min(sink_pot, pot[1 + employees + pos])
    pot[sink] = sink_pot
    pot = [sink_pot if v == INF else v for v in pot]

    def rank(v):
        return 0 if v == sink else v + 1

    unset = -1
    while True:
        # Dijkstra on reduced costs from the source, until the sink is settled.
        dist = [INF] * nodes
        dist[source] = 0
        heap = [(0, rank(source))]
        while heap:
            d, r = heapq.heappop(heap)
            u = sink if r == 0 else r - 1
            if d > dist[u]:
                continue
            if u == sink:
                break
            pu = pot[u]
            for e in adj[u]:
                if cap[e] == 0:
                    continue
                v = to[e]
                nd = d + cost[e] + pu - pot[v]
                if nd < dist[v]:
                    dist[v] = nd
                    heapq.heappush(heap, (nd, rank(v)))
        dt = dist[sink]
        if dt == INF:
            break  # no augmenting path
        for v in range(nodes):
            pot[v] += min(dist[v], dt)
        if pot[sink] > 0:
            break  # a further move would lower the total

        # Blocking flows over the admissible (zero reduced cost) edges.
        while True:
            level = [unset] * nodes
            level[source] = 0
            queue = [source]
            head = 0
            while head < len(queue):
                u = queue[head]
                head += 1
                for e in adj[u]:
                    v = to[e]
                    if cap[e] > 0 and level[v] == unset and cost[e] + pot[u] - pot[v] == 0:
                        level[v] = level[u] + 1
                        queue.append(v)
            if level[sink] == unset:
                break
            next_arc = [0] * nodes
            while True:
                stack = [source]
                path = []
                found = False
                while stack:
                    u = stack[-1]
                    if u == sink:
                        found = True
                        break
                    advanced = False
                    arcs = adj[u]
                    while next_arc[u] < len(arcs):
                        e = arcs[next_arc[u]]
                        v = to[e]
                        if (
                            cap[e] > 0
                            and level[v] != unset
                            and level[v] == level[u] + 1
                            and cost[e] + pot[u] - pot[v] == 0
                        ):
                            stack.append(v)
                            path.append(e)
                            advanced = True
                            break
                        next_arc[u] += 1
                    if not advanced:
                        level[u] = unset  # dead end: out of the level graph
                        stack.pop()
                        if path:
                            path.pop()
                if not found:
                    break
                for e in path:
                    cap[e] -= 1
                    cap[e ^ 1] += 1

    return sorted(i for i, e in pair_edges if cap[e] == 0)
