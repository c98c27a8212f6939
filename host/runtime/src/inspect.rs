//! Upload validation from a module's header, imports and exports alone.
//!
//! A module is never instantiated at upload: its `start` function could loop
//! and hang the request. Everything ABI 1 requires can be read from the
//! module's declarations.

use wasmtime::{ExternType, Module, ModuleExport};

use crate::{Hook, UploadError, WASI_MODULE};

const MAGIC: &[u8; 4] = b"\0asm";

/// What an upload is, from its preamble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A core module: ABI 1.
    Module,
    /// A component: ABI 2.
    Component,
}

/// Checks the 8-byte preamble: the magic number, then version and layer. A
/// core module has layer 0 (ABI 1); a component has layer 1 (ABI 2).
pub(crate) fn check_header(bytes: &[u8]) -> Result<Kind, UploadError> {
    if bytes.len() < MAGIC.len() || &bytes[..4] != MAGIC {
        return Err(UploadError::NotWasm);
    }
    match bytes.get(4..8) {
        None => Err(UploadError::Invalid(
            "the module ends inside its 8-byte header".into(),
        )),
        Some([_, _, 1, 0]) => Ok(Kind::Component),
        Some([1, 0, 0, 0]) => Ok(Kind::Module),
        Some(other) => Err(UploadError::Invalid(format!(
            "unsupported WebAssembly binary version {:02x?} (ABI 1 needs a core module of version 1, ABI 2 a component)",
            other
        ))),
    }
}

/// How a hook is entered.
#[derive(Clone, Copy)]
pub(crate) enum Entry {
    /// A reactor export named after the hook; `_initialize` first if exported.
    Export {
        func: ModuleExport,
        initialize: Option<ModuleExport>,
    },
    /// The command entry point, with `argv = ["plugin", "<hook>"]`.
    Start(ModuleExport),
}

/// The entry point of each hook a module offers.
pub(crate) struct Entries {
    appraise: Option<Entry>,
    rotate: Option<Entry>,
}

impl Entries {
    pub(crate) fn entry(&self, hook: Hook) -> Option<Entry> {
        match hook {
            Hook::Appraise => self.appraise,
            Hook::Rotate => self.rotate,
        }
    }

    /// The offered hooks in [`Hook::ALL`] order.
    pub(crate) fn hooks(&self) -> Vec<Hook> {
        Hook::ALL
            .into_iter()
            .filter(|h| self.entry(*h).is_some())
            .collect()
    }
}

/// Checks imports and entry-point exports and works out each hook's entry.
///
/// - Every import must come from `wasi_snapshot_preview1` (that each one is a
///   function this host provides, with the right type, is checked when the
///   module is linked).
/// - `appraise`, `rotate`, `_start` and `_initialize`, if exported, must be
///   functions of type `() -> ()`.
/// - A hook is offered if its export exists (reactor style) or, failing
///   that, if `_start` does (command style, the contract's order of
///   preference). A module with none of them offers nothing and is refused.
pub(crate) fn entries(module: &Module) -> Result<Entries, UploadError> {
    for import in module.imports() {
        if import.module() != WASI_MODULE {
            return Err(UploadError::ForbiddenImport {
                module: import.module().to_owned(),
                name: import.name().to_owned(),
            });
        }
    }

    let unit_func = |name: &str| -> Result<Option<ModuleExport>, UploadError> {
        let Some(export) = module.get_export(name) else {
            return Ok(None);
        };
        match export {
            ExternType::Func(ty) if ty.params().len() == 0 && ty.results().len() == 0 => {}
            _ => {
                return Err(UploadError::BadHookType {
                    name: name.to_owned(),
                })
            }
        }
        module
            .get_export_index(name)
            .map(Some)
            .ok_or_else(|| UploadError::Invalid(format!("the export `{name}` cannot be resolved")))
    };

    let appraise = unit_func(Hook::Appraise.as_str())?;
    let rotate = unit_func(Hook::Rotate.as_str())?;
    let start = unit_func("_start")?;
    let initialize = unit_func("_initialize")?;

    let entry = |export: Option<ModuleExport>| match (export, start) {
        (Some(func), _) => Some(Entry::Export { func, initialize }),
        (None, Some(start)) => Some(Entry::Start(start)),
        (None, None) => None,
    };
    let entries = Entries {
        appraise: entry(appraise),
        rotate: entry(rotate),
    };
    if entries.appraise.is_none() && entries.rotate.is_none() {
        return Err(UploadError::NoHook);
    }
    Ok(entries)
}
