//! Property-based fuzzing of the record routes over HTTP: arbitrary JSON bodies (random shapes,
//! wrong types, huge strings, deep nesting, odd unicode, extreme numbers, NaN-like strings, bytes
//! that are not JSON at all) and arbitrary path segments (`..`, `%2F`, unicode, very long ids,
//! wrong NIPs) against PUT agencies, positions, employees and periods and POST activities.
//!
//! Every answer must be: below 500; a 4xx in the `{"error": {"code", "message"}}` format with a
//! non-empty message; a 2xx only when the path is valid and the body conforms to the request
//! schema the server documents (and then the record reads back as answered); and a body built to
//! be valid on a known path gets its 2xx. Afterwards the server still answers `/health` and a
//! record stored before the fuzzing reads back byte for byte.
//!
//! `KINERJA_FUZZ_CASES` (default 300) and `KINERJA_FUZZ_SEED` (default fixed, so CI is stable)
//! change the run; a failure prints the shrunk case.

use kinerja_tests::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value};
use std::time::Duration;

const NEW_NIP: &str = "199203042016021004";
const SENTINEL: &str = "sentinel";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    Agency,
    Position,
    Employee,
    Period,
    Activities,
}

/// What a body was built to be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Valid by construction: on a known path it must be accepted.
    Valid,
    /// Invalid by construction (missing required field, unknown field, wrong type, not JSON,
    /// too large, wrong content type): it must be refused.
    Invalid,
    /// Could be either; only the general rules apply.
    Unknown,
}

#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    /// Bytes sent as they are.
    Raw(Vec<u8>),
    /// `depth` nested arrays (or objects), made at send time.
    Nested {
        depth: usize,
        objects: bool,
    },
    /// A JSON string of this many bytes, made at send time: larger than the body limit.
    Oversize(usize),
}

impl Body {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(v).unwrap(),
            Body::Raw(b) => b.clone(),
            Body::Nested {
                depth,
                objects: false,
            } => format!("{}{}", "[".repeat(*depth), "]".repeat(*depth)).into_bytes(),
            Body::Nested {
                depth,
                objects: true,
            } => format!("{}1{}", "{\"a\":".repeat(*depth), "}".repeat(*depth)).into_bytes(),
            Body::Oversize(n) => format!("{{\"name\":\"{}\"}}", "x".repeat(*n)).into_bytes(),
        }
    }
}

/// A path segment as sent (percent-encoded) and whether it names a record the fixture has, so
/// that a valid body on it must succeed.
type Seg = (String, bool);

#[derive(Debug, Clone)]
struct Case {
    route: Route,
    segs: Vec<Seg>,
    content_type: Option<&'static str>,
    body: Body,
    expect: Expect,
}

impl Case {
    fn path(&self) -> String {
        let s: Vec<&str> = self.segs.iter().map(|(s, _)| s.as_str()).collect();
        match self.route {
            Route::Agency => format!("/api/v1/regions/{}/agencies/{}", s[0], s[1]),
            Route::Position => format!("/api/v1/regions/{}/positions/{}", s[0], s[1]),
            Route::Employee => format!("/api/v1/regions/{}/employees/{}", s[0], s[1]),
            Route::Period => format!(
                "/api/v1/regions/{}/employees/{}/periods/{}",
                s[0], s[1], s[2]
            ),
            Route::Activities => format!("/api/v1/regions/{}/employees/{}/activities", s[0], s[1]),
        }
    }

    /// Whether the server may accept this request at all: every segment as the server decodes
    /// it passes the domain's rules, and the content type is JSON.
    fn path_valid(&self) -> bool {
        let decoded: Vec<Option<String>> =
            self.segs.iter().map(|(s, _)| percent_decode(s)).collect();
        let Some(d) = decoded.into_iter().collect::<Option<Vec<String>>>() else {
            return false;
        };
        // The test server serves the demo's regions; no other exists.
        let region = kinerja::demo::DEMO_REGIONS.iter().any(|(r, ..)| *r == d[0]);
        let second = match self.route {
            Route::Agency | Route::Position => kinerja::domain::validate_id("id", &d[1]).is_ok(),
            _ => kinerja::domain::nip::Nip::parse(&d[1]).is_ok(),
        };
        let third =
            self.route != Route::Period || kinerja::domain::period::Period::parse(&d[2]).is_ok();
        region && second && third
    }

