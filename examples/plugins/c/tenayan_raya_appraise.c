/*
 * Kecamatan Tenayan Raya's `appraise` hook in plain C (C11 + wasi-libc), ABI 1.
 *
 * The whole contract in one file: read the request (one JSON document) from stdin, write the
 * response (one JSON document) to stdout, export a function `appraise` of type () -> ().
 * Formulas: docs/region-policies.md, "Shared definitions" and "Tenayan Raya".
 *
 * No JSON library: a small parser (~200 lines) builds a tree, and a string builder writes the
 * answer. Memory is never freed: every call runs in a fresh instance that is thrown away after.
 *
 * Build: ./build.sh  (clang --target=wasm32-wasi -mexec-model=reactor …)
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* JSON tree                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype type;
    int boolean;
    double num;
    char *str;          /* J_STR: NUL-terminated UTF-8 (may contain \0 escapes; not our problem) */
    char *key;          /* member name when this value sits in an object */
    struct jval *child; /* first element / member */
    struct jval *next;  /* next sibling */
} jval;

typedef struct {
    const char *s, *end;
    const char *error;
    int depth;
} parser;

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) abort(); /* out of memory: a trap, the host reports it */
    return p;
}

static void skip_ws(parser *p) {
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')) p->s++;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* Parses a string starting at the opening quote; returns a fresh NUL-terminated copy. */
static char *parse_string(parser *p) {
    p->s++; /* opening quote */
    const char *start = p->s;
    size_t cap = 0;
    while (p->s < p->end && *p->s != '"') {
        if (*p->s == '\\') {
            if (++p->s >= p->end) break;
        } else if ((unsigned char)*p->s < 0x20) {
            p->error = "control character in string";
            return NULL;
        }
        p->s++;
        cap++;
    }
    if (p->s >= p->end) { p->error = "unterminated string"; return NULL; }
    char *out = xmalloc(cap * 4 + 1), *o = out;
    for (const char *s = start; s < p->s; s++) {
        if (*s != '\\') { *o++ = *s; continue; }
        s++;
        switch (*s) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (p->s - s < 5 || !hex4(s + 1, &cp)) { p->error = "bad \\u escape"; return NULL; }
            s += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p->s - s >= 7 && s[1] == '\\' && s[2] == 'u' &&
                hex4(s + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            o += put_utf8(o, cp);
            break;
        }
        default: p->error = "bad escape in string"; return NULL;
        }
    }
    *o = 0;
    p->s++; /* closing quote */
    return out;
}

static jval *parse_value(parser *p);

/* Clinger's fast path: up to 15 significant digits and no exponent make an integer m < 2^53 and a
 * power of ten 10^k (k ≤ 22), both exact doubles, so m / 10^k is correctly rounded like strtod.
 * It skips wasi-libc's strtod, which works in 128-bit long double (software floating point on
 * wasm32) and costs thousands of instructions per number. */
static int fast_number(const char *s, double *out) {
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int neg = *s == '-', digits = 0, frac = -1;
    uint64_t m = 0;
    if (neg) s++;
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) { frac = 0; continue; }
        if (*s < '0' || *s > '9') return 0; /* exponent or junk: let strtod decide */
        if (++digits > 15) return 0;
        m = m * 10 + (uint64_t)(*s - '0');
        if (frac >= 0) frac++;
    }
    if (frac == 0) return 0; /* "1." is not JSON */
    double v = (double)m / pow10[frac < 0 ? 0 : frac];
    *out = neg ? -v : v;
    return 1;
}

static jval *new_val(jtype t) {
    jval *v = xmalloc(sizeof *v);
    memset(v, 0, sizeof *v);
    v->type = t;
    return v;
}

