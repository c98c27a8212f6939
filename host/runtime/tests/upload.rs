//! Upload validation (from header, imports and exports only) and the on-disk
//! cache of compiled modules.

mod support;

use kinerja_runtime::{Hook, LoadSource, Runtime, RuntimeConfig, UploadError};
use sha2::Digest;
use support::*;

/// Deterministic pseudo-random bytes (xorshift), no dependency needed.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn hooks_are_read_from_exports() {
    let (rt, _dir) = runtime();
    let info = rt.load(&simple()).expect("reactor");
    assert_eq!(info.hooks, vec![Hook::Appraise, Hook::Rotate]);
    assert_eq!(info.size, simple().len());
    assert_eq!(info.id, hex::encode(sha2::Sha256::digest(simple())));
    assert_eq!(info.id.len(), 64);
    assert_eq!(info.source, LoadSource::Compiled);

    let info = rt.load(&plugin("command")).expect("command");
    assert_eq!(
        info.hooks,
        vec![Hook::Appraise, Hook::Rotate],
        "only _start offers both"
    );

    let rotate_only = wat(r#"(module (func (export "rotate")))"#);
    assert_eq!(
        rt.load(&rotate_only).expect("rotate only").hooks,
        vec![Hook::Rotate]
    );

    // A hook export wins for its hook; `_start` serves the other.
    let mixed = wat(r#"(module (func (export "appraise")) (func (export "_start")))"#);
    assert_eq!(
        rt.load(&mixed).expect("mixed").hooks,
        vec![Hook::Appraise, Hook::Rotate]
    );

    // Loading again is a no-op.
    assert_eq!(
        rt.load(&simple()).expect("again").source,
        LoadSource::Loaded
    );
    assert_eq!(rt.compiled_count(), 4);
}

#[test]
fn oversized_upload_is_refused_first() {
    let limits = kinerja_runtime::Limits {
        module_bytes: 1000,
        ..Default::default()
    };
    let (rt, _dir) = runtime_with(limits, 1);
    let err = rt.load(&simple()).expect_err("too large");
    let size = simple().len();
    assert!(matches!(err, UploadError::TooLarge { size: s, limit: 1000 } if s == size));
    assert_eq!(
        err.to_string(),
        format!("the module is {size} bytes, over the upload limit of 1000 bytes")
    );
    // Size is checked before anything else, even for non-Wasm bytes.
    assert!(matches!(
        rt.load(&noise(1001, 1)),
        Err(UploadError::TooLarge { .. })
    ));
}

#[test]
fn non_wasm_is_refused() {
    let (rt, _dir) = runtime();
    for bytes in [
        noise(4096, 7),
        b"hello world".to_vec(),
        Vec::new(),
        b"\0as".to_vec(),
    ] {
        let err = rt.load(&bytes).expect_err("not wasm");
        assert!(matches!(err, UploadError::NotWasm), "{err}");
    }
    assert!(UploadError::NotWasm
        .to_string()
        .contains("not a WebAssembly module"));
}

/// A component is ABI 2 (tests/components.rs); one without hooks (a bare preamble is an empty
/// component) is refused for that.
#[test]
fn components_are_abi2_and_need_its_hooks() {
    let (rt, _dir) = runtime();
    let component = b"\0asm\x0d\x00\x01\x00".to_vec();
    let err = rt.load(&component).expect_err("component");
    assert!(matches!(err, UploadError::NoComponentHook), "{err}");
    let real = wat("(component)");
    assert!(matches!(rt.load(&real), Err(UploadError::NoComponentHook)));
}

#[test]
fn imports_outside_wasi_are_forbidden() {
    let (rt, _dir) = runtime();
    let module = wat(r#"
        (module
          (import "env" "system" (func (param i32) (result i32)))
          (func (export "appraise")))"#);
    let err = rt.load(&module).expect_err("forbidden import");
    assert!(
        matches!(&err, UploadError::ForbiddenImport { module, name } if module == "env" && name == "system"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("import env.system is outside wasi_snapshot_preview1"),
        "{err}"
    );
    // Memory imports count too.
    let memory = wat(r#"(module (import "env" "memory" (memory 1)) (func (export "appraise")))"#);
    assert!(matches!(
        rt.load(&memory),
        Err(UploadError::ForbiddenImport { .. })
    ));
    // An unknown name inside wasi_snapshot_preview1 fails at link time.
    let unknown = wat(r#"
        (module
          (import "wasi_snapshot_preview1" "not_a_wasi_call" (func))
          (func (export "appraise")))"#);
    let err = rt.load(&unknown).expect_err("unknown WASI import");
    assert!(matches!(err, UploadError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("not_a_wasi_call"), "{err}");
    // A refused module is neither registered nor cached.
    assert_eq!(
        std::fs::read_dir(rt.cache_dir())
            .expect("cache dir")
            .count(),
        0
    );
}

#[test]
fn modules_without_hooks_are_refused() {
    let (rt, _dir) = runtime();
    let none = wat(r#"(module (memory (export "memory") 1) (func (export "score")))"#);
    let err = rt.load(&none).expect_err("no hook");
    assert!(matches!(err, UploadError::NoHook), "{err}");
    assert!(err.to_string().contains("appraise"));
    let init_only = wat(r#"(module (func (export "_initialize")))"#);
    assert!(matches!(rt.load(&init_only), Err(UploadError::NoHook)));
}

#[test]
fn hooks_of_the_wrong_type_are_refused() {
    let (rt, _dir) = runtime();
    let cases = [
        (
            r#"(module (func (export "appraise") (param i32)))"#,
            "appraise",
        ),
        (
            r#"(module (func (export "rotate") (result i32) i32.const 0))"#,
            "rotate",
        ),
        (
            r#"(module (global (export "appraise") i32 (i32.const 0)))"#,
            "appraise",
        ),
        (
            r#"(module (func (export "_start") (result i32) i32.const 0))"#,
            "_start",
        ),
        (
            r#"(module (func (export "appraise")) (func (export "_initialize") (param i32)))"#,
            "_initialize",
        ),
    ];
    for (text, export) in cases {
        let err = rt.load(&wat(text)).expect_err(text);
        assert!(
            matches!(&err, UploadError::BadHookType { name } if name == export),
            "{text}: {err}"
        );
        assert_eq!(
            err.to_string(),
            format!("the export `{export}` must be a function of type () -> ()")
        );
    }
}

#[test]
fn invalid_modules_are_refused() {
    let (rt, _dir) = runtime();
    let mut bytes = b"\0asm\x01\x00\x00\x00".to_vec();
    bytes.extend(noise(64, 3));
    let err = rt.load(&bytes).expect_err("garbage after the header");
    assert!(matches!(err, UploadError::Invalid(_)), "{err}");
    // Shared memory (threads) is disabled.
    let threads = wat(r#"(module (memory 1 1 shared) (func (export "appraise")))"#);
    assert!(matches!(rt.load(&threads), Err(UploadError::Invalid(_))));
    // A truncated header.
    assert!(matches!(
        rt.load(b"\0asm\x01"),
        Err(UploadError::Invalid(_))
    ));
}

fn config(dir: &std::path::Path) -> RuntimeConfig {
    RuntimeConfig {
        max_in_flight: 2,
        ..RuntimeConfig::new(dir)
    }
}

#[test]
fn restart_loads_from_the_cache_without_compiling() {
    let dir = tempfile::tempdir().expect("tmp");
    let bytes = simple();
    let request = appraise_request("cache");
    let (id, first_output) = {
        let rt = Runtime::new(config(dir.path())).expect("runtime");
        let info = rt.load(&bytes).expect("load");
        assert_eq!(info.source, LoadSource::Compiled);
        assert_eq!(rt.compiled_count(), 1);
        let path = rt.cache_path(&info.id);
        assert!(path.exists(), "artifact written to {}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            name.starts_with(&info.id) && name.ends_with(".cwasm"),
            "{name}"
        );
        let out = rt.call(&info.id, Hook::Appraise, &request).expect("call");
        (info.id, out.stdout)
    };
    let rt = Runtime::new(config(dir.path())).expect("restarted runtime");
    let started = std::time::Instant::now();
    let info = rt.load(&bytes).expect("load from cache");
    eprintln!("load from cache: {:?}", started.elapsed());
    assert_eq!(info.source, LoadSource::Cache);
    assert_eq!(info.id, id);
    assert_eq!(info.hooks, vec![Hook::Appraise, Hook::Rotate]);
    assert_eq!(rt.compiled_count(), 0, "a restart must not recompile");
    let out = rt
        .call(&id, Hook::Appraise, &request)
        .expect("call after restart");
    assert_eq!(out.stdout, first_output);
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(rt.cache_dir())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn corrupt_or_foreign_cache_files_are_not_trusted() {
    let dir = tempfile::tempdir().expect("tmp");
    let bytes = plugin("command");
    let path = {
        let rt = Runtime::new(config(dir.path())).expect("runtime");
        let info = rt.load(&bytes).expect("load");
        rt.cache_path(&info.id)
    };
    let good = std::fs::read(&path).expect("artifact");

    let reload = |label: &str| {
        let rt = Runtime::new(config(dir.path())).expect("runtime");
        let info = rt.load(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
        let out = rt
            .call(&info.id, Hook::Rotate, &rotate_request(label))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(json_of(&out)["config"]["marker"], label);
        (info.source, rt.compiled_count())
    };

    // A flipped byte in the compiled code.
    let mut corrupt = good.clone();
    let at = corrupt.len() / 2;
    corrupt[at] ^= 0x40;
    std::fs::write(&path, &corrupt).expect("write");
    assert_eq!(reload("corrupt"), (LoadSource::Compiled, 1));
    // The bad file was replaced by a good one.
    assert_eq!(reload("repaired"), (LoadSource::Cache, 0));

    // A torn (truncated) file.
    std::fs::write(&path, &good[..good.len() / 3]).expect("write");
    assert_eq!(reload("truncated"), (LoadSource::Compiled, 1));

    // A foreign file: not written by this runtime (no magic), e.g. raw
    // compiled code or anything else dropped into the directory.
    std::fs::write(&path, &good[48..]).expect("write");
    assert_eq!(reload("foreign"), (LoadSource::Compiled, 1));
    std::fs::write(&path, noise(good.len(), 9)).expect("write");
    assert_eq!(reload("noise"), (LoadSource::Compiled, 1));

    // A file with our magic and a matching digest whose payload wasmtime
    // does not accept (e.g. another build's artifact): refused by wasmtime's
    // own checks, recompiled.
    let payload = b"not a wasmtime artifact".to_vec();
    let mut forged = good[..16].to_vec();
    forged.extend_from_slice(&sha2::Sha256::digest(&payload));
    forged.extend_from_slice(&payload);
    std::fs::write(&path, &forged).expect("write");
    assert_eq!(reload("forged"), (LoadSource::Compiled, 1));
    assert_eq!(reload("final"), (LoadSource::Cache, 0));
}

#[test]
fn unwritable_cache_is_an_upload_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = Runtime::new(config(dir.path())).expect("runtime");
    // Replace the cache directory with a file so writes fail.
    std::fs::remove_dir_all(rt.cache_dir()).expect("rm");
    std::fs::write(rt.cache_dir(), b"not a directory").expect("write");
    let err = rt.load(&simple()).expect_err("cannot cache");
    assert!(matches!(err, UploadError::Cache(_)), "{err}");
    assert!(err.to_string().contains("cached"), "{err}");
}

#[test]
fn invalid_configuration_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = [
        RuntimeConfig {
            max_in_flight: 0,
            ..RuntimeConfig::new(dir.path())
        },
        RuntimeConfig {
            limits: kinerja_runtime::Limits {
                memory_bytes: 100,
                ..Default::default()
            },
            ..RuntimeConfig::new(dir.path())
        },
        RuntimeConfig {
            limits: kinerja_runtime::Limits {
                wall_time: std::time::Duration::ZERO,
                ..Default::default()
            },
            ..RuntimeConfig::new(dir.path())
        },
    ];
    for cfg in bad {
        let err = Runtime::new(cfg).expect_err("invalid");
        assert!(
            matches!(err, kinerja_runtime::RuntimeError::Config(_)),
            "{err}"
        );
    }
}

#[test]
fn hook_names_round_trip() {
    for hook in Hook::ALL {
        assert_eq!(hook.as_str().parse::<Hook>(), Ok(hook));
        assert_eq!(hook.to_string(), hook.as_str());
    }
    let err = "promote".parse::<Hook>().expect_err("unknown");
    assert!(err.to_string().contains("promote"));
}

/// A module of `n` empty functions, the first exported as `appraise`.
fn many_functions(n: usize) -> Vec<u8> {
    let funcs = "(func)".repeat(n.saturating_sub(1));
    wat::parse_str(format!(r#"(module (func (export "appraise")) {funcs})"#)).expect("wat")
}

#[test]
fn a_module_over_a_bound_is_refused_before_it_is_compiled() {
    let (rt, _dir) = runtime();
    let bounds = &rt.limits().module;
    let err = rt
        .load(&many_functions(bounds.functions as usize + 1))
        .expect_err("too many functions");
    assert!(matches!(err, UploadError::TooCostly { .. }), "{err}");
    assert!(err.to_string().contains("functions"), "{err}");
    assert_eq!(rt.compiled_count(), 0, "refused before compiling");
    let cached = std::fs::read_dir(rt.cache_dir()).expect("dir").count();
    assert_eq!(cached, 0, "nothing cached");
    rt.load(&many_functions(10)).expect("a small module loads");
}

#[test]
fn idle_modules_are_unloaded_and_revived_from_the_cache() {
    let (rt, _dir) = runtime();
    let id = rt.load(&simple()).expect("load").id;
    let stats = rt.module_stats();
    assert_eq!((stats.loaded, stats.unloaded), (1, 0));
    assert!(stats.resident_bytes > 0);

    let kept = rt.unload_idle(|m| m == id, std::time::Duration::ZERO);
    assert!(kept.is_empty(), "a module in use stays");
    let recent = rt.unload_idle(|_| false, std::time::Duration::from_secs(3600));
    assert!(recent.is_empty(), "a module called recently stays");
    assert_eq!(
        rt.unload_idle(|_| false, std::time::Duration::ZERO),
        vec![id.clone()]
    );
    let stats = rt.module_stats();
    assert_eq!(
        (stats.loaded, stats.unloaded, stats.resident_bytes),
        (0, 1, 0)
    );
    assert!(rt.is_loaded(&id), "still callable");

    let started = std::time::Instant::now();
    let out = rt
        .call(&id, Hook::Appraise, &appraise_request("revived"))
        .expect("revived on call");
    eprintln!(
        "call of an unloaded module (revive included): {:?}",
        started.elapsed()
    );
    assert_eq!(json_of(&out)["config"]["marker"], "revived");
    assert_eq!(
        rt.compiled_count(),
        1,
        "revived from the cache, not compiled"
    );
    let stats = rt.module_stats();
    assert_eq!((stats.loaded, stats.unloaded), (1, 0));
}

#[test]
fn unfinished_cache_files_are_removed_at_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let id = {
        let rt = Runtime::new(config(dir.path())).expect("runtime");
        rt.load(&simple()).expect("load").id
    };
    let torn = dir.path().join(format!(".{id}-0000.1.0.tmp"));
    std::fs::write(&torn, vec![0u8; 4096]).expect("write");
    let rt = Runtime::new(config(dir.path())).expect("restarted runtime");
    assert!(!torn.exists(), "the unfinished file is removed");
    assert!(rt.cache_path(&id).exists(), "finished artifacts stay");
    assert_eq!(rt.load(&simple()).expect("load").source, LoadSource::Cache);
}

#[test]
fn a_module_whose_artifact_is_gone_is_forgotten_when_it_cannot_be_revived() {
    let (rt, _dir) = runtime();
    let id = rt.load(&simple()).expect("load").id;
    rt.unload_idle(|_| false, std::time::Duration::ZERO);
    std::fs::remove_file(rt.cache_path(&id)).expect("remove the artifact");
    let err = rt
        .call(&id, Hook::Appraise, &appraise_request("gone"))
        .expect_err("nothing to revive from");
    assert!(
        matches!(err, kinerja_runtime::CallError::NotLoaded { .. }),
        "{err}"
    );
    assert!(
        !rt.is_loaded(&id),
        "forgotten, so the host loads it from its bytes"
    );
    assert_eq!(rt.load(&simple()).expect("load again").id, id);
    rt.call(&id, Hook::Appraise, &appraise_request("back"))
        .expect("callable again");
}