    fn json_content_type(&self) -> bool {
        self.content_type
            .is_some_and(|c| c.starts_with("application/json") || c.contains("+json"))
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `None` when the bytes are not UTF-8, which the server refuses.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |at: usize| b.get(at).and_then(|c| (*c as char).to_digit(16));
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------------------------------------
// Generators

fn strings() -> impl Strategy<Value = String> {
    let odd = [
        "",
        " ",
        "\t\n",
        "NaN",
        "-NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1e999",
        "-0",
        "null",
        "true",
        "0x1F",
        "2026-02-30",
        "2026-01-05",
        "1899-12-31",
        "disdik",
        "disdik-staf",
        "fungsional",
        "tinggi",
        "utama",
        "higher_is_better",
        "\u{0}",
        "\u{FEFF}",
        "\u{202E}lihat",
        "a\u{301}",
        "😀",
        "𝕜𝕚𝕟𝕖𝕣𝕛𝕒",
        "../../etc/passwd",
        "%2F",
        "<script>alert(1)</script>",
        "'; DROP TABLE x; --",
        "\u{FFFF}",
        "\u{10FFFF}",
    ];
    prop_oneof![
        4 => any::<String>(),
        2 => "\\PC{0,30}",
        3 => prop::sample::select(odd.to_vec()).prop_map(String::from),
        1 => prop::sample::select(vec![499usize, 500, 501, 4000, 4001, 70_000, 1_000_000]).prop_map(|n| "x".repeat(n)),
        1 => prop::sample::select(vec![250usize, 501, 4001]).prop_map(|n| "é".repeat(n)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    let ints: Vec<i64> = vec![
        0,
        -1,
        1,
        5,
        6,
        20,
        21,
        255,
        256,
        1440,
        1441,
        100_000,
        100_001,
        i64::MIN,
        i64::MAX,
        4_294_967_295,
        4_294_967_296,
    ];
    let floats: Vec<f64> = vec![
        0.0,
        -0.0,
        0.5,
        1e-320,
        5e-324,
        1e308,
        -1e308,
        f64::MAX,
        f64::MIN_POSITIVE,
        1e15,
        4.000001,
        0.999999,
        1e6,
        1e6 + 1.0,
    ];
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        2 => prop::sample::select(ints).prop_map(Value::from),
        2 => prop::sample::select(floats).prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        4 => strings().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    let known = [
        "name",
        "title",
        "agency",
        "kind",
        "level",
        "required",
        "capacity",
        "tasks",
        "task",
        "volume",
        "position_id",
        "position_since",
        "competencies",
        "potential",
        "declined_rotation",
        "indicators",
        "behavior",
        "innovations",
        "process",
        "budget",
        "public_feedback",
        "working_days",
        "date",
        "description",
        "minutes",
        "id",
        "target",
        "realization",
        "weight",
        "unit",
        "direction",
        "supervisor",
        "peers",
        "self",
        "planned",
        "realized",
        "ikm",
        "respondents",
        "__proto__",
        "",
    ];
    prop_oneof![3 => prop::sample::select(known.to_vec()).prop_map(String::from), 1 => strings().prop_map(|s| s.chars().take(40).collect())]
}

fn arb_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Bodies that are not JSON, or not the JSON a parser should take.
fn raw_hostile() -> impl Strategy<Value = (Body, Expect)> {
    let texts: Vec<&'static [u8]> = vec![
        b"",
        b" ",
        b"{",
        b"}",
        b"[",
        b"{\"name\": ",
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"1e999",
        b"{\"name\": NaN}",
        b"{\"minutes\": 1e999}",
        b"{\"level\": 01}",
        b"{\"level\": 0x10}",
        b"{\"level\": +1}",
        b"{'name': 'x'}",
        b"{\"name\": \"x\",}",
        b"\xef\xbb\xbf{\"name\": \"x\"}",
        b"{\"name\": \"\xff\xfe\"}",
        b"{\"name\": \"\\ud800\"}",
        b"{\"name\": \"a\"} trailing",
        b"{\"name\": \"a\", \"name\": \"b\"}",
        b"\x00\x00\x00",
        b"null",
        b"[]",
        b"[[]]",
        b"{\"date\": \"2026-01-05\", \"description\": \"x\", \"minutes\": 5.5}",
    ];
    prop_oneof![
        4 => prop::sample::select(texts).prop_map(|t| (Body::Raw(t.to_vec()), Expect::Invalid)),
        // Random bytes could, however unlikely, spell `{}`.
        2 => prop::collection::vec(any::<u8>(), 0..256).prop_map(|b| (Body::Raw(b), Expect::Unknown)),
        2 => (prop::sample::select(vec![64usize, 127, 128, 129, 1000, 100_000]), any::<bool>())
            .prop_map(|(depth, objects)| (Body::Nested { depth, objects }, Expect::Invalid)),
        1 => Just((Body::Oversize(2 * 1024 * 1024 + 1), Expect::Invalid)),
    ]
}

fn valid_body(route: Route) -> Value {
    match route {
        Route::Agency => json!({"name": "Dinas Baru"}),
        Route::Position => {
            json!({"title": "Analis Data", "agency": "disdik", "kind": "fungsional", "level": 3,
                                  "required": {"integritas": 3}, "capacity": 5})
        }
        Route::Employee => employee_body("disdik", "staf", "2021-03-01"),
        // Without its innovation, which is dated in 2026 and must lie within the period: the
        // record is then valid for both periods the fixture knows, 2025 and 2026.
        Route::Period => {
            let mut b = period_body();
            if let Some(o) = b.as_object_mut() {
                o.remove("innovations");
            }
            b
        }
        Route::Activities => {
            json!([{"date": "2026-01-05", "description": "Rapat koordinasi", "minutes": 60},
                                    {"date": "2026-01-06", "description": "Laporan", "minutes": 90}])
        }
    }
}

/// Top-level fields the server requires.
fn required(route: Route) -> &'static [&'static str] {
    match route {
        Route::Agency => &["name"],
        Route::Position => &["title", "agency", "kind", "level", "capacity"],
        Route::Employee => &["name", "agency", "position_id", "position_since"],
        Route::Period => &[],
        Route::Activities => &[],
    }
}

/// JSON pointers of every value inside `v`, with the value.
fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| leaves(x, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, format!("{at}/{i}"), out)),
        _ => out.push((at, v.clone())),
    }
}

