//! ABI 2: policy plugins as WebAssembly components (`schemas/wit/policy.wit`).
//!
//! The host's side of ABI 2 stays byte-compatible with ABI 1 on purpose: a call takes the
//! same request document (JSON, as the host records it) and answers the same response
//! document, so the policy pipeline, decisions, replay, dry-runs and the conformance kit see
//! no difference between the two ABIs. Inside, the request is read once (natively), handed to
//! the component as typed records, and the typed answer is written back as canonical JSON: the
//! plugin itself reads and writes no JSON, which is where an ABI 1 plugin spends most of its
//! fuel.
//!
//! The sandbox is ABI 1's: a fresh instance per call from a pre-linked template, the same
//! fuel, wall-time, memory and output limits, and WASI 0.2 for the toolchains whose runtime
//! imports it (Python's), with fixed clocks, seeded random, no files, no environment, no
//! network and no waiting.

use std::time::Instant;

use kinerja_abi::HookRequest;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::DeserializeOwned;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentNamedList, InstancePre, Lift, Linker, Lower, Resource, ResourceTable,
};
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::call::{self, CallLimiter, Captured};
use crate::{CallError, CallOutput, Hook, LimitKind, Limits, RuntimeError, UploadError};

#[allow(missing_docs, clippy::all)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../schemas/wit",
        world: "kinerja:policy/policy",
    });
}

use bindings::exports::kinerja::policy::{appraise, rotate};
use bindings::kinerja::policy::types as wit;

kinerja_abi::abi2_conversions!(bindings::kinerja::policy::types);

/// The WASI 0.2 interfaces whose functions are replaced, at wasmtime-wasi 48's version
/// (components importing any 0.2.x version link to it).
const WASI_IO_POLL: &str = "wasi:io/poll@0.2.12";
const WASI_RANDOM: &str = "wasi:random/random@0.2.12";
const WASI_INSECURE_RANDOM: &str = "wasi:random/insecure@0.2.12";

/// Resources (streams, pollables, …) one call may hold at once. A policy needs a handful
/// (its stdout and stderr); each one is host memory outside the plugin's memory limit.
const MAX_RESOURCES: usize = 1024;

/// Core instances one component call may create (a component built by a toolchain holds a
/// handful: the program, its C library, shims; componentize-py's about a dozen).
pub(crate) const CORE_INSTANCES_PER_COMPONENT: u32 = 24;
/// Linear memories one component call may create.
pub(crate) const MEMORIES_PER_COMPONENT: u32 = 2;
/// Tables one component call may create.
pub(crate) const TABLES_PER_COMPONENT: u32 = 8;

/// The store data of one component call.
pub(crate) struct ComponentState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: CallLimiter,
    /// The generators behind the replaced `wasi:random` functions, seeded as ABI 1's.
    random: StdRng,
    insecure: StdRng,
}

impl WasiView for ComponentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A loaded ABI 2 plugin: its pre-linked template and where its hooks are.
pub(crate) struct Prepared {
    pre: InstancePre<ComponentState>,
    appraise: Option<appraise::GuestIndices>,
    rotate: Option<rotate::GuestIndices>,
}

impl Prepared {
    /// The offered hooks in [`Hook::ALL`] order.
    pub(crate) fn hooks(&self) -> Vec<Hook> {
        Hook::ALL
            .into_iter()
            .filter(|hook| self.offers(*hook))
            .collect()
    }

    pub(crate) fn offers(&self, hook: Hook) -> bool {
        match hook {
            Hook::Appraise => self.appraise.is_some(),
            Hook::Rotate => self.rotate.is_some(),
        }
    }
}