static jval *parse_container(parser *p, int is_obj) {
    jval *v = new_val(is_obj ? J_OBJ : J_ARR), **tail = &v->child;
    char close = is_obj ? '}' : ']';
    if (++p->depth > 128) { p->error = "nesting too deep"; return NULL; }
    p->s++;
    skip_ws(p);
    if (p->s < p->end && *p->s == close) { p->s++; p->depth--; return v; }
    for (;;) {
        char *key = NULL;
        if (is_obj) {
            skip_ws(p);
            if (p->s >= p->end || *p->s != '"') { p->error = "expected a member name"; return NULL; }
            if (!(key = parse_string(p))) return NULL;
            skip_ws(p);
            if (p->s >= p->end || *p->s != ':') { p->error = "expected ':'"; return NULL; }
            p->s++;
        }
        jval *item = parse_value(p);
        if (!item) return NULL;
        item->key = key;
        *tail = item;
        tail = &item->next;
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') { p->s++; continue; }
        if (p->s < p->end && *p->s == close) { p->s++; p->depth--; return v; }
        p->error = is_obj ? "expected ',' or '}'" : "expected ',' or ']'";
        return NULL;
    }
}

static jval *parse_value(parser *p) {
    skip_ws(p);
    if (p->s >= p->end) { p->error = "unexpected end of input"; return NULL; }
    char c = *p->s;
    if (c == '{' || c == '[') return parse_container(p, c == '{');
    if (c == '"') {
        jval *v = new_val(J_STR);
        return (v->str = parse_string(p)) ? v : NULL;
    }
    static const struct { const char *word; jtype t; int b; } lits[] = {
        {"null", J_NULL, 0}, {"true", J_BOOL, 1}, {"false", J_BOOL, 0}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i].word);
        if ((size_t)(p->end - p->s) >= n && memcmp(p->s, lits[i].word, n) == 0) {
            p->s += n;
            jval *v = new_val(lits[i].t);
            v->boolean = lits[i].b;
            return v;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        const char *start = p->s;
        while (p->s < p->end && strchr("+-0123456789.eE", *p->s)) p->s++;
        size_t n = (size_t)(p->s - start);
        char buf[64];
        if (n >= sizeof buf) { p->error = "number too long"; return NULL; }
        memcpy(buf, start, n);
        buf[n] = 0;
        jval *v = new_val(J_NUM);
        if (!fast_number(buf, &v->num)) {
            char *endp;
            v->num = strtod(buf, &endp);
            if (*endp) { p->error = "bad number"; return NULL; }
        }
        return v;
    }
    p->error = "unexpected character";
    return NULL;
}

static jval *get(const jval *obj, const char *key) {
    if (!obj || obj->type != J_OBJ) return NULL;
    for (jval *m = obj->child; m; m = m->next)
        if (strcmp(m->key, key) == 0) return m;
    return NULL;
}

/* An optional block: absent, null and empty ({} or []) all mean absent (region-policies.md). */
static const jval *present(const jval *v) {
    if (!v || v->type == J_NULL) return NULL;
    if ((v->type == J_OBJ || v->type == J_ARR) && !v->child) return NULL;
    return v;
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t len, cap;
} sb;

static void sb_grow(sb *b, size_t n) {
    if (b->len + n + 1 <= b->cap) return;
    while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 4096;
    char *nb = realloc(b->buf, b->cap);
    if (!nb) abort();
    b->buf = nb;
}

static void sb_put(sb *b, const char *s) {
    size_t n = strlen(s);
    sb_grow(b, n);
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
}