/// Objects inside `v` whose keys are fixed (maps such as `required` or `process` take any key).
fn structs(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            let is_map = ["/required", "/competencies", "/process"]
                .iter()
                .any(|m| at.ends_with(m));
            if !is_map {
                out.push(at.clone());
            }
            o.iter()
                .for_each(|(k, x)| structs(x, format!("{at}/{k}"), out));
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| structs(x, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// A value of another JSON type than `v`, and never null (optional fields take null).
fn other_type(v: &Value, pick: &Value) -> Value {
    let same = |a: &Value, b: &Value| std::mem::discriminant(a) == std::mem::discriminant(b);
    if !pick.is_null() && !same(v, pick) {
        return pick.clone();
    }
    match v {
        Value::String(_) => json!(12),
        Value::Number(_) => json!("12"),
        Value::Bool(_) => json!([true]),
        _ => json!({"x": 1}),
    }
}

/// A valid body, changed once: some changes make it invalid for sure, others may or may not.
fn mutated(route: Route) -> impl Strategy<Value = (Body, Expect)> {
    (0u8..6, any::<prop::sample::Index>(), arb_json(), key()).prop_map(move |(op, idx, val, k)| {
        let mut body = valid_body(route);
        let mut leaf_list = Vec::new();
        leaves(&body, String::new(), &mut leaf_list);
        let expect = match op {
            // Drop a field.
            0 => {
                let (ptr, _) = idx.get(&leaf_list).clone();
                let (parent, last) = ptr.rsplit_once('/').unwrap();
                let top_required = parent.is_empty() && required(route).contains(&last);
                match body.pointer_mut(if parent.is_empty() { "" } else { parent }) {
                    Some(Value::Object(o)) => {
                        o.remove(last);
                    }
                    Some(Value::Array(a)) => {
                        let i: usize = last.parse().unwrap();
                        a.remove(i);
                    }
                    _ => {}
                }
                if top_required {
                    Expect::Invalid
                } else {
                    Expect::Unknown
                }
            }
            // An unknown field in an object that denies them.
            1 => {
                let mut objs = Vec::new();
                structs(&body, String::new(), &mut objs);
                let at = idx.get(&objs).clone();
                let name = format!(
                    "zz_{}",
                    k.chars()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .take(20)
                        .collect::<String>()
                );
                if let Some(Value::Object(o)) = body.pointer_mut(&at) {
                    o.insert(name, val);
                }
                Expect::Invalid
            }
            // A value of the wrong JSON type.
            2 => {
                let (ptr, old) = idx.get(&leaf_list).clone();
                if let Some(slot) = body.pointer_mut(&ptr) {
                    *slot = other_type(&old, &val);
                }
                Expect::Invalid
            }
            // Any value at all.
            3 => {
                let (ptr, _) = idx.get(&leaf_list).clone();
                if let Some(slot) = body.pointer_mut(&ptr) {
                    *slot = val;
                }
                Expect::Unknown
            }
            // An object sent as the array of its values, which serde's derived structs take.
            4 => {
                let mut objs = Vec::new();
                structs(&body, String::new(), &mut objs);
                let at = idx.get(&objs).clone();
                if let Some(slot) = body.pointer_mut(&at) {
                    let values: Vec<Value> = slot
                        .as_object()
                        .map(|o| o.values().cloned().collect())
                        .unwrap_or_default();
                    *slot = Value::Array(values);
                }
                Expect::Invalid
            }
            // Something else entirely in place of the body.
            _ => {
                body = val;
                Expect::Unknown
            }
        };
        (Body::Json(body), expect)
    })
}

fn body(route: Route) -> impl Strategy<Value = (Body, Expect)> {
    prop_oneof![
        3 => Just((Body::Json(valid_body(route)), Expect::Valid)),
        5 => mutated(route),
        2 => arb_json().prop_map(|v| (Body::Json(v), Expect::Unknown)),
        2 => raw_hostile(),
    ]
}

fn hostile_segment() -> impl Strategy<Value = Seg> {
    let lit = [
        "..",
        ".",
        "%2F",
        "a%2Fb",
        "%2e%2e",
        "%2e%2e%2f%2e%2e%2fetc",
        "%00",
        "%FF%FE",
        "a%20b",
        "%E2%80%AE",
        "A",
        "-x",
        "a.b",
        "disdik%2F..",
        "%25",
        "%",
    ];
    prop_oneof![
        3 => prop::sample::select(lit.to_vec()).prop_map(String::from),
        1 => Just("x".repeat(65)),
        1 => Just("y".repeat(5000)),
        1 => Just("9".repeat(10_000)),
        3 => any::<String>().prop_map(|s| percent_encode(&s)),
        2 => "[a-z0-9_-]{1,80}",
    ]
    .prop_filter("not the sentinel", |s| !s.contains(SENTINEL))
    .prop_map(|s| (s, false))
}

fn region() -> impl Strategy<Value = Seg> {
    prop_oneof![
        8 => Just(("jambi".to_string(), true)),
        1 => Just(("jakarta".to_string(), false)),
        1 => prop::sample::select(vec!["JAMBI", "atlantis", "jambi%00", "jamb%C3%AC", "tenayan%20raya"]).prop_map(|s| (s.to_string(), false)),
        2 => hostile_segment(),
    ]
}

fn id(known: &'static [&'static str]) -> impl Strategy<Value = Seg> {
    prop_oneof![
        4 => prop::sample::select(known.to_vec()).prop_map(|s| (s.to_string(), true)),
        1 => "[a-z0-9][a-z0-9_-]{0,63}".prop_filter("not the sentinel", |s| !s.contains(SENTINEL)).prop_map(|s| (s, false)),
        1 => Just(("z".repeat(64), false)),
        3 => hostile_segment(),
    ]
}

fn nip(known: &'static [&'static str]) -> impl Strategy<Value = Seg> {
    let wrong = [
        "12345",
        "19850312201001100a",
        "198502302010011001",
        "198503122010131001",
        "198503122003021001",
        "198503122010013001",
        "1985031220100110011",
        "19850312201001100",
        "000000000000000000",
        "198503122010011001%20",
        "%20198503122010011001",
        "%EF%BC%91%EF%BC%99%EF%BC%98%EF%BC%95",
        "-98503122010011001",
        "+98503122010011001",
    ];
    prop_oneof![
        5 => prop::sample::select(known.to_vec()).prop_map(|s| (s.to_string(), true)),
        2 => "[0-9]{18}".prop_filter("not the sentinel", |s| s != NIP2).prop_map(|s| (s, false)),
        3 => prop::sample::select(wrong.to_vec()).prop_map(|s| (s.to_string(), false)),
        2 => hostile_segment(),
    ]
}

