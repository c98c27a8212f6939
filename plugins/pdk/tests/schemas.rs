//! The committed JSON Schemas in `schemas/plugin/` are generated from the ABI types (kinerja-abi,
//! re-exported by the pdk). This test
//! regenerates them and fails if the committed files differ, so the schemas cannot drift from
//! the types plugins and the host actually use. `KINERJA_BLESS=1 cargo test -p kinerja-pdk
//! --test schemas` rewrites them instead.

use std::path::{Path, PathBuf};

use kinerja_pdk::{AppraiseRequest, AppraiseResponse, RotateRequest, RotateResponse};
use schemars::{schema_for, Schema};
use serde_json::{json, Value};

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/plugin")
}

fn with_header(mut schema: Schema, description: &str) -> Value {
    schema
        .ensure_object()
        .insert("description".into(), json!(description));
    schema.to_value()
}

fn generated() -> Vec<(&'static str, Value)> {
    vec![
        (
            "appraise.request.json",
            with_header(
                schema_for!(AppraiseRequest),
                "ABI 1 appraise request (host → plugin stdin). Unknown fields are allowed: the \
                 host may add fields.",
            ),
        ),
        (
            "appraise.response.json",
            with_header(
                schema_for!(AppraiseResponse),
                "ABI 1 appraise response (plugin stdout). Extra fields are allowed and kept. A \
                 refusal ({\"error\": {\"message\": …}}) is recognised before this schema applies.",
            ),
        ),
        (
            "rotate.request.json",
            with_header(
                schema_for!(RotateRequest),
                "ABI 1 rotate request (host → plugin stdin). Unknown fields are allowed: the \
                 host may add fields.",
            ),
        ),
        (
            "rotate.response.json",
            with_header(
                schema_for!(RotateResponse),
                "ABI 1 rotate response (plugin stdout). Extra fields are allowed and kept. A \
                 refusal ({\"error\": {\"message\": …}}) is recognised before this schema applies.",
            ),
        ),
    ]
}

fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[test]
fn committed_schemas_match_the_types() {
    let dir = schema_dir();
    let bless = std::env::var("KINERJA_BLESS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, schema) in generated() {
        let path = dir.join(name);
        let want = render(&schema);
        if bless {
            std::fs::create_dir_all(&dir).expect("create schemas/plugin");
            std::fs::write(&path, &want).expect("write schema");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(have) if have == want => {}
            Ok(_) => stale.push(format!("{name} differs from the types")),
            Err(e) => stale.push(format!("{name}: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?}: run `KINERJA_BLESS=1 cargo test -p kinerja-pdk --test schemas` and commit"
    );
}

#[test]
fn response_schemas_require_the_contract_fields_and_allow_extras() {
    let schemas = generated();
    let appraise = &schemas[1].1;
    let result = &appraise["$defs"]["AppraiseResult"];
    let required: Vec<&str> = result["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in [
        "nip",
        "hasil_kerja",
        "perilaku_kerja",
        "predikat",
        "score",
        "components",
        "recommendations",
        "explanation",
    ] {
        assert!(required.contains(&field), "{field} must be required");
    }
    assert!(!required.contains(&"tpp_percent"));
    for schema in [&schemas[1].1, &schemas[3].1] {
        let text = schema.to_string();
        assert!(
            !text.contains("\"additionalProperties\":false"),
            "extras must be allowed"
        );
        assert!(schema["properties"].get("error").is_none());
        assert!(!schema["$defs"].as_object().unwrap().contains_key("Refusal"));
    }
    let predikat = &appraise["$defs"]["Predikat"];
    assert_eq!(
        predikat["enum"],
        json!([
            "sangat_baik",
            "baik",
            "butuh_perbaikan",
            "kurang",
            "sangat_kurang"
        ])
    );
    let rotate = &schemas[3].1;
    let talent_required = rotate["$defs"]["Talent"]["required"].to_string();
    assert!(
        talent_required.contains("box"),
        "box must be present, even when null"
    );
    assert_eq!(
        rotate["$defs"]["FlagKind"]["enum"],
        json!(["overdue", "review", "coaching_first"])
    );
}

fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_dir().join(name)).expect("committed schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{name} is not a valid schema: {e}"))
}

fn vector(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("JSON")
}

fn sample_appraise_response() -> Value {
    json!({"results": [{
        "nip": "198503122010011001", "hasil_kerja": "sesuai", "perilaku_kerja": "di_atas",
        "predikat": "baik", "score": 101.27,
        "components": [{"name": "capaian", "value": 104.2, "weight": 0.8},
                       {"name": "reporting", "value": 0.93}],
        "recommendations": [{"kind": "dialog"}, {"kind": "training", "subject": "adaptif"}],
        "explanation": "…", "tpp_percent": 100
    }]})
}

fn sample_rotate_response() -> Value {
    json!({
        "talent": [{"nip": "1", "box": 7}, {"nip": "2", "box": null}],
        "moves": [{"nip": "1", "from": "a", "to": "b", "kind": "promotion",
                   "job_person_match": 92.5, "readiness": "needs_training",
                   "training": ["komunikasi", "bimbingan"]}],
        "flags": [{"nip": "1", "kind": "coaching_first", "detail": "…"}]
    })
}

