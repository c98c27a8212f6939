//! Feedback notes (umpan balik berkelanjutan): dated text a supervisor writes to an employee,
//! one row each, oldest first, under the employee's key.

use super::records::employee_exists;
use super::tables::FEEDBACK;
use super::{audit, next_seq, page_json, to_json, Page, Result, Store};
use crate::domain::feedback::{Note, NoteInput};
use crate::domain::now_rfc3339;
use redb::ReadableDatabase;

impl Store {
    /// Adds a note to an existing employee and audits it.
    pub fn add_feedback(
        &self,
        region: &str,
        nip: &str,
        input: NoteInput,
        actor: &str,
        author_nip: Option<String>,
    ) -> Result<Note> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        employee_exists(&tx, region, nip)?;
        let seq = next_seq(&tx, "feedback")?;
        let note = Note {
            id: format!("{seq:016}"),
            at: now_rfc3339(),
            by: actor.to_string(),
            author_nip,
            text: input.text,
            dialog: input.dialog,
        };
        tx.open_table(FEEDBACK)?.insert(
            format!("{region}/{nip}/{}", note.id).as_str(),
            to_json(&note)?.as_slice(),
        )?;
        audit::record_about(
            &tx,
            Some(actor),
            "feedback.add",
            (region, nip),
            nip,
            serde_json::json!({ "id": note.id }),
        )?;
        tx.commit()?;
        Ok(note)
    }

    /// One page of an employee's notes, oldest first.
    pub fn feedback(
        &self,
        region: &str,
        nip: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<Note>> {
        let tx = self.shard(region)?.db.begin_read()?;
        page_json(
            &tx.open_table(FEEDBACK)?,
            &format!("{region}/{nip}/"),
            cursor,
            limit,
            |_: &Note| true,
        )
    }
}
