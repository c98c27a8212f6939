//! A write transaction that stays open while a region-wide appraisal's plugin calls run.
//!
//! Storing 100,000 decisions took a third of a region-wide appraisal, mostly on one thread
//! (encoding rows, inserting them, committing) while the other cores waited. Here the
//! decisions of each call are written as soon as the call is checked, on a thread of their
//! own, while the next calls run; only the commit is left for the end. The appraisal is still
//! all or nothing: nothing is visible before [`Writer::commit`], and a writer dropped without
//! it aborts the transaction. The price is that the redb write lock is held for the whole
//! plugin phase instead of the store phase: other writers (records, small appraisals) wait a
//! few seconds longer behind a region-wide appraisal than they did.

use super::decisions::CallBytes;
use super::{Decision, Result, Store, StoreError};
use std::sync::mpsc;
use std::sync::Arc;

enum Msg {
    Chunk(Vec<Decision>, Vec<CallBytes>),
    Commit,
}

/// The sending side of a streaming decision write; see the module docs.
pub struct Writer {
    chunks: mpsc::Sender<Msg>,
    /// Every decision written, with its id, as the commit starts.
    written: tokio::sync::oneshot::Receiver<Vec<Decision>>,
    /// The commit's outcome, or the first write's error.
    done: tokio::sync::oneshot::Receiver<Result<()>>,
}

fn stopped() -> StoreError {
    StoreError::Db("the decision writer stopped before answering".into())
}

impl Store {
    /// Opens a write transaction on a thread of its own for [`Writer::write`].
    pub fn writer(self: &Arc<Self>) -> Result<Writer> {
        let (chunks, rx) = mpsc::channel();
        let (ready, written) = tokio::sync::oneshot::channel();
        let (answer, done) = tokio::sync::oneshot::channel();
        let store = Arc::clone(self);
        std::thread::Builder::new()
            .name("kinerja-writer".into())
            .spawn(move || {
                let res = store.write_stream(rx, ready);
                if let Err(e) = &res {
                    tracing::debug!(error = %e, "a streaming decision write ended without commit");
                }
                let _ = answer.send(res);
            })
            .map_err(|e| StoreError::Db(format!("starting the decision writer: {e}")))?;
        Ok(Writer {
            chunks,
            written,
            done,
        })
    }

    /// Writes every chunk received into one transaction; on `Commit` hands the decisions to
    /// `ready` and commits, and aborts (drops the transaction) when the sender goes away first.
    fn write_stream(
        &self,
        rx: mpsc::Receiver<Msg>,
        ready: tokio::sync::oneshot::Sender<Vec<Decision>>,
    ) -> Result<()> {
        let tx = self.db.begin_write()?;
        let mut all = Vec::new();
        for msg in rx {
            match msg {
                Msg::Chunk(mut decisions, calls) => {
                    self.write_decisions(&tx, &mut decisions, &calls)?;
                    all.append(&mut decisions);
                }
                Msg::Commit => {
                    let _ = ready.send(all);
                    tx.commit()?;
                    return Ok(());
                }
            }
        }
        Err(StoreError::Db(
            "the appraisal was abandoned; nothing was stored".into(),
        ))
    }
}

impl Writer {
    /// Queues one call's decisions and bytes; their ids follow the previous chunk's. Fails only
    /// when the writer has already stopped on an error, which [`Writer::commit`] then names.
    pub fn write(&self, decisions: Vec<Decision>, calls: Vec<CallBytes>) -> Result<()> {
        self.chunks
            .send(Msg::Chunk(decisions, calls))
            .map_err(|_| stopped())
    }

    /// Commits everything written and answers `prepare` of the decisions, with their ids, in
    /// the order written. `prepare` runs on a blocking thread while the commit writes and
    /// syncs (building a region's answer took as long as the sync), but its result is only
    /// answered once the commit is durable.
    pub async fn commit_with<T, F>(self, prepare: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Vec<Decision>) -> T + Send + 'static,
    {
        // A failed send means the writer stopped on an error, which `done` carries.
        let _ = self.chunks.send(Msg::Commit);
        let Ok(decisions) = self.written.await else {
            // The writer failed before the commit began.
            return Err(self
                .done
                .await
                .map_err(|_| stopped())?
                .err()
                .unwrap_or_else(stopped));
        };
        let prepared = tokio::task::spawn_blocking(move || prepare(decisions));
        self.done.await.map_err(|_| stopped())??;
        prepared
            .await
            .map_err(|e| StoreError::Db(format!("preparing the answer failed: {e}")))
    }

    /// [`Writer::commit_with`] answering the decisions themselves.
    pub async fn commit(self) -> Result<Vec<Decision>> {
        self.commit_with(|d| d).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::blob;
    use crate::store::tables::DECISIONS;

    fn chunk(tag: &str, n: usize) -> (Vec<Decision>, Vec<CallBytes>) {
        let ds = (0..n)
            .map(|i| Decision::sample(&format!("{tag}-{i}"), serde_json::json!({"i": i})))
            .collect();
        let bytes = CallBytes {
            input: blob::pack(tag.as_bytes()),
            output: blob::pack(b"{}"),
        };
        (ds, vec![bytes])
    }

    fn store() -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path()).expect("open"));
        (dir, store)
    }

    /// Chunks get consecutive ids in the order written, and all of them are stored.
    #[tokio::test]
    async fn commit_stores_every_chunk_in_order() {
        let (_dir, store) = store();
        let w = store.writer().expect("writer");
        for t in ["a", "b", "c"] {
            let (ds, calls) = chunk(t, 3);
            w.write(ds, calls).expect("write");
        }
        let stored = w.commit().await.expect("commit");
        let nips: Vec<_> = stored.iter().filter_map(|d| d.nip.clone()).collect();
        assert_eq!(
            nips,
            ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2", "c-0", "c-1", "c-2"]
        );
        let seqs: Vec<u64> = stored
            .iter()
            .map(|d| d.id["dec-".len()..].parse().expect("seq"))
            .collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        for d in &stored {
            assert_eq!(store.decision(&d.id).expect("stored").nip, d.nip);
        }
        assert_eq!(store.count(DECISIONS).expect("count"), 9);
    }

    /// A writer dropped without commit stores nothing, and the next write is not held up.
    #[tokio::test]
    async fn dropped_writer_stores_nothing() {
        let (_dir, store) = store();
        let w = store.writer().expect("writer");
        let (ds, calls) = chunk("gone", 5);
        w.write(ds, calls).expect("write");
        drop(w);
        let (mut ds, calls) = chunk("kept", 2);
        let s = Arc::clone(&store);
        tokio::task::spawn_blocking(move || s.put_decisions(&mut ds, &calls))
            .await
            .expect("join")
            .expect("put after abort");
        assert_eq!(store.count(DECISIONS).expect("count"), 2);
    }
}
