//! The names of the files in a data dir's regions directory, and the one way to list it.
//!
//! A region lives in `regions/{id}.redb`. Two other kinds of file sit beside it during and
//! after a move (`kinerja region move`): the file a target is taking in, named apart until it
//! is whole, and the file a source let go of, kept for the operator. Starting, backing up,
//! restoring and re-creating a region all read the directory through [`list`], so they agree
//! on which file is which.

use std::path::{Path, PathBuf};

use super::backup::{REPLACED_SUFFIX, STAGED_SUFFIX};
use super::REGIONS_DIR;

/// What a source keeps a region's file as once it lets go of it, before the time (nanoseconds
/// since 1970) after a `-`; the operator removes it when the move is confirmed.
pub const MOVED_SUFFIX: &str = ".moved";

/// What a target names a region's file while taking it in, before the time after a `-`: never
/// served, and removed at the next start if the node stopped before it was whole.
const INCOMING_SUFFIX: &str = ".incoming";

/// The file of region `id` in `data_dir`.
pub fn region_file(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join(region_rel(id))
}

/// Where region `id`'s file lies in a data dir (and in a backup, whose manifests name files
/// so), relative to it.
pub(crate) fn region_rel(id: &str) -> String {
    format!("{REGIONS_DIR}/{id}.redb")
}

/// The region whose file `rel` (a path relative to a data dir) would be, if it has a region
/// file's shape; the id is not checked.
pub(crate) fn region_of_rel(rel: &str) -> Option<&str> {
    rel.strip_prefix(REGIONS_DIR)?
        .strip_prefix('/')?
        .strip_suffix(".redb")
}

/// Where a source keeps region `id`'s file after letting go of it at time `nanos`.
pub(crate) fn moved_file(data_dir: &Path, id: &str, nanos: u128) -> PathBuf {
    data_dir
        .join(REGIONS_DIR)
        .join(format!("{id}.redb{MOVED_SUFFIX}-{nanos}"))
}

/// Where a target writes region `id`'s file while taking it in (`nanos`: one name per send).
pub(crate) fn incoming_file(data_dir: &Path, id: &str, nanos: u128) -> PathBuf {
    data_dir
        .join(REGIONS_DIR)
        .join(format!("{id}.redb{INCOMING_SUFFIX}-{nanos}"))
}

/// A file of the regions directory, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listed {
    /// `{id}.redb` with a well-formed region id: a region's file.
    Region { id: String, path: PathBuf },
    /// A region's file half taken in.
    Incoming(PathBuf),
    /// Region `id`'s file kept after a move away.
    Moved { id: String, path: PathBuf },
    /// A file a restore replaced (kept for the operator) or was checking when it stopped.
    Restored(PathBuf),
    /// Anything else: left alone.
    Other(PathBuf),
}

impl Listed {
    fn of(path: PathBuf) -> Listed {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return Listed::Other(path);
        };
        let valid = |id: &str| crate::domain::region::validate_region_id(id).is_ok();
        if let Some(id) = name.strip_suffix(".redb").filter(|id| valid(id)) {
            let id = id.to_string();
            return Listed::Region { id, path };
        }
        if let Some((id, _)) = name.split_once(&format!(".redb{MOVED_SUFFIX}-")) {
            if valid(id) {
                let id = id.to_string();
                return Listed::Moved { id, path };
            }
        }
        if name.contains(&format!(".redb{INCOMING_SUFFIX}-")) {
            return Listed::Incoming(path);
        }
        if name.contains(&format!(".redb{REPLACED_SUFFIX}-"))
            || name.ends_with(&format!(".redb{STAGED_SUFFIX}"))
        {
            return Listed::Restored(path);
        }
        Listed::Other(path)
    }
}

/// The files of `data_dir`'s regions directory (which may be a backup's), in file-name order.
pub(crate) fn list(data_dir: &Path) -> std::io::Result<Vec<Listed>> {
    let dir = data_dir.join(REGIONS_DIR);
    let mut paths = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    paths.sort();
    Ok(paths.into_iter().map(Listed::of).collect())
}

/// The ids of the region files in `data_dir`, in file-name order (the files on disk, whether
/// or not a store has them open).
pub(crate) fn region_ids(data_dir: &Path) -> std::io::Result<Vec<String>> {
    Ok(list(data_dir)?
        .into_iter()
        .filter_map(|listed| match listed {
            Listed::Region { id, .. } => Some(id),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name the server writes is read back as what it is; anything else is left alone.
    #[test]
    fn names_are_read_back_as_what_was_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::create_dir_all(d.join(REGIONS_DIR)).expect("mkdir");
        let written = [
            region_file(d, "jambi"),
            moved_file(d, "kota-dumai", 7),
            incoming_file(d, "kota-dumai", 8),
            d.join(REGIONS_DIR).join("Not A Region.redb"),
            d.join(REGIONS_DIR).join("notes.txt"),
            d.join(REGIONS_DIR)
                .join(format!("jambi.redb{REPLACED_SUFFIX}-9")),
            d.join(REGIONS_DIR)
                .join(format!("jambi.redb{STAGED_SUFFIX}")),
        ];
        for path in &written {
            std::fs::write(path, b"").expect("write");
        }
        let mut expected = vec![
            Listed::Region {
                id: "jambi".into(),
                path: written[0].clone(),
            },
            Listed::Moved {
                id: "kota-dumai".into(),
                path: written[1].clone(),
            },
            Listed::Incoming(written[2].clone()),
            Listed::Other(written[3].clone()),
            Listed::Other(written[4].clone()),
            Listed::Restored(written[5].clone()),
            Listed::Restored(written[6].clone()),
        ];
        let key = |l: &Listed| match l {
            Listed::Region { path, .. } | Listed::Moved { path, .. } => path.clone(),
            Listed::Incoming(path) | Listed::Restored(path) | Listed::Other(path) => path.clone(),
        };
        expected.sort_by_key(key);
        assert_eq!(list(d).expect("list"), expected);
        assert_eq!(region_ids(d).expect("ids"), ["jambi"]);
    }
}