fn period() -> impl Strategy<Value = Seg> {
    let wrong = [
        "2026-Q5",
        "2026-Q0",
        "1999",
        "2101",
        "2026-13",
        "2026-00",
        "26",
        "2026-1",
        "2026/01",
        "２０２６",
        "2026-q1",
    ];
    prop_oneof![
        5 => prop::sample::select(vec!["2026", "2025"]).prop_map(|s| (s.to_string(), true)),
        2 => prop::sample::select(vec!["2026-Q1", "2026-03", "2100", "2000-12"]).prop_map(|s| (s.to_string(), false)),
        2 => "20[0-9]{2}(-Q[0-9]|-[0-9]{2})?".prop_map(|s| (s, false)),
        2 => prop::sample::select(wrong.to_vec()).prop_map(|s| (percent_encode(s), false)),
        2 => hostile_segment(),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        12 => Just(Some("application/json")),
        1 => Just(Some("application/json; charset=utf-8")),
        1 => Just(Some("application/problem+json")),
        1 => Just(None),
        1 => prop::sample::select(vec!["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/wasm", "json"]).prop_map(Some),
    ]
}

/// Segments the fixture has, so that a valid body there must be accepted.
fn known_segs(route: Route) -> BoxedStrategy<Vec<Seg>> {
    let k = |s: &str| (s.to_string(), true);
    let r = k("jambi");
    match route {
        Route::Agency => prop::sample::select(vec!["disdik", "baru"])
            .prop_map(move |a| vec![r.clone(), k(a)])
            .boxed(),
        Route::Position => prop::sample::select(vec!["disdik-baru", "analis-data"])
            .prop_map(move |p| vec![r.clone(), k(p)])
            .boxed(),
        Route::Employee => prop::sample::select(vec![NIP, NEW_NIP])
            .prop_map(move |n| vec![r.clone(), k(n)])
            .boxed(),
        Route::Period => prop::sample::select(vec!["2026", "2025"])
            .prop_map(move |p| vec![r.clone(), k(NIP), k(p)])
            .boxed(),
        Route::Activities => Just(vec![r, k(NIP)]).boxed(),
    }
}