static void sb_printf(sb *b, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    sb_grow(b, 256);
    int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if ((size_t)n >= b->cap - b->len) { /* did not fit: grow and format again */
        sb_grow(b, (size_t)n);
        vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

static void sb_json_str(sb *b, const char *s) {
    sb_put(b, "\"");
    for (;;) {
        size_t run = 0; /* copy runs of plain characters at once */
        while (s[run] && s[run] != '"' && s[run] != '\\' && (unsigned char)s[run] >= 0x20) run++;
        sb_grow(b, run);
        memcpy(b->buf + b->len, s, run);
        b->len += run;
        b->buf[b->len] = 0;
        s += run;
        if (!*s) break;
        if (*s == '"') sb_put(b, "\\\"");
        else if (*s == '\\') sb_put(b, "\\\\");
        else sb_printf(b, "\\u%04x", (unsigned char)*s);
        s++;
    }
    sb_put(b, "\"");
}

/* The shortest decimal that reads back as the same double (JSON numbers must be finite). */
static void sb_num(sb *b, double x) {
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        double back;
        if (!fast_number(buf, &back)) back = strtod(buf, NULL);
        if (back == x) break;
    }
    sb_put(b, buf);
}

/* ------------------------------------------------------------------------------------------ */
/* Shared rules (region-policies.md, "Shared definitions")                                    */
/* ------------------------------------------------------------------------------------------ */

/* x rounded to 9 decimals, half away from zero (C's round() is half away from zero). */
static double round9(double x) {
    if (!isfinite(x) || fabs(x) >= 1e9) return x;
    return round(x * 1e9) / 1e9;
}
static int ge9(double a, double b) { return round9(a) >= round9(b); }
static int lt9(double a, double b) { return round9(a) < round9(b); }

/* Reported numbers: 2 decimals, half away from zero, decided on the 9-decimal value in integer
 * billionths (1.005 is 1.00499999… in binary and would otherwise round down). */
static double round2(double x) {
    if (!isfinite(x)) return x;
    double nanos = round(x * 1e9);
    if (fabs(nanos) >= 9.0e18) return round(x * 100.0) / 100.0;
    int64_t n = (int64_t)nanos;
    uint64_t mag = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
    double h = (double)((mag + 5000000) / 10000000);
    return (n < 0 ? -h : h) / 100.0;
}

static const char *const VALUES[7] = {"berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis",
                                      "loyal", "adaptif", "kolaboratif"};

typedef enum { DI_ATAS, SESUAI, DI_BAWAH } rating;
static const char *const RATING[] = {"di_atas", "sesuai", "di_bawah"};
typedef enum { SANGAT_BAIK, BAIK, BUTUH_PERBAIKAN, KURANG, SANGAT_KURANG } predikat;
static const char *const PREDIKAT[] = {"sangat_baik", "baik", "butuh_perbaikan", "kurang", "sangat_kurang"};

/* The PermenPANRB 6/2022 matrix. */
static predikat matrix(rating hk, rating pk) {
    if (hk == DI_ATAS) return pk == DI_ATAS ? SANGAT_BAIK : pk == SESUAI ? BAIK : KURANG;
    if (hk == SESUAI) return pk == DI_BAWAH ? KURANG : BAIK;
    return pk == DI_BAWAH ? SANGAT_KURANG : BUTUH_PERBAIKAN;
}

/* ------------------------------------------------------------------------------------------ */
/* Tenayan Raya appraise                                                                      */
/* ------------------------------------------------------------------------------------------ */

static char error_msg[512];

static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_msg, sizeof error_msg, fmt, ap);
    va_end(ap);
    return 0;
}

/* Reads a rater's seven ratings (integers 1–5) and returns 1, or sets the error and returns 0. */
static int read_ratings(const jval *rater, const char *who, int out[7]) {
    if (!rater || rater->type != J_OBJ) return fail("%s: expected an object of seven ratings", who);
    for (int i = 0; i < 7; i++) {
        const jval *r = get(rater, VALUES[i]);
        if (!r || r->type != J_NUM) return fail("%s: missing rating %s", who, VALUES[i]);
        if (r->num != floor(r->num) || r->num < 1 || r->num > 5)
            return fail("%s: %s is rated %g; ratings must be integers from 1 to 5", who, VALUES[i], r->num);
        out[i] = (int)r->num;
    }
    return 1;
}

