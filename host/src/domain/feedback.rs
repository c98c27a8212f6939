//! A supervisor's feedback notes to an employee (umpan balik berkelanjutan), and the
//! performance dialogue (dialog kinerja) a note can record as held.

use super::date::Date;
use super::records::text_of;
use super::{check, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most characters of a note: a page of text, which is what a dialogue's summary is.
pub const TEXT_MAX: usize = 4000;

/// Most characters of a dialogue's outcome.
pub const OUTCOME_MAX: usize = 2000;

/// A dialogue recommended by an appraisal, marked as held.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dialog {
    pub held_on: Date,
    /// What was agreed.
    #[schema(min_length = 1, max_length = 2000)]
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    #[schema(min_length = 1, max_length = 4000)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog: Option<Dialog>,
}

impl NoteInput {
    /// Text 1–4000 characters of plain text (line breaks allowed); a dialogue held on a day
    /// not after `today`, with its outcome.
    pub fn validate(&self, today: Date) -> Result<(), FieldError> {
        text_of("text", &self.text, TEXT_MAX, true)?;
        if let Some(d) = &self.dialog {
            check(
                d.held_on <= today,
                "dialog.held_on",
                format!("{} is in the future", d.held_on),
            )?;
            text_of("dialog.outcome", &d.outcome, OUTCOME_MAX, true)?;
        }
        Ok(())
    }
}

/// A stored note.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Note {
    /// Ordered by time of writing.
    pub id: String,
    pub at: String,
    /// The token or session that wrote it.
    pub by: String,
    /// The writer's NIP when an employee (the supervisor) wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_nip: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog: Option<Dialog>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes() {
        let today: Date = "2026-06-01".parse().unwrap();
        let note = |text: &str, dialog: Option<(&str, &str)>| NoteInput {
            text: text.into(),
            dialog: dialog.map(|(d, o)| Dialog {
                held_on: d.parse().unwrap(),
                outcome: o.into(),
            }),
        };
        assert!(note("Laporan tepat waktu.\nPertahankan.", None)
            .validate(today)
            .is_ok());
        assert!(note("  ", None).validate(today).is_err());
        assert!(note(&"x".repeat(4001), None).validate(today).is_err());
        assert!(note("a\u{1b}b", None).validate(today).is_err());
        assert!(note("ok", Some(("2026-05-30", "Target Q3 disepakati")))
            .validate(today)
            .is_ok());
        assert!(note("ok", Some(("2026-06-02", "x")))
            .validate(today)
            .is_err());
        assert!(note("ok", Some(("2026-05-30", "")))
            .validate(today)
            .is_err());
    }
}
