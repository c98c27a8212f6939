//! The API record schemas in `schemas/api/` are generated from the Rust types (through the
//! OpenAPI document utoipa derives from them). This test fails when the committed files drift;
//! `KINERJA_BLESS=1` rewrites them.

use serde_json::{json, Map, Value};
use std::path::Path;

/// The records a client sends or reads, by their component names.
const RECORDS: [&str; 26] = [
    "RegionInput",
    "Region",
    "AgencyInput",
    "Agency",
    "PositionInput",
    "Position",
    "PositionView",
    "EmployeeInput",
    "Employee",
    "PeriodInput",
    "PeriodRecord",
    "ActivityInput",
    "Activity",
    "Decision",
    "TokenRecord",
    "AuditEvent",
    "Activation",
    "PluginUpload",
    "ErrorBody",
    "Verdict",
    "ImpactInput",
    "Impact",
    "OrgPredikatInput",
    "OrgPredikatRecord",
    "Distribution",
    "Appraisal",
];

/// Rewrites OpenAPI component references into JSON Schema `$defs` references.
fn rewrite(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref") {
                *r = r.replace("#/components/schemas/", "#/$defs/");
            }
            o.values_mut().for_each(rewrite);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite),
        _ => {}
    }
}

/// The component names a schema refers to, transitively.
fn refs(v: &Value, all: &Map<String, Value>, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    if out.insert(name.to_string()) {
                        if let Some(s) = all.get(name) {
                            refs(s, all, out);
                        }
                    }
                }
            }
            o.values().for_each(|x| refs(x, all, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, all, out)),
        _ => {}
    }
}

#[test]
fn api_record_schemas_match_the_types() {
    let doc = serde_json::to_value(kinerja::api::openapi()).unwrap();
    let comps = doc["components"]["schemas"]
        .as_object()
        .expect("components")
        .clone();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/api");
    let bless = std::env::var("KINERJA_BLESS").is_ok();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut drift = Vec::new();
    for name in RECORDS {
        let mut schema = comps
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in the OpenAPI components"))
            .clone();
        let mut used = std::collections::BTreeSet::new();
        refs(&schema, &comps, &mut used);
        let mut defs = Map::new();
        for u in used {
            defs.insert(u.clone(), comps[&u].clone());
        }
        let mut out = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": format!("https://kinerja.example/schemas/api/{name}.json"), "title": name});
        if let (Some(o), Value::Object(s)) = (out.as_object_mut(), &mut schema) {
            o.extend(std::mem::take(s));
            if !defs.is_empty() {
                o.insert("$defs".into(), Value::Object(defs));
            }
        }
        rewrite(&mut out);
        let text = serde_json::to_string_pretty(&out).unwrap() + "\n";
        let path = dir.join(format!("{name}.json"));
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            drift.push(path.display().to_string());
        }
        // Every generated schema compiles as draft 2020-12.
        jsonschema::draft202012::new(&out).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(
        drift.is_empty(),
        "schemas drifted from the types (run with KINERJA_BLESS=1 to regenerate): {drift:?}"
    );
}

#[test]
fn sample_records_validate_against_their_schemas() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/api");
    let load = |n: &str| -> jsonschema::Validator {
        let s: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{n}.json"))).unwrap())
                .unwrap();
        jsonschema::draft202012::new(&s).unwrap()
    };
    let period = kinerja_tests::period_body();
    assert!(load("PeriodInput").is_valid(&period));
    let emp = kinerja_tests::employee_body("disdik", "staf", "2021-03-01");
    assert!(load("EmployeeInput").is_valid(&emp));
    assert!(!load("EmployeeInput").is_valid(&json!({"name": 5})));
}

/// ABI 2's records (`schemas/wit/policy.wit`) are ABI 1's documents (`schemas/plugin/`, generated
/// from the ABI crate's types) field for field and value for value: every record has the
/// properties of the schema definition of the same name, every enum the same values. (The
/// conversions between the two, `kinerja_abi::abi2_conversions!`, hold the Rust types to each
/// other at compile time; this holds the published files to each other.)
#[test]
fn the_wit_records_mirror_the_plugin_schemas() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut resolve = wit_parser::Resolve::new();
    let (package, _) = resolve
        .push_dir(root.join("schemas/wit"))
        .expect("schemas/wit parses");
    let types = resolve.packages[package].interfaces["types"];

    // Every definition of the four plugin schemas, by name, plus the documents themselves
    // under their WIT names.
    let mut defs: Map<String, Value> = Map::new();
    for (file, document) in [
        ("appraise.request", "AppraiseRequest"),
        ("appraise.response", "AppraiseResponse"),
        ("rotate.request", "RotateRequest"),
        ("rotate.response", "RotateResponse"),
    ] {
        let text = std::fs::read_to_string(root.join(format!("schemas/plugin/{file}.json")))
            .expect("plugin schema");
        let mut schema: Value = serde_json::from_str(&text).expect("schema JSON");
        if let Some(Value::Object(d)) = schema.get_mut("$defs").map(Value::take) {
            defs.extend(d);
        }
        defs.insert(document.to_string(), schema);
    }
    // ABI 1's envelope (`abi`, `hook`) is the call itself in ABI 2; these names differ because
    // `self` and `box` are WIT keywords or unclear as field names.
    let envelope = ["abi", "hook"];
    let renamed = |field: &str| match field {
        "self_assessment" => "self".to_string(),
        "nine_box" => "box".to_string(),
        other => other.to_string(),
    };
    let pascal = |kebab: &str| -> String {
        kebab
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    };
    let snake = |kebab: &str| kebab.replace('-', "_");

    let mut checked = 0;
    for (name, id) in &resolve.interfaces[types].types {
        let def = defs
            .get(&pascal(name))
            .unwrap_or_else(|| panic!("WIT type {name}: no schema definition {}", pascal(name)));
        match &resolve.types[*id].kind {
            wit_parser::TypeDefKind::Record(record) => {
                let wit: std::collections::BTreeSet<String> = record
                    .fields
                    .iter()
                    .map(|f| renamed(&snake(&f.name)))
                    .collect();
                let schema: std::collections::BTreeSet<String> = def["properties"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{name}: the schema has no properties"))
                    .keys()
                    .filter(|k| !envelope.contains(&k.as_str()))
                    .cloned()
                    .collect();
                assert_eq!(
                    wit, schema,
                    "record {name}: WIT fields vs schema properties"
                );
            }
            wit_parser::TypeDefKind::Enum(e) => {
                let wit: Vec<String> = e.cases.iter().map(|c| snake(&c.name)).collect();
                let schema: Vec<String> = def["enum"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{name}: the schema is not an enum"))
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                assert_eq!(
                    wit, schema,
                    "enum {name}: WIT cases vs schema values, in order"
                );
            }
            other => panic!("WIT type {name} is a {other:?}; only records and enums are expected"),
        }
        checked += 1;
    }
    // Every record and enum of ABI 1 has its WIT twin (Hook is the call itself).
    let twins: std::collections::BTreeSet<String> = resolve.interfaces[types]
        .types
        .keys()
        .map(|k| pascal(k))
        .collect();
    for name in defs.keys().filter(|n| n.as_str() != "Hook") {
        assert!(
            twins.contains(name),
            "schema definition {name} has no WIT type"
        );
    }
    assert!(checked >= 30, "only {checked} WIT types");
}