/// The linker every component is instantiated with: WASI 0.2 (sockets and name lookups
/// refused by the context, no preopened directories), the waiting calls replaced by traps,
/// and the type-only `kinerja:policy/types` interface.
pub(crate) fn build_linker(engine: &Engine) -> Result<Linker<ComponentState>, RuntimeError> {
    let fail = |what: &str, e: wasmtime::Error| RuntimeError::Engine(format!("{what}: {e:#}"));
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| fail("cannot link WASI 0.2", e))?;
    linker.allow_shadowing(true);
    {
        // Epoch interruption cannot stop a host call, and a fixed clock never reaches a
        // deadline: a plugin that waits traps at once (ABI 1's `poll_oneoff` answers NOTSUP,
        // which is a trap for the plugins that sleep).
        let mut poll = linker
            .instance(WASI_IO_POLL)
            .map_err(|e| fail("cannot open wasi:io/poll", e))?;
        poll.func_wrap(
            "poll",
            |_: StoreContextMut<'_, ComponentState>,
             _: (Vec<Resource<wasmtime_wasi::p2::DynPollable>>,)|
             -> wasmtime::Result<(Vec<u32>,)> { Err(no_waiting()) },
        )
        .map_err(|e| fail("cannot replace wasi:io/poll.poll", e))?;
        poll.func_wrap(
            "[method]pollable.block",
            |_: StoreContextMut<'_, ComponentState>,
             _: (Resource<wasmtime_wasi::p2::DynPollable>,)|
             -> wasmtime::Result<()> { Err(no_waiting()) },
        )
        .map_err(|e| fail("cannot replace wasi:io/poll.pollable.block", e))?;
    }
    // wasmtime-wasi draws random bytes one at a time through a boxed generator, inside one
    // host call that epoch interruption cannot reach (ABI 1's `random_get` is replaced for the
    // same reason): fill in place, at most MAX_RANDOM_BYTES a call.
    for (interface, bytes, u64_fn, pick) in [
        (
            WASI_RANDOM,
            "get-random-bytes",
            "get-random-u64",
            secure as fn(&mut ComponentState) -> &mut StdRng,
        ),
        (
            WASI_INSECURE_RANDOM,
            "get-insecure-random-bytes",
            "get-insecure-random-u64",
            insecure as fn(&mut ComponentState) -> &mut StdRng,
        ),
    ] {
        let mut random = linker
            .instance(interface)
            .map_err(|e| fail("cannot open wasi:random", e))?;
        random
            .func_wrap(
                bytes,
                move |mut store: StoreContextMut<'_, ComponentState>,
                      (len,): (u64,)|
                      -> wasmtime::Result<(Vec<u8>,)> {
                    if len > crate::MAX_RANDOM_BYTES {
                        wasmtime::bail!(
                            "asked for {len} random bytes; at most {} per call are allowed",
                            crate::MAX_RANDOM_BYTES
                        );
                    }
                    // At most 1 MiB (checked above).
                    let mut out = vec![0u8; len as usize];
                    pick(store.data_mut()).fill_bytes(&mut out);
                    Ok((out,))
                },
            )
            .map_err(|e| fail("cannot replace wasi:random", e))?;
        random
            .func_wrap(
                u64_fn,
                move |mut store: StoreContextMut<'_, ComponentState>,
                      (): ()|
                      -> wasmtime::Result<(u64,)> {
                    Ok((pick(store.data_mut()).next_u64(),))
                },
            )
            .map_err(|e| fail("cannot replace wasi:random", e))?;
    }
    linker.allow_shadowing(false);
    linker
        .instance(kinerja_abi::abi2::TYPES_IMPORT)
        .map_err(|e| fail("cannot define kinerja:policy/types", e))?;
    Ok(linker)
}

fn secure(state: &mut ComponentState) -> &mut StdRng {
    &mut state.random
}

fn insecure(state: &mut ComponentState) -> &mut StdRng {
    &mut state.insecure
}

fn no_waiting() -> wasmtime::Error {
    wasmtime::format_err!("plugins may not wait or sleep (wasi:io/poll is not available)")
}

/// Links a compiled component and finds its hooks. Never instantiates it.
pub(crate) fn prepare(
    linker: &Linker<ComponentState>,
    component: &Component,
) -> Result<Prepared, UploadError> {
    // What the instance pool gives one call: a component needing more could never run.
    if let Some(needs) = component.resources_required() {
        if needs.num_memories > MEMORIES_PER_COMPONENT || needs.num_tables > TABLES_PER_COMPONENT {
            return Err(UploadError::TooCostly {
                what: format!(
                    "{} linear memories and {} tables",
                    needs.num_memories, needs.num_tables
                ),
                limit: format!(
                    "{MEMORIES_PER_COMPONENT} memories and {TABLES_PER_COMPONENT} tables per component"
                ),
            });
        }
    }
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| UploadError::ComponentImports(format!("{e:#}")))?;
    let appraise = appraise::GuestIndices::new(&pre).ok();
    let rotate = rotate::GuestIndices::new(&pre).ok();
    if appraise.is_none() && rotate.is_none() {
        return Err(UploadError::NoComponentHook);
    }
    if appraise.is_some() {
        check_signature::<(&wit::AppraiseRequest,), (Result<wit::AppraiseResponse, String>,)>(
            linker.engine(),
            component,
            Hook::Appraise,
        )?;
    }
    if rotate.is_some() {
        check_signature::<(&wit::RotateRequest,), (Result<wit::RotateResponse, String>,)>(
            linker.engine(),
            component,
            Hook::Rotate,
        )?;
    }
    Ok(Prepared {
        pre,
        appraise,
        rotate,
    })
}