static double mean7(const int r[7]) {
    int sum = 0;
    for (int i = 0; i < 7; i++) sum += r[i];
    return (double)sum / 7.0;
}

/* Two decimals for the explanation, from round2, in integer arithmetic (printf's %f goes
 * through 128-bit long double, slow on wasm32). */
static void fmt2(char *buf, size_t n, double x) {
    double r = round2(x);
    if (!(fabs(r) < 9e15)) { snprintf(buf, n, "%.2f", r); return; }
    long long cents = llround(fabs(r) * 100.0);
    snprintf(buf, n, "%s%lld.%02lld", r < 0 && cents ? "-" : "", cents / 100, cents % 100);
}

/* Appends one result to `out`; returns 0 (with error_msg set) to refuse the request. */
static int appraise_case(const jval *c, sb *out) {
    const jval *employee = get(c, "employee");
    const jval *nip = get(employee, "nip");
    if (!nip || nip->type != J_STR) return fail("employee.nip: expected a string");
    const jval *period = get(c, "period");
    const jval *wd = get(period, "working_days");
    if (!wd || wd->type != J_NUM || wd->num < 1) return fail("period.working_days must be at least 1");

    /* HK = C, the weighted mean of capaian (weights default 1; no indicators → 0). */
    double weighted = 0, total_weight = 0;
    const jval *inds = present(get(c, "indicators"));
    int k = 0;
    for (const jval *ind = inds ? inds->child : NULL; ind; ind = ind->next, k++) {
        const jval *t = get(ind, "target"), *r = get(ind, "realization"), *w = get(ind, "weight");
        const jval *dir = get(ind, "direction");
        if (!t || t->type != J_NUM || !(t->num > 0)) return fail("indicators[%d]: target must be > 0", k);
        if (!dir || dir->type != J_STR) return fail("indicators[%d]: direction missing", k);
        int lower = strcmp(dir->str, "lower_is_better") == 0;
        if (!lower && strcmp(dir->str, "higher_is_better") != 0)
            return fail("indicators[%d]: unknown direction %s", k, dir->str);
        double weight = 1;
        if (w && w->type != J_NULL) {
            if (w->type != J_NUM || !(w->num >= 0)) return fail("indicators[%d]: weight must be >= 0", k);
            weight = w->num;
        }
        double cap = 0; /* a null realization counts 0 */
        if (r && r->type != J_NULL) {
            if (r->type != J_NUM) return fail("indicators[%d]: realization must be a number", k);
            double ratio = r->num / t->num;
            cap = lower ? 100.0 * (2.0 - ratio) : 100.0 * ratio;
            cap = cap < 0 ? 0 : cap > 120 ? 120 : cap;
        }
        weighted += cap * weight;
        total_weight += weight;
    }
    if (k > 0 && !(total_weight > 0)) return fail("indicators: the weights add up to 0");
    double hk = k > 0 ? weighted / total_weight : 0;
    rating hasil = ge9(hk, 110) ? DI_ATAS : ge9(hk, 90) ? SESUAI : DI_BAWAH;

    /* Behaviour 360°: S supervisor (0.5), R peers (0.3), U public (0.2), renormalised. */
    const jval *behavior = get(c, "behavior");
    int sup[7], tmp[7];
    if (!read_ratings(get(behavior, "supervisor"), "behavior.supervisor", sup)) return 0;
    double s = mean7(sup);
    const jval *peers = present(get(behavior, "peers"));
    double r_sum = 0;
    int n_peers = 0;
    for (const jval *p = peers ? peers->child : NULL; p; p = p->next, n_peers++) {
        char who[48];
        snprintf(who, sizeof who, "behavior.peers[%d]", n_peers);
        if (!read_ratings(p, who, tmp)) return 0;
        r_sum += mean7(tmp);
    }
    const jval *self = present(get(behavior, "self"));
    if (self && !read_ratings(self, "behavior.self", tmp)) return 0;

    int has_ikm = 0;
    double ikm = 0;
    const jval *pf = present(get(c, "public_feedback"));
    if (pf) {
        const jval *i = get(pf, "ikm"), *n = get(pf, "respondents");
        if (!n || n->type != J_NUM || n->num < 0) return fail("public_feedback.respondents: expected a count");
        if (n->num > 0) { /* a survey nobody answered is ignored */
            if (!i || i->type != J_NUM || !(i->num >= 1 && i->num <= 4))
                return fail("public_feedback.ikm must be within 1–4");
            has_ikm = 1;
            ikm = i->num;
        }
    }

    struct { const char *name; double value, weight; } parts[3];
    int np = 0;
    parts[np].name = "supervisor"; parts[np].value = s; parts[np++].weight = 0.5;
    if (n_peers > 0) { parts[np].name = "peers"; parts[np].value = r_sum / n_peers; parts[np++].weight = 0.3; }
    if (has_ikm) { parts[np].name = "public"; parts[np].value = 1.0 + (ikm - 1.0) * 4.0 / 3.0; parts[np++].weight = 0.2; }
    double wsum = 0, bsum = 0;
    for (int i = 0; i < np; i++) wsum += parts[i].weight;
    for (int i = 0; i < np; i++) bsum += parts[i].value * parts[i].weight;
    double b = bsum / wsum;

    int rated_one = 0;
    for (int i = 0; i < 7; i++) rated_one |= sup[i] == 1;
    rating perilaku = (lt9(b, 3.0) || rated_one) ? DI_BAWAH : ge9(b, 4.25) ? DI_ATAS : SESUAI;
    predikat pred = matrix(hasil, perilaku);
    double raw_score = 0.6 * hk + 0.4 * (20.0 * b);
    if (!isfinite(raw_score)) return fail("score is not a finite number: some input is out of range");
    double score = round2(raw_score);
    int poor_service = has_ikm && lt9(ikm * 25.0, 76.61);

    /* ---- the result ---- */
    sb_put(out, "{\"nip\":");
    sb_json_str(out, nip->str);
    sb_printf(out, ",\"hasil_kerja\":\"%s\",\"perilaku_kerja\":\"%s\",\"predikat\":\"%s\",\"score\":",
              RATING[hasil], RATING[perilaku], PREDIKAT[pred]);
    sb_num(out, score);

    sb_put(out, ",\"components\":[{\"name\":\"capaian\",\"value\":");
    sb_num(out, hk);
    sb_put(out, "}");
    for (int i = 0; i < np; i++) {
        sb_printf(out, ",{\"name\":\"%s\",\"value\":", parts[i].name);
        sb_num(out, parts[i].value);
        sb_put(out, ",\"weight\":");
        sb_num(out, parts[i].weight / wsum);
        sb_put(out, "}");
    }
    sb_put(out, ",{\"name\":\"behavior\",\"value\":");
    sb_num(out, b);
    sb_put(out, "}]");

    /* Recommendations in the policy order; none can repeat here (pelayanan_prima is no
     * BerAKHLAK value, and each value appears once). */
    sb_put(out, ",\"recommendations\":[");
    const char *sep = "";
    if (pred == SANGAT_BAIK) { sb_put(out, "{\"kind\":\"reward\"}"); sep = ","; }
    if (pred == BUTUH_PERBAIKAN || pred == KURANG || pred == SANGAT_KURANG) {
        sb_printf(out, "%s{\"kind\":\"coaching\"}", sep);
        sep = ",";
    }
    if (poor_service) { sb_printf(out, "%s{\"kind\":\"training\",\"subject\":\"pelayanan_prima\"}", sep); sep = ","; }
    for (int i = 0; i < 7; i++)
        if (sup[i] <= 2) { sb_printf(out, "%s{\"kind\":\"training\",\"subject\":\"%s\"}", sep, VALUES[i]); sep = ","; }
    sb_put(out, "]");

    char hk2[32], b2[32], ikm2[32], score2[32];
    fmt2(score2, sizeof score2, score);
    fmt2(hk2, sizeof hk2, hk);
    fmt2(b2, sizeof b2, b);
    fmt2(ikm2, sizeof ikm2, ikm * 25.0);
    sb explanation = {0};
    sb_printf(&explanation, "HK %s %s → %s; B from", hk2,
              hasil == DI_ATAS ? "≥ 110" : hasil == SESUAI ? "≥ 90" : "< 90", RATING[hasil]);
    for (int i = 0; i < np; i++) {
        char v2[32], w2[32];
        fmt2(v2, sizeof v2, parts[i].value);
        fmt2(w2, sizeof w2, parts[i].weight / wsum);
        sb_printf(&explanation, "%s %s %s (weight %s)", i ? "," : "", parts[i].name, v2, w2);
    }
    sb_printf(&explanation, " = %s → %s%s; matrix (%s, %s) → %s; score = 0.6 HK + 0.4 × 20 B = %s",
              b2, RATING[perilaku], rated_one ? " (a value rated 1)" : "", RATING[hasil], RATING[perilaku],
              PREDIKAT[pred], score2);
    if (has_ikm)
        sb_printf(&explanation, "; IKM %g × 25 = %s%s", ikm, ikm2,
                  poor_service ? " < 76.61 (grade C/D) → pelayanan_prima training" : "");
    sb_put(out, ",\"explanation\":");
    sb_json_str(out, explanation.buf);
    sb_put(out, "}");
    return 1;
}