fn fuzzed_segs(route: Route) -> BoxedStrategy<Vec<Seg>> {
    match route {
        Route::Agency => (region(), id(&["disdik", "baru"]))
            .prop_map(|(a, b)| vec![a, b])
            .boxed(),
        Route::Position => (region(), id(&["disdik-baru", "analis-data"]))
            .prop_map(|(a, b)| vec![a, b])
            .boxed(),
        Route::Employee => (region(), nip(&[NIP, NEW_NIP]))
            .prop_map(|(a, b)| vec![a, b])
            .boxed(),
        Route::Period => (region(), nip(&[NIP]), period())
            .prop_map(|(a, b, c)| vec![a, b, c])
            .boxed(),
        Route::Activities => (region(), nip(&[NIP]))
            .prop_map(|(a, b)| vec![a, b])
            .boxed(),
    }
}

fn case() -> impl Strategy<Value = Case> {
    let route = prop::sample::select(vec![
        Route::Agency,
        Route::Position,
        Route::Employee,
        Route::Period,
        Route::Activities,
    ]);
    route.prop_flat_map(|route| {
        // Half the cases fuzz the body on a path that exists, half fuzz the path as well.
        let segs = prop_oneof![known_segs(route), fuzzed_segs(route)];
        (segs, content_type(), body(route)).prop_map(move |(segs, content_type, (body, expect))| {
            Case {
                route,
                segs,
                content_type,
                body,
                expect,
            }
        })
    })
}