#[test]
fn schemas_accept_the_contract_documents() {
    for (schema, hook) in [
        ("appraise.request.json", "appraise"),
        ("rotate.request.json", "rotate"),
    ] {
        let v = validator(schema);
        for region in ["jambi", "jakarta", "tenayan-raya"] {
            let doc = vector(&format!("{region}-{hook}.json"));
            let errors: Vec<String> = v
                .iter_errors(&doc["request"])
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{region} {hook} request: {errors:?}");
        }
    }
    let appraise = validator("appraise.response.json");
    let mut doc = sample_appraise_response();
    assert!(appraise.is_valid(&doc));
    // Extra fields are the plugin's to add and the host's to keep.
    doc["results"][0]["extra"] = json!({"anything": [1, 2]});
    doc["plugin_build"] = json!("x");
    doc["results"][0]["components"][0]["note"] = json!("kept");
    assert!(appraise.is_valid(&doc));
    let rotate = validator("rotate.response.json");
    let mut doc = sample_rotate_response();
    assert!(rotate.is_valid(&doc));
    doc["moves"][0]["extra"] = json!(true);
    assert!(rotate.is_valid(&doc));
    assert!(rotate.is_valid(&json!({"talent": [], "moves": [], "flags": []})));
}

/// A named way to break a valid document.
type Breaker = (&'static str, Box<dyn Fn(&mut Value)>);

#[test]
fn schemas_reject_what_breaks_the_contract() {
    let appraise = validator("appraise.response.json");
    let breakers: Vec<Breaker> = vec![
        (
            "no results",
            Box::new(|d| d.as_object_mut().unwrap().clear()),
        ),
        (
            "unknown predikat",
            Box::new(|d| d["results"][0]["predikat"] = json!("cukup")),
        ),
        (
            "unknown rating",
            Box::new(|d| d["results"][0]["hasil_kerja"] = json!("diatas")),
        ),
        (
            "score as text",
            Box::new(|d| d["results"][0]["score"] = json!("101.27")),
        ),
        (
            "missing explanation",
            Box::new(|d| {
                d["results"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("explanation");
            }),
        ),
        (
            "missing components",
            Box::new(|d| {
                d["results"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("components");
            }),
        ),
        (
            "training without subject",
            Box::new(|d| {
                d["results"][0]["recommendations"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("subject");
            }),
        ),
        (
            "training with null subject",
            Box::new(|d| d["results"][0]["recommendations"][1]["subject"] = json!(null)),
        ),
        (
            "unknown recommendation",
            Box::new(|d| d["results"][0]["recommendations"][0]["kind"] = json!("punish")),
        ),
        (
            "component without value",
            Box::new(|d| {
                d["results"][0]["components"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("value");
            }),
        ),
        (
            "tpp as text",
            Box::new(|d| d["results"][0]["tpp_percent"] = json!("100")),
        ),
    ];
    for (what, breaker) in &breakers {
        let mut doc = sample_appraise_response();
        breaker(&mut doc);
        assert!(
            !appraise.is_valid(&doc),
            "appraise response with {what} must be refused"
        );
    }

    let rotate = validator("rotate.response.json");
    let breakers: Vec<Breaker> = vec![
        ("box 0", Box::new(|d| d["talent"][0]["box"] = json!(0))),
        ("box 10", Box::new(|d| d["talent"][0]["box"] = json!(10))),
        (
            "box missing",
            Box::new(|d| {
                d["talent"][0].as_object_mut().unwrap().remove("box");
            }),
        ),
        (
            "unknown move kind",
            Box::new(|d| d["moves"][0]["kind"] = json!("demotion")),
        ),
        (
            "unknown readiness",
            Box::new(|d| d["moves"][0]["readiness"] = json!("soon")),
        ),
        (
            "training not a list",
            Box::new(|d| d["moves"][0]["training"] = json!("x")),
        ),
        (
            "missing to",
            Box::new(|d| {
                d["moves"][0].as_object_mut().unwrap().remove("to");
            }),
        ),
        (
            "unknown flag",
            Box::new(|d| d["flags"][0]["kind"] = json!("late")),
        ),
        (
            "flag without detail",
            Box::new(|d| {
                d["flags"][0].as_object_mut().unwrap().remove("detail");
            }),
        ),
        (
            "no flags",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("flags");
            }),
        ),
    ];
    for (what, breaker) in &breakers {
        let mut doc = sample_rotate_response();
        breaker(&mut doc);
        assert!(
            !rotate.is_valid(&doc),
            "rotate response with {what} must be refused"
        );
    }
    // A refusal is not a response: the host must recognise it before validating.
    let refusal = json!({"error": {"message": "no"}});
    assert!(!appraise.is_valid(&refusal));
    assert!(!rotate.is_valid(&refusal));
}

#[test]
fn typed_documents_round_trip_through_the_schemas() {
    // What the pdk types serialize must validate, and what validates must deserialize.
    let doc = sample_appraise_response();
    let typed: AppraiseResponse = serde_json::from_value(doc).unwrap();
    assert!(validator("appraise.response.json").is_valid(&serde_json::to_value(&typed).unwrap()));
    let doc = sample_rotate_response();
    let typed: RotateResponse = serde_json::from_value(doc).unwrap();
    assert!(validator("rotate.response.json").is_valid(&serde_json::to_value(&typed).unwrap()));
    for region in ["jambi", "jakarta", "tenayan-raya"] {
        let doc = vector(&format!("{region}-appraise.json"));
        let typed: AppraiseRequest = serde_json::from_value(doc["request"].clone()).unwrap();
        let back = serde_json::to_value(&typed).unwrap();
        assert!(
            validator("appraise.request.json").is_valid(&back),
            "{region}"
        );
        let doc = vector(&format!("{region}-rotate.json"));
        let typed: RotateRequest = serde_json::from_value(doc["request"].clone()).unwrap();
        let back = serde_json::to_value(&typed).unwrap();
        assert!(validator("rotate.request.json").is_valid(&back), "{region}");
    }
}
