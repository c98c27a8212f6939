//! What an upload may cost before it is compiled.
//!
//! Compiling is the expensive step of an upload, and what a module costs to
//! compile and keep is not its size: many tiny functions or one enormous one
//! compile to far more native code than their bytes suggest, and a module's
//! memory and data decide what every instance maps. So the sections are read
//! (not validated, not compiled: wasmparser only walks their headers) and a
//! module over any bound is refused with a message naming it.

use wasmparser::{DataKind, Operator, Parser, Payload};

use crate::UploadError;

/// What one module may declare. Generous for real plugins (a Rust policy
/// plugin has a few hundred functions; a JavaScript engine compiled to Wasm a
/// few thousand) and far below what exhausts the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleBounds {
    /// Functions defined in the module (in all core modules of a component together).
    /// Default 50,000.
    pub functions: u32,
    /// Bytes of the code section (all function bodies; of all core modules of a component
    /// together): what the compiler works through. Default 12 MiB.
    pub code_bytes: u32,
    /// Bytes of the largest function body: compile time grows faster than a
    /// function's size. Default 1 MiB.
    pub function_bytes: usize,
    /// Bytes of all data segments together (of every module of a component). Default
    /// 24 MiB: a Python component starts from a snapshot of its initialised interpreter, about
    /// 11 MiB of data.
    pub data_bytes: usize,
    /// Whether 64-bit memories are accepted. Default no: ABI 1 plugins are
    /// wasm32.
    pub memory64: bool,
}

impl Default for ModuleBounds {
    fn default() -> Self {
        ModuleBounds {
            functions: 50_000,
            code_bytes: 12 << 20,
            function_bytes: 1 << 20,
            data_bytes: 24 << 20,
            memory64: false,
        }
    }
}

const WASM_PAGE: u64 = 64 * 1024;

fn costly(what: String, limit: String) -> UploadError {
    UploadError::TooCostly { what, limit }
}

/// Refuses a module over `bounds`, or whose own memory or data would not fit
/// in the per-call memory limit (it could never be called).
pub(crate) fn check(
    bytes: &[u8],
    bounds: &ModuleBounds,
    memory_limit: usize,
) -> Result<(), UploadError> {
    let invalid = |e: wasmparser::BinaryReaderError| UploadError::Invalid(e.to_string());
    let memory_limit = memory_limit as u64;
    let mut data_bytes = 0usize;
    let (mut functions, mut code_bytes) = (0u32, 0u32);
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            // Totals over every core module of a component, so that many small modules cost
            // no more than one large one.
            Payload::CodeSectionStart { count, size, .. } => {
                functions = functions.saturating_add(count);
                code_bytes = code_bytes.saturating_add(size);
                if functions > bounds.functions {
                    return Err(costly(
                        format!("{functions} functions"),
                        format!("{} functions", bounds.functions),
                    ));
                }
                if code_bytes > bounds.code_bytes {
                    return Err(costly(
                        format!("{code_bytes} bytes of code"),
                        format!("{} bytes of code", bounds.code_bytes),
                    ));
                }
            }
            Payload::CodeSectionEntry(body) => {
                let len = body.range().len();
                if len > bounds.function_bytes {
                    return Err(costly(
                        format!("a function of {len} bytes"),
                        format!("{} bytes per function", bounds.function_bytes),
                    ));
                }
            }
            Payload::MemorySection(memories) => {
                for memory in memories {
                    let memory = memory.map_err(invalid)?;
                    if memory.memory64 && !bounds.memory64 {
                        return Err(costly(
                            "a 64-bit memory".into(),
                            "32-bit memories (ABI 1 plugins are wasm32)".into(),
                        ));
                    }
                    let initial = memory.initial.saturating_mul(WASM_PAGE);
                    if initial > memory_limit {
                        return Err(costly(
                            format!("an initial memory of {initial} bytes"),
                            format!("the per-call memory limit of {memory_limit} bytes"),
                        ));
                    }
                }
            }
            Payload::DataSection(segments) => {
                for segment in segments {
                    let segment = segment.map_err(invalid)?;
                    data_bytes = data_bytes.saturating_add(segment.data.len());
                    if data_bytes > bounds.data_bytes {
                        return Err(costly(
                            format!("more than {} bytes of data segments", bounds.data_bytes),
                            format!("{} bytes", bounds.data_bytes),
                        ));
                    }
                    if let Some(end) = active_end(&segment.kind, segment.data.len()) {
                        if end > memory_limit {
                            return Err(costly(
                                format!("a data segment ending at byte {end}"),
                                format!("the per-call memory limit of {memory_limit} bytes"),
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Where an active segment with a constant offset ends in memory.
fn active_end(kind: &DataKind<'_>, len: usize) -> Option<u64> {
    let DataKind::Active { offset_expr, .. } = kind else {
        return None;
    };
    let offset = match offset_expr.get_operators_reader().read().ok()? {
        Operator::I32Const { value } => u64::from(value as u32),
        Operator::I64Const { value } => value as u64,
        _ => return None,
    };
    Some(offset.saturating_add(len as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(wat: &str) -> Vec<u8> {
        wat::parse_str(wat).expect("valid wat")
    }

    #[test]
    fn ordinary_modules_pass() {
        let m =
            module(r#"(module (memory 1) (data (i32.const 16) "hi") (func (export "appraise")))"#);
        check(&m, &ModuleBounds::default(), 64 << 20).expect("within bounds");
    }

    #[test]
    fn each_bound_is_named() {
        let few = ModuleBounds {
            functions: 2,
            code_bytes: 1 << 20,
            function_bytes: 64,
            data_bytes: 4,
            memory64: false,
        };
        let three = module("(module (func) (func) (func))");
        let e = check(&three, &few, 1 << 20).unwrap_err().to_string();
        assert!(
            e.contains("3 functions") && e.contains("limit of 2 functions"),
            "{e}"
        );

        let big = format!("(module (func {}))", "(nop)".repeat(100));
        let e = check(&module(&big), &few, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("bytes per function"), "{e}");

        let data = module(r#"(module (memory 1) (data (i32.const 0) "hello"))"#);
        let e = check(&data, &few, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("data segments"), "{e}");

        let tight = ModuleBounds {
            code_bytes: 8,
            ..ModuleBounds::default()
        };
        let e = check(&three, &tight, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("bytes of code"), "{e}");

        let far = module(r#"(module (memory 1) (data (i32.const 70000) "x"))"#);
        let e = check(&far, &ModuleBounds::default(), 65536)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ending at byte 70001"), "{e}");

        let huge = module("(module (memory 2000))");
        let e = check(&huge, &ModuleBounds::default(), 64 << 20)
            .unwrap_err()
            .to_string();
        assert!(e.contains("initial memory"), "{e}");

        let wide = module("(module (memory i64 1))");
        let e = check(&wide, &ModuleBounds::default(), 64 << 20)
            .unwrap_err()
            .to_string();
        assert!(e.contains("64-bit memory"), "{e}");
    }
}