/// Refuses a hook whose function type is not the WIT's, at upload rather than at every call.
///
/// The bindings find hooks by name only and type-check when a call looks the function up, so
/// without this a component built against another `policy.wit` would be accepted and fail
/// each call. `typecheck` and `instance_type` are public but hidden in wasmtime 48 (they are
/// what `get_typed_func` runs); the types are the bindings' own, so the check is exactly the
/// one a call makes. A hook found only under a semver-compatible name is left to that check.
fn check_signature<Params, Return>(
    engine: &Engine,
    component: &Component,
    hook: Hook,
) -> Result<(), UploadError>
where
    Params: ComponentNamedList + Lower,
    Return: ComponentNamedList + Lift,
{
    let export = match hook {
        Hook::Appraise => kinerja_abi::abi2::APPRAISE_EXPORT,
        Hook::Rotate => kinerja_abi::abi2::ROTATE_EXPORT,
    };
    let ty = component.component_type();
    let Some(ComponentItem::ComponentInstance(instance)) =
        ty.get_export(engine, export).map(|e| e.ty)
    else {
        return Ok(());
    };
    let Some(ComponentItem::ComponentFunc(func)) =
        instance.get_export(engine, hook.as_str()).map(|e| e.ty)
    else {
        return Ok(());
    };
    func.typecheck::<Params, Return>(&ty.instance_type())
        .map_err(|e| UploadError::ComponentSignature {
            hook,
            message: format!("{e:#}"),
        })
}

/// What a call reads from the host's request document, by hook.
enum Request {
    Appraise(wit::AppraiseRequest),
    Rotate(wit::RotateRequest),
}

impl Request {
    /// Reads the host's JSON request (ABI 1's document) for `hook`.
    fn read(plugin: &str, hook: Hook, stdin: &[u8]) -> Result<Request, CallError> {
        let bad = |e: String| CallError::Request {
            plugin: plugin.to_owned(),
            message: format!("the {hook} request is not a valid document: {e}"),
        };
        let text = std::str::from_utf8(stdin).map_err(|e| bad(e.to_string()))?;
        Ok(match hook {
            Hook::Appraise => Request::Appraise(
                document::<kinerja_abi::AppraiseRequest>(text)
                    .map_err(bad)?
                    .into(),
            ),
            Hook::Rotate => Request::Rotate(
                document::<kinerja_abi::RotateRequest>(text)
                    .map_err(bad)?
                    .into(),
            ),
        })
    }
}

/// A request document: the ABI crate's quick reader where the document type has one (as the
/// pdk tries it first too), serde_json otherwise.
fn document<R: HookRequest + DeserializeOwned>(text: &str) -> Result<R, String> {
    R::parse_fast(text)
        .map_or_else(|| serde_json::from_str(text), Ok)
        .map_err(|e| e.to_string())
}