// ---------------------------------------------------------------------------------------------
// The properties

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
    text: String,
}

struct Fuzz {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
    schemas: Schemas,
}

struct Schemas {
    agency: jsonschema::Validator,
    position: jsonschema::Validator,
    employee: jsonschema::Validator,
    period: jsonschema::Validator,
    activity: jsonschema::Validator,
}

impl Schemas {
    /// The request schemas from the server's own OpenAPI document.
    fn load() -> Schemas {
        let doc = serde_json::to_value(kinerja::api::openapi()).unwrap();
        let components = doc["components"].clone();
        let v = |name: &str| {
            let schema =
                json!({"components": components, "$ref": format!("#/components/schemas/{name}")});
            jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        Schemas {
            agency: v("AgencyInput"),
            position: v("PositionInput"),
            employee: v("EmployeeInput"),
            period: v("PeriodInput"),
            activity: v("ActivityInput"),
        }
    }

    fn conforms(&self, route: Route, body: &Value) -> bool {
        match route {
            Route::Agency => self.agency.is_valid(body),
            Route::Position => self.position.is_valid(body),
            Route::Employee => self.employee.is_valid(body),
            Route::Period => self.period.is_valid(body),
            Route::Activities => match body {
                Value::Array(items) => {
                    (1..=10_000).contains(&items.len())
                        && items.iter().all(|i| self.activity.is_valid(i))
                }
                one => self.activity.is_valid(one),
            },
        }
    }
}

impl Fuzz {
    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Answer {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        let r = rb
            .send()
            .unwrap_or_else(|e| panic!("{path}: the request failed: {e:?}"));
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = r.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            body,
            text,
        }
    }

    fn check(
        &self,
        case: &Case,
        tally: &mut std::collections::BTreeMap<String, usize>,
    ) -> Result<(), TestCaseError> {
        let path = case.path();
        let method = if case.route == Route::Activities {
            reqwest::Method::POST
        } else {
            reqwest::Method::PUT
        };
        let bytes = case.body.bytes();
        let a = self.send(method, &path, case.content_type, Some(bytes.clone()));
        let shown = || {
            format!(
                "{} {path} -> {} {}",
                case.route_name(),
                a.status,
                a.text.chars().take(300).collect::<String>()
            )
        };
        *tally
            .entry(format!("{:?} {}", case.route, a.status))
            .or_default() += 1;
        prop_assert!(a.status < 500, "a server error: {}", shown());
        if a.status >= 400 {
            prop_assert!(
                a.content_type.starts_with("application/json"),
                "a {} in {}: {}",
                a.status,
                a.content_type,
                shown()
            );
            prop_assert!(
                [400, 404, 405, 413, 415].contains(&a.status),
                "an unexpected status: {}",
                shown()
            );
            let e = &a.body["error"];
            let code = e["code"].as_str().unwrap_or("");
            let message = e["message"].as_str().unwrap_or("");
            prop_assert!(
                !code.is_empty() && !message.trim().is_empty(),
                "not the error format: {}",
                shown()
            );
            prop_assert!(
                a.body.as_object().is_some_and(|o| o.len() == 1),
                "more than `error` in an error: {}",
                shown()
            );
        }
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        let valid_path = case.path_valid() && case.json_content_type();
        let conforms = parsed
            .as_ref()
            .is_some_and(|v| self.schemas.conforms(case.route, v));
        if (200..300).contains(&a.status) {
            let want = if case.route == Route::Activities {
                201
            } else {
                200
            };
            prop_assert_eq!(a.status, want, "{}", shown());
            prop_assert!(
                valid_path,
                "accepted on an invalid path or content type: {}",
                shown()
            );
            prop_assert!(
                case.expect != Expect::Invalid,
                "accepted a body built to be invalid: {}",
                shown()
            );
            prop_assert!(
                conforms,
                "accepted a body that breaks the documented request schema: {}",
                shown()
            );
            prop_assert!(
                a.content_type.starts_with("application/json"),
                "{}",
                shown()
            );
            if case.route != Route::Activities {
                // What was answered is what is stored.
                let back = self.send(reqwest::Method::GET, &path, None, None);
                prop_assert_eq!(back.status, 200, "read back: {}", back.text);
                let stored = back.body.as_object().cloned().unwrap_or_default();
                for (k, v) in a.body.as_object().into_iter().flatten() {
                    prop_assert_eq!(
                        stored.get(k),
                        Some(v),
                        "field `{}` reads back differently: {}",
                        k,
                        back.text
                    );
                }
            }
        } else if case.expect == Expect::Valid
            && valid_path
            && case.segs.iter().all(|(_, known)| *known)
        {
            prop_assert!(
                false,
                "a valid body on a known path was refused: {}",
                shown()
            );
        }
        Ok(())
    }
}

