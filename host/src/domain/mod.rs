//! Types and validation of the ASN records and of who may do what. No I/O here: the store and
//! the API both build on these rules, so they are written once.

pub mod auth;
pub mod date;
pub mod distribution;
pub mod feedback;
pub mod nip;
pub mod org;
pub mod password;
pub mod period;
pub mod ratings;
pub mod records;
pub mod region;
pub mod reporting;
pub mod skp;
pub mod survey;

/// A client mistake in one named field; the API turns it into a 400 whose message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub(crate) fn check(ok: bool, field: &str, message: impl Into<String>) -> Result<(), FieldError> {
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(field, message))
    }
}

/// Free text (names, titles, descriptions, labels) may be any Unicode a person writes —
/// Indonesian text, punctuation, emoji — but no control characters (NUL, escape, DEL, C1):
/// they break terminals, logs, CSV exports and C-string consumers downstream. Nor the
/// bidirectional overrides and isolates U+202A–U+202E and U+2066–U+2069, which make text
/// display in another order than it is stored ("Trojan Source"): a name could read as someone
/// else's. `multiline` text (an activity report) may also hold line feeds, carriage returns
/// and tabs, which are how people lay out a paragraph; one-line text (a name) may not.
pub fn plain_text(field: &str, value: &str, multiline: bool) -> Result<(), FieldError> {
    for (i, ch) in value.chars().enumerate() {
        let what = match ch {
            '\n' | '\r' | '\t' if multiline => continue,
            c if c.is_control() => "a control character",
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                "a bidirectional override or isolate"
            }
            _ => continue,
        };
        return Err(FieldError::new(
            field,
            format!(
                "must not contain {what} (U+{:04X} at character {})",
                ch as u32,
                i + 1
            ),
        ));
    }
    Ok(())
}

/// Ids of agencies, positions and plugins appear in store keys and URLs; a narrow alphabet
/// rules out path traversal and key-separator confusion at the door.
pub fn validate_id(field: &str, id: &str) -> Result<(), FieldError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    check(
        ok,
        field,
        format!(
            "`{}` is not a valid id: use 1–64 lowercase letters, digits, `-` or `_`, starting with a letter or digit",
            id.chars().take(70).collect::<String>()
        ),
    )
}

/// Keys inside records (competency names like `teknis.pendidikan`, indicator ids) may also use dots.
/// Whether `s` is a SHA-256 as the server writes them: 64 lowercase hexadecimal digits (the id
/// of a module, of an evidence file).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub fn validate_key(field: &str, key: &str) -> Result<(), FieldError> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    check(ok, field, "must be 1–64 letters, digits, `-`, `_` or `.`")
}

/// Now as RFC 3339 UTC with seconds, the one timestamp format of the API.
/// Nanoseconds since 1970, for names that must differ from one moment to the next (files
/// kept aside); 0 on a clock before 1970.
pub fn nanos_now() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

pub fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

/// `at` in the API's timestamp format. The format is fixed-width, so two timestamps compare as
/// strings the way they compare as times (a session's expiry is checked that way).
pub fn rfc3339(at: std::time::SystemTime) -> String {
    let now = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let d = date::Date::from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{d}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["dinas-pendidikan", "guru_ahli_muda", "a", "9x"] {
            assert!(validate_id("id", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../etc",
            "A",
            "a/b",
            "-x",
            "a.b",
            &"x".repeat(65),
            "a%2f",
        ] {
            assert!(validate_id("id", bad).is_err(), "{bad}");
        }
        assert!(validate_key("k", "teknis.pendidikan").is_ok());
        assert!(validate_key("k", "a/b").is_err());
    }

    #[test]
    fn plain_text_refuses_controls_and_bidi_overrides() {
        for good in [
            "Dinas Pendidikan & Kebudayaan",
            "Siti Rahma, S.Pd.",
            "“Maju” — 100% 🎓",
            "a\u{301}",
            "ÅÉÎ ١٢٣",
        ] {
            assert!(plain_text("name", good, false).is_ok(), "{good}");
        }
        for bad in [
            "a\u{0}b",
            "a\u{7}",
            "a\nb",
            "a\tb",
            "\u{1b}[31m",
            "a\u{7f}",
            "a\u{85}",
            "\u{202A}x",
            "\u{202E}x",
            "x\u{2066}",
            "x\u{2069}",
        ] {
            let e = plain_text("name", bad, false).unwrap_err();
            assert_eq!(e.field, "name", "{bad:?}");
        }
        assert!(plain_text("d", "baris 1\r\n\tbaris 2", true).is_ok());
        assert!(plain_text("d", "a\u{0}", true).is_err());
        assert!(plain_text("d", "a\u{202E}", true).is_err());
    }

    #[test]
    fn timestamp_shape() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z'));
    }
}