/// Runs `hook` of an ABI 2 plugin with the host's request document `stdin`, answering the
/// response document (or ABI 1's refusal document for an `err`) as the call's stdout.
pub(crate) fn run(
    engine: &Engine,
    limits: &Limits,
    id: &str,
    plugin: &Prepared,
    hook: Hook,
    stdin: &[u8],
) -> Result<CallOutput, CallError> {
    let started = Instant::now();
    let request = Request::read(id, hook, stdin)?;
    // What the plugin prints, on stdout or stderr, is its log.
    let log = MemoryOutputPipe::new(limits.stderr_bytes.saturating_add(1));
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_RESOURCES);
    let state = ComponentState {
        wasi: call::sandbox(&[], &log, &log).build(),
        table,
        limiter: CallLimiter::new(
            limits.memory_bytes,
            CORE_INSTANCES_PER_COMPONENT,
            MEMORIES_PER_COMPONENT,
            TABLES_PER_COMPONENT,
        ),
        random: StdRng::seed_from_u64(call::SECURE_RANDOM_SEED),
        insecure: StdRng::seed_from_u64(call::INSECURE_RANDOM_SEED),
    };
    let mut store = call::limited_store(engine, limits, state, |state| &mut state.limiter)?;
    // The answer is lifted into host memory before it is written out: bound what a plugin can
    // make the host copy (its strings and lists may all point at the same bytes) by the
    // response limit, as ABI 1's stdout is.
    store.set_hostcall_fuel(limits.stdout_bytes);

    let mut stdout = Vec::new();
    let outcome = execute(&mut store, plugin, request, &mut stdout);

    let (fuel_used, memory_hit) = call::finish(store, limits, |state| &state.limiter);
    let stderr: Vec<u8> = log.contents().into();
    if let Some(failure) = outcome
        .as_ref()
        .err()
        .and_then(|e| abi2_failure(id, limits, e, &stderr))
    {
        return Err(failure);
    }
    call::classify(
        id,
        limits,
        outcome,
        memory_hit,
        Captured {
            stdout,
            stderr,
            fuel_used,
            duration: started.elapsed(),
        },
    )
}

/// The failures particular to ABI 2 (the rest are classified as ABI 1's): an exit is a failure
/// whatever its status (the answer is the hook's return value, so exiting means there is
/// none); an answer over the response limit (the host stops copying it) and a log write over
/// the log's room are those limits, not traps.
fn abi2_failure(
    id: &str,
    limits: &Limits,
    error: &wasmtime::Error,
    stderr: &[u8],
) -> Option<CallError> {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Some(CallError::Exit {
            plugin: id.to_owned(),
            code: exit.0,
            stderr: stderr.to_vec(),
        });
    }
    let limit = |limit: LimitKind, value: usize| CallError::Limit {
        plugin: id.to_owned(),
        limit,
        value: value as u64,
        stderr: stderr[..stderr.len().min(limits.stderr_bytes)].to_vec(),
    };
    // wasmtime's and wasmtime-wasi's own errors, known only by their text.
    let cause = error.root_cause().to_string();
    if cause.contains("fuel allocated for hostcalls has been exhausted") {
        return Some(limit(LimitKind::Stdout, limits.stdout_bytes));
    }
    if cause.contains("capacity of MemoryOutputPipe") {
        return Some(limit(LimitKind::Stderr, limits.stderr_bytes));
    }
    None
}