impl Case {
    fn route_name(&self) -> &'static str {
        match self.route {
            Route::Activities => "POST",
            _ => "PUT",
        }
    }
}

/// The record that no generated request may touch, read as a whole.
fn snapshot(c: &Client) -> Vec<String> {
    let r = "/api/v1/regions/jambi";
    [
        format!("{r}/agencies/{SENTINEL}"),
        format!("{r}/positions/{SENTINEL}-staf"),
        format!("{r}/employees/{NIP2}"),
        format!("{r}/employees/{NIP2}/periods/2026"),
        format!("{r}/employees/{NIP2}/activities"),
    ]
    .iter()
    .map(|p| {
        let got = c.get(p);
        assert_eq!(got.status, 200, "{p}: {}", got.text);
        got.text
    })
    .collect()
}

#[test]
fn record_routes_survive_arbitrary_input() {
    let s = TestServer::start();
    let c = s.client();
    seed_agency(&c, "jambi", "disdik");
    let r = c.put(
        &format!("/api/v1/regions/jambi/employees/{NIP}"),
        &employee_body("disdik", "staf", "2021-03-01"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    seed_agency(&c, "jambi", SENTINEL);
    let r = c.put(
        &format!("/api/v1/regions/jambi/employees/{NIP2}"),
        &employee_body(SENTINEL, "analis", "2020-01-01"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = c.put(
        &format!("/api/v1/regions/jambi/employees/{NIP2}/periods/2026"),
        &period_body(),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = c.post(
        &format!("/api/v1/regions/jambi/employees/{NIP2}/activities"),
        &json!({"date": "2026-02-02", "description": "Arsip", "minutes": 30}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let before = snapshot(&c);

    let cases = std::env::var("KINERJA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("KINERJA_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x004b_494e_4552_4a41);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 500,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let fuzz = Fuzz {
        base: s.base.clone(),
        token: s.admin.clone(),
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        schemas: Schemas::load(),
    };
    let tally = std::cell::RefCell::new(std::collections::BTreeMap::new());
    let started = std::time::Instant::now();
    let result = runner.run(&case(), |case| fuzz.check(&case, &mut tally.borrow_mut()));
    let tally = tally.into_inner();
    eprintln!(
        "{cases} cases (seed {seed}) in {:?}; answers by route and status: {tally:?}",
        started.elapsed()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    for route in ["Agency", "Position", "Employee", "Period", "Activities"] {
        let ok = tally
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{route} 2")))
            .map(|(_, n)| n)
            .sum::<usize>();
        assert!(
            ok > 0,
            "no {route} request was accepted: the fuzzing never got past validation"
        );
    }

    assert_eq!(
        c.anonymous().get("/health").status,
        200,
        "the server no longer answers"
    );
    assert_eq!(c.anonymous().get("/ready").status, 200);
    assert_eq!(snapshot(&c), before, "a record no request named changed");
}
