//! ABI 2 end to end over HTTP, on the demo data of Jambi: the Rust and the Python components of
//! Jambi's policy are uploaded, previewed against the active ABI 1 plugin, activated,
//! appraise and rotate, and their decisions replay, over HTTP and with `kinerja audit verify`.
//!
//! Needs the Rust component (`scripts/build-plugins.sh`) and the Python one
//! (`examples/plugins/python/build.sh`).

use std::process::Command;

use kinerja_tests::*;
use serde_json::Value;

const R: &str = "/api/v1/regions/jambi";

/// Each result as the policy answered it: everything but the id of the decision it was stored
/// under (the explanations and components too: the three plugins share the formula's text).
fn verdicts(results: &Value) -> Vec<Value> {
    results
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(o) = r.as_object_mut() {
                o.remove("decision_id");
            }
            r
        })
        .collect()
}

fn active(c: &Client, hook: &str) -> String {
    c.get(&format!("{R}/policies")).body["active"][hook]["plugin"]
        .as_str()
        .expect("an active plugin")
        .to_string()
}

/// Uploads, previews, activates, appraises, rotates and replays one ABI 2 component; its
/// answers must be those of the ABI 1 plugin (`appraisal`, `rotation`).
fn the_component_decides_as_abi1(
    c: &Client,
    what: &str,
    bytes: Vec<u8>,
    appraisal: &Value,
    rotation: &Value,
) -> Vec<String> {
    let up = c.post_raw(&format!("{R}/plugins"), "application/wasm", bytes);
    assert_eq!(up.status, 201, "{what}: {}", up.text);
    assert_eq!(up.body["abi"], 2, "{what}: {}", up.text);
    assert_eq!(up.body["hooks"], json!(["appraise", "rotate"]), "{what}");
    let id = up.body["id"].as_str().expect("id").to_string();

    // The preview against the active plugin: the same policy, so nothing changes.
    let preview = c.post(
        &format!("{R}/plugins/{id}/impact"),
        &json!({"hook": "appraise", "period": "2025"}),
    );
    assert_eq!(preview.status, 200, "{what}: {}", preview.text);
    let i = &preview.body["appraise"];
    assert!(
        i["employees"].as_u64().unwrap_or_default() >= 100,
        "{what}: {i}"
    );
    assert_eq!(
        (i["changed"].as_u64(), i["largest_score_changes"].clone()),
        (Some(0), json!([])),
        "{what}: {i}"
    );
    let dry = c.post(
        &format!("{R}/plugins/{id}/dry-run"),
        &json!({"hook": "rotate", "as_of": "2026-01-31"}),
    );
    assert_eq!(dry.status, 200, "{what}: {}", dry.text);

    c.activate("jambi", "appraise", &id, json!({}));
    c.activate("jambi", "rotate", &id, json!({}));
    let ap = c.post(&format!("{R}/appraisals"), &json!({"period": "2025"}));
    assert_eq!(ap.status, 200, "{what}: {}", ap.text);
    assert_eq!(ap.body["plugin"], id.as_str());
    assert_eq!(
        verdicts(&ap.body["results"]),
        verdicts(&appraisal["results"]),
        "{what}"
    );
    let rot = c.post(&format!("{R}/rotations"), &json!({"as_of": "2026-01-31"}));
    assert_eq!(rot.status, 200, "{what}: {}", rot.text);
    for part in ["talent", "moves", "flags"] {
        assert_eq!(rot.body[part], rotation[part], "{what}: {part}");
    }

    let decisions = [
        ap.body["results"][0]["decision_id"]
            .as_str()
            .expect("decision")
            .to_string(),
        rot.body["decision_id"]
            .as_str()
            .expect("decision")
            .to_string(),
    ];
    for d in &decisions {
        let rp = c.post(&format!("/api/v1/decisions/{d}/replay"), &json!({}));
        assert_eq!(
            (rp.status, &rp.body["identical"]),
            (200, &json!(true)),
            "{what}: {d}: {}",
            rp.text
        );
        assert_eq!(
            c.get(&format!("/api/v1/decisions/{d}")).body["plugin"],
            id.as_str()
        );
    }
    decisions.to_vec()
}

#[test]
fn rust_and_python_components_decide_as_the_abi1_plugin_and_replay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = TestServer::demo_in(dir.path());
    let c = s.client();
    let abi1 = active(&c, "appraise");
    let appraisal = c.post(&format!("{R}/appraisals"), &json!({"period": "2025"}));
    assert_eq!(appraisal.status, 200, "{}", appraisal.text);
    let rotation = c.post(&format!("{R}/rotations"), &json!({"as_of": "2026-01-31"}));
    assert_eq!(rotation.status, 200, "{}", rotation.text);
    assert!(!rotation.body["moves"].as_array().expect("moves").is_empty());

    let mut decisions = the_component_decides_as_abi1(
        &c,
        "Rust",
        jambi_rust_component(),
        &appraisal.body,
        &rotation.body,
    );
    decisions.extend(the_component_decides_as_abi1(
        &c,
        "Python",
        jambi_python_component(),
        &appraisal.body,
        &rotation.body,
    ));

    // Back to ABI 1: the ABI 2 decisions still replay (their module stays stored).
    c.activate("jambi", "appraise", &abi1, json!({}));
    for d in &decisions {
        let rp = c.post(&format!("/api/v1/decisions/{d}/replay"), &json!({}));
        assert_eq!(rp.body["identical"], json!(true), "{d}: {}", rp.text);
    }

    // Offline, every decision of the region replays from its file, whichever ABI made it.
    s.stop();
    let out = Command::new(kinerja_binary())
        .args([
            "audit",
            "verify",
            "--quiet",
            "--region",
            "jambi",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("kinerja audit verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.trim()).expect("summary");
    let n = summary["decisions"].as_u64().expect("decisions");
    // Two whole-region appraisals (ABI 2) and one (ABI 1), and three rotations at least.
    assert!(n > 300, "{summary}");
    assert_eq!(summary["identical"], n, "{summary}");
}
