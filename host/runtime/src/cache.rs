//! The on-disk cache of compiled modules, so a restart does not recompile.
//!
//! File name: `<module sha256>-<engine hash>.cwasm`, where the engine hash is
//! derived from [`wasmtime::Engine::precompile_compatibility_hash`] (wasmtime
//! version and every codegen-relevant setting). A new wasmtime or a changed
//! engine setting thus simply misses the cache.
//!
//! File layout: a 16-byte magic, the SHA-256 of the payload (32 bytes), then
//! the payload, which is exactly [`wasmtime::Module::serialize`]'s output.
//! The digest catches torn writes and disk corruption; a file without the
//! magic (e.g. one made by `wasmtime compile`) is not ours and is ignored.
//! A bad file is never trusted: the module is recompiled and the file
//! replaced. Files are written to a temporary name and renamed into place, so
//! readers never see a partial file.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, Module, Precompiled};

use crate::{RuntimeError, UploadError};

const MAGIC: &[u8; 16] = b"KINERJA-CWASM-v1";
const HEADER_LEN: usize = MAGIC.len() + 32;

#[derive(Debug)]
pub(crate) struct ArtifactCache {
    dir: PathBuf,
    engine_hash: String,
    temp_counter: AtomicU64,
}

/// Feeds `Hash` input into SHA-256, so the engine hash is stable across
/// processes and Rust versions (unlike `DefaultHasher`, whose algorithm is
/// unspecified).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Unused: the full digest is taken with `finalize` instead.
        0
    }
}

impl ArtifactCache {
    pub(crate) fn open(dir: PathBuf, engine: &Engine) -> Result<Self, RuntimeError> {
        fs::create_dir_all(&dir).map_err(|e| {
            RuntimeError::Cache(format!("cannot create directory {}: {e}", dir.display()))
        })?;
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let digest = hasher.0.finalize();
        remove_temporaries(&dir);
        Ok(ArtifactCache {
            dir,
            engine_hash: hex::encode(&digest[..8]),
            temp_counter: AtomicU64::new(0),
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn engine_hash(&self) -> &str {
        &self.engine_hash
    }

    pub(crate) fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}-{}.cwasm", self.engine_hash))
    }

    /// The cached module for `id`, or `None` if there is no usable artifact
    /// (missing, unreadable, corrupt, foreign, or refused by wasmtime). Never
    /// fails: a cache miss only costs a compilation.
    pub(crate) fn load(&self, engine: &Engine, id: &str) -> Option<Compiled> {
        let path = self.path(id);
        let file = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read cached module; recompiling");
                return None;
            }
        };
        let Some(payload) = verified_payload(&file) else {
            tracing::warn!(path = %path.display(), "cached module is corrupt or not written by this runtime; recompiling");
            return None;
        };
        // SAFETY: `Module::deserialize` and `Component::deserialize` trust their
        // input to be an artifact wasmtime produced, since they map it as
        // executable code. `payload` is one: it comes from a file in the
        // server's private cache directory whose name is keyed by this
        // module's SHA-256 and this engine's compatibility hash, that carries
        // our magic (so it was written by `store` below, i.e. by `serialize`
        // of a module or component this runtime compiled and accepted, which
        // `detect_precompiled` tells apart), and whose content matches the
        // SHA-256 recorded when it was written (so it is not torn or
        // corrupted). The bytes are verified in memory and deserialized from
        // that same buffer, so the file cannot change in between. wasmtime
        // additionally checks its own header and the engine configuration.
        let loaded = match Engine::detect_precompiled(payload) {
            Some(Precompiled::Component) => {
                unsafe { Component::deserialize(engine, payload) }.map(Compiled::Component)
            }
            _ => unsafe { Module::deserialize(engine, payload) }.map(Compiled::Module),
        };
        match loaded {
            Ok(compiled) => Some(compiled),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %format!("{e:#}"), "wasmtime refused the cached module; recompiling");
                None
            }
        }
    }

    /// Writes the compiled module or component for `id` atomically (temp file + rename).
    pub(crate) fn store(&self, id: &str, compiled: &Compiled) -> Result<(), UploadError> {
        let payload = match compiled {
            Compiled::Module(module) => module.serialize(),
            Compiled::Component(component) => component.serialize(),
        }
        .map_err(|e| UploadError::Cache(format!("cannot serialize the compiled module: {e:#}")))?;
        let path = self.path(id);
        let temp = self.dir.join(format!(
            ".{id}-{}.{}.{}.tmp",
            self.engine_hash,
            std::process::id(),
            self.temp_counter.fetch_add(1, Ordering::Relaxed)
        ));
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temp)?;
            file.write_all(MAGIC)?;
            file.write_all(&Sha256::digest(&payload))?;
            file.write_all(&payload)?;
            file.sync_all()?;
            fs::rename(&temp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temp);
            UploadError::Cache(format!("cannot write {}: {e}", path.display()))
        })
    }
}

/// A compiled upload: a core module (ABI 1) or a component (ABI 2).
pub(crate) enum Compiled {
    Module(Module),
    Component(Component),
}

impl Compiled {
    /// Bytes of compiled code and data it keeps mapped.
    pub(crate) fn resident(&self) -> usize {
        let image = match self {
            Compiled::Module(module) => module.image_range(),
            Compiled::Component(component) => component.image_range(),
        };
        (image.end as usize).saturating_sub(image.start as usize)
    }
}

/// Removes the temporary files of writes that never finished (the process
/// stopped between creating and renaming one). Only this runtime writes here,
/// and it is starting, so none of them is in use.
fn remove_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut removed = 0usize;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") && fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(dir = %dir.display(), removed, "removed unfinished compiled-module files");
    }
}

/// The payload of a cache file if its magic and digest check out.
fn verified_payload(file: &[u8]) -> Option<&[u8]> {
    if file.len() < HEADER_LEN || &file[..MAGIC.len()] != MAGIC {
        return None;
    }
    let (digest, payload) = file[MAGIC.len()..].split_at(32);
    (Sha256::digest(payload).as_slice() == digest).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_checks_magic_and_digest() {
        let payload = b"compiled code";
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&Sha256::digest(payload));
        file.extend_from_slice(payload);
        assert_eq!(verified_payload(&file), Some(&payload[..]));

        let mut corrupt = file.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        assert_eq!(verified_payload(&corrupt), None);

        assert_eq!(verified_payload(&file[..HEADER_LEN - 1]), None);
        assert_eq!(
            verified_payload(b"\x7fELF not ours at all, long enough to pass the header length"),
            None
        );
    }
}
