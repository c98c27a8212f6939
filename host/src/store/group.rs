//! Group commit of decisions.
//!
//! Every appraisal request stores its decisions durably before it answers, and a durable redb
//! commit is an fsync: about a millisecond, during which no other writer may commit. One
//! commit per request capped concurrent single-employee appraisals at about 900 a second
//! however fast the plugin was. Here, whoever holds the commit lock writes every request
//! queued behind it in one transaction and one fsync, then hands each its own answer; a
//! request is still answered only after its decisions are on disk, and each request's
//! decisions are still all or nothing (see [`Store::put_decisions`]).

use super::decisions::CallBytes;
use super::{Decision, Result, Store, StoreError};
use std::sync::mpsc;
use std::sync::Mutex;

/// One request's decisions waiting to be written, and where its answer goes.
struct Job {
    decisions: Vec<Decision>,
    calls: Vec<CallBytes>,
    reply: mpsc::Sender<Result<Vec<Decision>>>,
}

/// The queue and the lock of group commit; part of [`Store`].
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Vec<Job>>,
    commit: Mutex<()>,
}

fn lost() -> StoreError {
    StoreError::Db("a decision writer stopped before answering".into())
}

/// The locks guard no invariant of their own (the queue is a list, the commit lock only
/// serialises leaders), so a panic elsewhere must not stop every later write: take them back.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Store {
    /// Stores one request's decisions durably, sharing the commit with the requests that
    /// arrive meanwhile. Answers the decisions with their ids. Blocking.
    pub fn put_decisions_grouped(
        &self,
        decisions: Vec<Decision>,
        calls: Vec<CallBytes>,
    ) -> Result<Vec<Decision>> {
        self.put_decisions_grouped_each(vec![(decisions, calls)])
            .pop()
            .unwrap_or_else(|| Err(lost()))
    }

    /// [`Store::put_decisions_grouped`] for several requests at once (appraisals that shared
    /// a plugin call): each request's decisions are still all or nothing on their own, and
    /// the answers are in the order given. Blocking.
    pub fn put_decisions_grouped_each(
        &self,
        requests: Vec<(Vec<Decision>, Vec<CallBytes>)>,
    ) -> Vec<Result<Vec<Decision>>> {
        // Queued under one hold of the lock, so that one leader takes them all or none.
        let answers: Vec<_> = {
            let mut queue = lock(&self.group.queue);
            requests
                .into_iter()
                .map(|(decisions, calls)| {
                    let (reply, answer) = mpsc::channel();
                    queue.push(Job {
                        decisions,
                        calls,
                        reply,
                    });
                    answer
                })
                .collect()
        };
        // A leader may have written them already, before we even queue for the lock.
        let mut got: Vec<_> = answers.iter().map(|a| a.try_recv().ok()).collect();
        if got.iter().any(Option::is_none) {
            let _leader = lock(&self.group.commit);
            for (g, a) in got.iter_mut().zip(&answers) {
                if g.is_none() {
                    *g = a.try_recv().ok();
                }
            }
            // Ours are in the queue unless a leader took them; leaders answer before
            // releasing the lock, so a taken, unanswered job means that leader panicked and
            // dropped the reply, and `recv` then fails instead of waiting for ever.
            if got.iter().any(Option::is_none) {
                let jobs = std::mem::take(&mut *lock(&self.group.queue));
                if !jobs.is_empty() {
                    self.commit_jobs(jobs);
                }
            }
        }
        got.into_iter()
            .zip(answers)
            .map(|(g, a)| g.unwrap_or_else(|| a.recv().unwrap_or_else(|_| Err(lost()))))
            .collect()
    }

    /// Writes `jobs` in one transaction; should that fail, each on its own, so that one
    /// request's failure is never another's.
    fn commit_jobs(&self, mut jobs: Vec<Job>) {
        if jobs.len() > 1 {
            let together = (|| -> Result<()> {
                let tx = self.db.begin_write()?;
                for j in jobs.iter_mut() {
                    self.write_decisions(&tx, &mut j.decisions, &j.calls)?;
                }
                tx.commit()?;
                Ok(())
            })();
            if together.is_ok() {
                for j in jobs {
                    let _ = j.reply.send(Ok(j.decisions));
                }
                return;
            }
            tracing::warn!(
                "a group commit of {} requests failed; retrying each",
                jobs.len()
            );
        }
        for mut j in jobs {
            let res = self
                .put_decisions(&mut j.decisions, &j.calls)
                .map(|()| j.decisions);
            let _ = j.reply.send(res);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::blob;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    fn decision(nip: &str) -> Decision {
        Decision::sample(nip, serde_json::json!({"nip": nip}))
    }

    /// Concurrent requests each get their own decisions back, with ids in one unbroken run
    /// per request, and every decision is stored.
    #[test]
    fn concurrent_requests_keep_their_own_decisions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path()).expect("open"));
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    (0..20)
                        .map(|r| {
                            let tag = format!("{t}-{r}");
                            let ds = (0..3).map(|i| decision(&format!("{tag}-{i}"))).collect();
                            let bytes = CallBytes {
                                input: blob::pack(tag.as_bytes()),
                                output: blob::pack(b"{}"),
                            };
                            (
                                tag,
                                store
                                    .put_decisions_grouped(ds, vec![bytes])
                                    .expect("stored"),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ids = BTreeSet::new();
        for t in threads {
            for (tag, ds) in t.join().expect("thread") {
                assert_eq!(ds.len(), 3);
                let seqs: Vec<u64> = ds
                    .iter()
                    .map(|d| d.id["dec-".len()..].parse().expect("seq"))
                    .collect();
                assert_eq!(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2], "{tag}");
                for (i, d) in ds.iter().enumerate() {
                    assert_eq!(d.nip.as_deref(), Some(format!("{tag}-{i}").as_str()));
                    let stored = store.decision(&d.id).expect("stored");
                    assert_eq!(stored.output.get(), d.output.get());
                    ids.insert(d.id.clone());
                }
                let (input, _) = store
                    .call_bytes(&blob::sha256_hex(tag.as_bytes()), &blob::sha256_hex(b"{}"))
                    .expect("call bytes");
                assert_eq!(input, tag.as_bytes());
            }
        }
        assert_eq!(ids.len(), 6 * 20 * 3);
    }

    /// Requests that shared one call are written together, each with its own unbroken run
    /// of ids, and the call they share is stored once and read back by each.
    #[test]
    fn requests_sharing_a_call_each_get_their_own_decisions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let shared = CallBytes {
            input: blob::pack(b"shared"),
            output: blob::pack(b"{}"),
        };
        let requests = (0..3)
            .map(|r| {
                let ds = (0..=r).map(|i| decision(&format!("{r}-{i}"))).collect();
                (ds, vec![shared.clone()])
            })
            .collect();
        let answers = store.put_decisions_grouped_each(requests);
        assert_eq!(answers.len(), 3);
        for (r, ds) in answers.into_iter().enumerate() {
            let ds = ds.expect("stored");
            assert_eq!(ds.len(), r + 1);
            let first: u64 = ds[0].id["dec-".len()..].parse().expect("seq");
            for (i, d) in ds.iter().enumerate() {
                assert_eq!(d.id, format!("dec-{:012}", first + i as u64));
                assert_eq!(d.nip.as_deref(), Some(format!("{r}-{i}").as_str()));
                assert_eq!(store.decision(&d.id).expect("stored").nip, d.nip);
            }
        }
        let (input, _) = store
            .call_bytes(&blob::sha256_hex(b"shared"), &blob::sha256_hex(b"{}"))
            .expect("call bytes");
        assert_eq!(input, b"shared");
    }
}
