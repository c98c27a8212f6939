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
