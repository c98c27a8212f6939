//! `kinerja plugin run` and `kinerja plugin test`: a plugin developer's local loop, in the
//! server's own sandbox and limits, before a region admin uploads anything.

use crate::policy::output;
use kinerja_runtime::{Hook, Limits, Runtime, RuntimeConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What went wrong running a module locally; printed for the developer.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    Usage(String),
}

fn read(path: &Path) -> Result<Vec<u8>, DevError> {
    std::fs::read(path).map_err(|err| DevError::Io {
        path: path.to_path_buf(),
        err,
    })
}

/// A runtime with the server's default limits and a private compile cache.
fn runtime(limits: Limits) -> Result<(Runtime, tempfile::TempDir), DevError> {
    let dir = tempfile::tempdir().map_err(|err| DevError::Io {
        path: std::env::temp_dir(),
        err,
    })?;
    let rt = Runtime::new(RuntimeConfig {
        limits,
        max_in_flight: 4,
        ..RuntimeConfig::new(dir.path())
    })
    .map_err(|e| DevError::Runtime(e.to_string()))?;
    Ok((rt, dir))
}

/// The outcome of one local call.
pub struct RunReport {
    /// The checked response, or why it was refused.
    pub response: Result<Value, String>,
    pub logs: String,
    pub fuel: u64,
    pub micros: u128,
}

fn run_one(rt: &Runtime, id: &str, hook: Hook, request: &[u8]) -> RunReport {
    let t = Instant::now();
    match rt.call(id, hook, request) {
        Ok(out) => RunReport {
            response: output::check(id, hook, &out.stdout),
            logs: String::from_utf8_lossy(&out.stderr).into_owned(),
            fuel: out.fuel_used,
            micros: out.duration.as_micros(),
        },
        Err(e) => RunReport {
            logs: e
                .stderr()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            response: Err(e.to_string()),
            fuel: 0,
            micros: t.elapsed().as_micros(),
        },
    }
}

/// `kinerja plugin run`: prints the response, the logs, the fuel used and the time.
/// Answers whether the call succeeded.
pub fn run(module: &Path, hook: &str, request: &Path, limits: Limits) -> Result<bool, DevError> {
    let hook: Hook = hook
        .parse()
        .map_err(|_| DevError::Usage(format!("unknown hook `{hook}`: use appraise or rotate")))?;
    let bytes = read(module)?;
    let req = read(request)?;
    let (rt, _dir) = runtime(limits)?;
    let info = rt
        .load(&bytes)
        .map_err(|e| DevError::Runtime(format!("{}: {e}", module.display())))?;
    println!(
        "module   {} (ABI {}, {} bytes, hooks: {})",
        info.id,
        info.abi,
        info.size,
        info.hooks
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let r = run_one(&rt, &info.id, hook, &req);
    match &r.response {
        Ok(v) => println!(
            "response\n{}",
            serde_json::to_string_pretty(v).unwrap_or_default()
        ),
        Err(e) => println!("FAILED   {e}"),
    }
    println!(
        "logs     {}",
        if r.logs.trim().is_empty() {
            "(none)"
        } else {
            r.logs.trim_end()
        }
    );
    println!("fuel     {}", r.fuel);
    println!("time     {:.3} ms", r.micros as f64 / 1000.0);
    Ok(r.response.is_ok())
}

/// Differences between `expected` and `actual`: every field of `expected` must be in `actual`
/// (extra fields are the plugin's business); numbers match within 0.01, the contract's
/// rounding tolerance.
pub fn diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => diff(ev, av, &format!("{path}/{k}"), out),
                    None => out.push(format!("{path}/{k}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: expected {} items, got {}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff(ev, av, &format!("{path}/{i}"), out);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (
                e.as_f64().unwrap_or(f64::NAN),
                a.as_f64().unwrap_or(f64::NAN),
            );
            if (e - a).abs() > 0.01 + 1e-9 {
                out.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}

/// `kinerja plugin test`: runs every `NAME.request.json` in `dir` against
/// `NAME.expected.json` and prints a pass or a readable diff. Answers whether all passed.
pub fn test(module: &Path, dir: &Path, limits: Limits) -> Result<bool, DevError> {
    let bytes = read(module)?;
    let (rt, _tmp) = runtime(limits)?;
    let info = rt
        .load(&bytes)
        .map_err(|e| DevError::Runtime(format!("{}: {e}", module.display())))?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| DevError::Io {
            path: dir.to_path_buf(),
            err,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".request.json"))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(DevError::Usage(format!(
            "{}: no *.request.json fixtures",
            dir.display()
        )));
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for req_path in names {
        let name = req_path
            .file_name()
            .map(|n| n.to_string_lossy().replace(".request.json", ""))
            .unwrap_or_default();
        let exp_path = req_path.with_file_name(format!("{name}.expected.json"));
        let req = read(&req_path)?;
        let expected: Value = serde_json::from_slice(&read(&exp_path)?)
            .map_err(|e| DevError::Usage(format!("{}: {e}", exp_path.display())))?;
        let hook = serde_json::from_slice::<Value>(&req)
            .ok()
            .and_then(|v| v["hook"].as_str().and_then(|h| h.parse::<Hook>().ok()))
            .ok_or_else(|| {
                DevError::Usage(format!("{}: no valid `hook` field", req_path.display()))
            })?;
        if !info.hooks.contains(&hook) {
            println!("SKIP {name} (the module has no {} hook)", hook.as_str());
            skipped += 1;
            continue;
        }
        let r = run_one(&rt, &info.id, hook, &req);
        match r.response {
            Ok(actual) => {
                let mut d = Vec::new();
                diff(&expected, &actual, "", &mut d);
                if d.is_empty() {
                    println!(
                        "PASS {name} (fuel {}, {:.3} ms)",
                        r.fuel,
                        r.micros as f64 / 1000.0
                    );
                    passed += 1;
                } else {
                    println!("FAIL {name}");
                    for line in d.iter().take(20) {
                        println!("     {line}");
                    }
                    if d.len() > 20 {
                        println!("     … and {} more", d.len() - 20);
                    }
                    failed += 1;
                }
            }
            Err(e) => {
                println!("FAIL {name}: {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    Ok(failed == 0 && passed > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_is_a_subset_match_with_tolerance() {
        let mut d = Vec::new();
        diff(
            &json!({"a": 1.0, "b": [1, 2]}),
            &json!({"a": 1.004, "b": [1, 2], "extra": true}),
            "",
            &mut d,
        );
        assert!(d.is_empty(), "{d:?}");
        diff(
            &json!({"a": 1.0, "b": [1, 3], "c": "x"}),
            &json!({"a": 1.02, "b": [1, 2]}),
            "",
            &mut d,
        );
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("/a") && d[1].starts_with("/b/1") && d[2].contains("missing"));
    }
}
