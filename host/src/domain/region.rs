//! Regions: the regional governments (and their parts) Kinerja serves, as records an admin
//! creates. Nothing in the code lists them: a region exists once it is written.

use super::reporting::TimeZone;
use super::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most characters a region id may have: a DNS label's, so that an id is also a safe
/// file name and host name part wherever a region's data goes.
pub const REGION_ID_MAX: usize = 63;

/// The most characters of a region's name.
const REGION_NAME_MAX: usize = 200;

/// Whether `id` is a region slug: lowercase letters and digits in runs joined by single
/// hyphens, starting with a letter, at most [`REGION_ID_MAX`] characters (`jambi`,
/// `tenayan-raya`, `kota-pekanbaru`). 400 naming the rule otherwise.
pub fn validate_region_id(id: &str) -> Result<(), FieldError> {
    let ok = id.len() <= REGION_ID_MAX
        && id.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        // Checked on every request under a region's prefix: no message built for a valid id.
        return Ok(());
    }
    Err(FieldError::new(
        "region",
        format!(
            "region id {:?} is not a slug: lowercase letters and digits joined by single \
             hyphens, starting with a letter, at most {REGION_ID_MAX} characters \
             (e.g. \"kota-pekanbaru\")",
            // A path segment may be long: enough of it to recognise.
            id.chars().take(REGION_ID_MAX + 1).collect::<String>()
        ),
    ))
}

/// The level of government a region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Provinsi,
    Kabupaten,
    Kota,
    Kecamatan,
}

/// What an admin writes of a region (`PUT /api/v1/regions/{region}`), whole.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionInput {
    /// Display name, e.g. "Pemerintah Kota Pekanbaru".
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub level: RegionLevel,
    /// The zone whose date is "today" for the region (its reports' dates).
    pub time_zone: TimeZone,
}

impl RegionInput {
    /// The name is plain text of one line, as every name is (see `records::text_of`).
    pub fn validate(&self) -> Result<(), FieldError> {
        super::records::text_of("name", &self.name, REGION_NAME_MAX, false)
    }
}

/// A region as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Region {
    pub id: String,
    pub name: String,
    /// Null only for a region an earlier version created, until an admin writes it.
    pub level: Option<RegionLevel>,
    /// The region's time zone; its reporting rules use it (one setting, shown in both).
    pub time_zone: TimeZone,
    /// Null for a region an earlier version created.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_ids_are_slugs() {
        for ok in ["jambi", "tenayan-raya", "kota-pekanbaru", "kab-2", "a"] {
            assert!(validate_region_id(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(REGION_ID_MAX + 1);
        for bad in [
            "",
            "Jambi",
            "2jambi",
            "-jambi",
            "jambi-",
            "a--b",
            "a_b",
            "a/b",
            "a b",
            "é",
            long.as_str(),
        ] {
            let err = validate_region_id(bad).expect_err(bad);
            assert_eq!(err.field, "region");
            assert!(err.message.contains("slug"), "{}", err.message);
        }
    }
}