/// Instantiates the component and calls the hook, writing its answer as JSON into `stdout`.
fn execute(
    store: &mut Store<ComponentState>,
    plugin: &Prepared,
    request: Request,
    stdout: &mut Vec<u8>,
) -> wasmtime::Result<()> {
    let instance = plugin.pre.instantiate(&mut *store)?;
    let missing = || call::InternalFault("a checked hook export is missing".into());
    let answer = match request {
        Request::Appraise(request) => {
            let indices = plugin.appraise.as_ref().ok_or_else(missing)?;
            let guest = indices.load(&mut *store, &instance)?;
            guest.call_appraise(&mut *store, &request)?.map(|response| {
                let response = kinerja_abi::AppraiseResponse::from(response);
                kinerja_abi::fast_write::appraise_response(&response)
            })
        }
        Request::Rotate(request) => {
            let indices = plugin.rotate.as_ref().ok_or_else(missing)?;
            let guest = indices.load(&mut *store, &instance)?;
            guest
                .call_rotate(&mut *store, &request)?
                .map(|response| serde_json::to_string(&kinerja_abi::RotateResponse::from(response)))
        }
    };
    let json = match answer {
        Ok(written) => written
            .map_err(|e| call::InternalFault(format!("cannot write the response document: {e}")))?,
        Err(message) => serde_json::to_string(&kinerja_abi::Refusal::new(message))
            .map_err(|e| call::InternalFault(format!("cannot write the refusal document: {e}")))?,
    };
    *stdout = json.into_bytes();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every document of the conformance fixtures goes to ABI 2's records and back unchanged:
    /// the mapping loses nothing a plugin could be asked or answer.
    #[test]
    fn fixtures_survive_the_round_trip() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/fixtures");
        let mut seen = 0;
        for region in std::fs::read_dir(&dir).expect("fixtures") {
            let region = region.expect("entry").path();
            if !region.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&region).expect("region fixtures") {
                let path = file.expect("entry").path();
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                let text = std::fs::read_to_string(&path).expect("fixture");
                if name.starts_with("appraise") && name.ends_with(".request.json") {
                    let a: kinerja_abi::AppraiseRequest = serde_json::from_str(&text).expect(name);
                    let w: wit::AppraiseRequest = a.clone().into();
                    let back = kinerja_abi::AppraiseRequest::try_from(w).expect(name);
                    assert_eq!(back, a, "{name}");
                    seen += 1;
                } else if name.starts_with("rotate") && name.ends_with(".request.json") {
                    let a: kinerja_abi::RotateRequest = serde_json::from_str(&text).expect(name);
                    let w: wit::RotateRequest = a.clone().into();
                    let back = kinerja_abi::RotateRequest::try_from(w).expect(name);
                    assert_eq!(back, a, "{name}");
                    seen += 1;
                }
            }
        }
        assert!(seen > 40, "only {seen} fixture requests found");
    }

    /// An ABI 2 decision replays against the bytes the host writes for its answer, so those
    /// bytes must never change for the same answer: this pins them.
    #[test]
    fn the_answer_document_is_written_byte_for_byte_as_before() {
        let response = wit::AppraiseResponse {
            results: vec![wit::AppraiseResult {
                nip: "198503122010011001".into(),
                hasil_kerja: wit::Rating::DiAtas,
                perilaku_kerja: wit::Rating::Sesuai,
                predikat: wit::Predikat::Baik,
                score: 101.25,
                components: vec![wit::Component {
                    name: "c \"x\"\u{1}é".into(),
                    value: 91.66666666666666,
                    weight: Some(0.8),
                }],
                recommendations: vec![wit::Recommendation {
                    kind: wit::RecommendationKind::Training,
                    subject: Some("kompeten".into()),
                }],
                explanation: "C 91.67 → baik".into(),
                tpp_percent: Some(100.0),
            }],
        };
        let json = kinerja_abi::fast_write::appraise_response(&response.into()).expect("written");
        assert_eq!(
            json,
            r#"{"results":[{"nip":"198503122010011001","hasil_kerja":"di_atas","perilaku_kerja":"sesuai","predikat":"baik","score":101.25,"components":[{"name":"c \"x\"\u0001é","value":91.66666666666666,"weight":0.8}],"recommendations":[{"kind":"training","subject":"kompeten"}],"explanation":"C 91.67 → baik","tpp_percent":100}]}"#
        );
    }

    #[test]
    fn responses_survive_the_round_trip() {
        let response: kinerja_abi::AppraiseResponse = serde_json::from_value(serde_json::json!({
            "results": [{
                "nip": "198001012006041001", "hasil_kerja": "di_atas", "perilaku_kerja": "sesuai",
                "predikat": "baik", "score": 101.25,
                "components": [{"name": "c", "value": 1.5, "weight": 0.6}, {"name": "p", "value": 2.0}],
                "recommendations": [{"kind": "training", "subject": "kompeten"}, {"kind": "reward"}],
                "explanation": "x", "tpp_percent": 100
            }, {
                "nip": "2", "hasil_kerja": "di_bawah", "perilaku_kerja": "di_bawah",
                "predikat": "sangat_kurang", "score": 0.0, "components": [],
                "recommendations": [], "explanation": "", "tpp_percent": 72.5
            }]
        }))
        .expect("response");
        let back =
            kinerja_abi::AppraiseResponse::from(wit::AppraiseResponse::from(response.clone()));
        assert_eq!(back, response);
        assert_eq!(
            serde_json::to_string(&back).expect("json"),
            serde_json::to_string(&response).expect("json"),
            "tpp_percent keeps its integer form"
        );

        let rotate: kinerja_abi::RotateResponse = serde_json::from_value(serde_json::json!({
            "talent": [{"nip": "1", "box": 9}, {"nip": "2", "box": null}],
            "moves": [{"nip": "1", "from": "a", "to": "b", "kind": "promotion",
                       "job_person_match": 87.5, "readiness": "needs_training", "training": ["x"]}],
            "flags": [{"nip": "2", "kind": "coaching_first", "detail": "d"}]
        }))
        .expect("rotate response");
        assert_eq!(
            kinerja_abi::RotateResponse::from(wit::RotateResponse::from(rotate.clone())),
            rotate
        );
    }
}