static void write_all(const char *s, size_t n) {
    fwrite(s, 1, n, stdout);
    fflush(stdout);
}

static void refuse(const char *message) {
    sb b = {0};
    sb_put(&b, "{\"error\":{\"message\":");
    sb_json_str(&b, message);
    sb_put(&b, "}}");
    write_all(b.buf, b.len);
    fprintf(stderr, "refused: %s\n", message);
}

/* The hook: ABI 1 reactor export, type () -> (). */
__attribute__((export_name("appraise"))) void appraise(void) {
    /* Read the whole of stdin. */
    size_t cap = 1 << 16, len = 0, n;
    char *in = xmalloc(cap);
    while ((n = fread(in + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            if (!(in = realloc(in, cap))) abort();
        }
    }

    parser p = {in, in + len, NULL, 0};
    jval *req = parse_value(&p);
    if (req) {
        skip_ws(&p);
        if (p.s != p.end) p.error = "trailing data after the document";
    }
    if (!req || p.error) {
        char msg[128];
        snprintf(msg, sizeof msg, "invalid request: %s at byte %ld", p.error, (long)(p.s - in));
        refuse(msg);
        return;
    }
    const jval *abi = get(req, "abi"), *hook = get(req, "hook");
    if (!abi || abi->type != J_NUM || abi->num != 1) { refuse("unsupported abi: this plugin speaks ABI 1"); return; }
    if (!hook || hook->type != J_STR || strcmp(hook->str, "appraise") != 0) {
        refuse("request is not for the appraise hook");
        return;
    }
    const jval *cases = get(req, "cases");
    if (!cases || cases->type != J_ARR) { refuse("invalid request: cases must be an array"); return; }

    sb out = {0};
    sb_put(&out, "{\"results\":[");
    int i = 0;
    for (const jval *c = cases->child; c; c = c->next, i++) {
        if (i) sb_put(&out, ",");
        if (!appraise_case(c, &out)) {
            char msg[700];
            const jval *nip = get(get(c, "employee"), "nip");
            snprintf(msg, sizeof msg, "cases[%d] (nip %s): %s", i,
                     nip && nip->type == J_STR ? nip->str : "?", error_msg);
            refuse(msg);
            return;
        }
    }
    sb_put(&out, "]}");
    write_all(out.buf, out.len);
}
