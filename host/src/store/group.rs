//! Group commit of decisions.
//!
//! Every appraisal request stores its decisions durably before it answers, and a durable redb
//! commit is an fsync (~0.5 ms on the disk of docs/performance.md), during which no other
//! writer may commit. One commit per request would cap concurrent single-employee appraisals
//! at the disk's fsync rate however fast the plugin is. Here one committer thread per store
//! writes every request queued since its last commit in one transaction and one fsync, then
//! hands each its own answer; a request is still answered only after its decisions are on
//! disk, and each request's decisions are still all or nothing.
//!
//! It is the one way decisions are stored. A region-wide appraisal, whose answer takes about
//! as long to build as its commit, hands over work to run while its rows are written and its
//! commit syncs (`meanwhile`); such a request commits on its own, in its turn.
//!
//! Requests are handed over, not waited for: whoever submits goes on (an appraisal's worker
//! takes its next group), and the answer is delivered by a callback on the committer thread.
//! A submitter waiting on a blocking thread of its own for the commit lock would, with many
//! callers at once, cost more in threads and wake-ups than the commits themselves.

use super::decisions::CallRecord;
use super::shard::Shard;
use super::{Result, Store, StoreError};
use std::sync::{Arc, Condvar, Mutex, Weak};

/// What one request stores: the calls it made, each with its results.
pub type Request = Vec<CallRecord>;

/// Where the answers of a submission go: one per request, in the order given (its calls with
/// their results' ids).
type Done = Box<dyn FnOnce(Vec<Result<Request>>) + Send>;

/// Work run over a request's calls from the moment their ids are given, on a thread of its
/// own while the rows are written and the commit syncs.
type Meanwhile = Box<dyn FnOnce(&[CallRecord]) + Send>;

/// One submission: requests that were handed over together, and where their answers go.
struct Job {
    requests: Vec<Request>,
    /// Only for a job of one request, which then commits alone.
    meanwhile: Option<Meanwhile>,
    done: Done,
}

/// The queue, shared by the store and its committer thread.
#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

#[derive(Default)]
struct Pending {
    jobs: Vec<Job>,
    /// Whether the committer thread was started (it runs until the store is dropped).
    started: bool,
    /// The committer has taken jobs and not yet answered them all.
    committing: bool,
    /// The store is gone: the committer stops.
    closed: bool,
}

/// The queue of group commit; part of [`Store`].
#[derive(Default)]
pub struct GroupCommit {
    shared: Arc<Shared>,
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        lock(&self.shared.pending).closed = true;
        self.shared.wake.notify_all();
    }
}

fn lost() -> StoreError {
    StoreError::Fault("a decision writer stopped before answering".into())
}

/// The lock guards a list and three flags, each changed in one step, so a panic elsewhere
/// must not stop every later write: take it back.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The committer: takes every submission queued, commits them together, answers each; sleeps
/// while nothing is queued; stops when the store is dropped. It holds the store only while it
/// commits, and lets go of it before answering: once a request is answered the committer no
/// longer keeps the database open, so a server that has answered everything and is dropped
/// closes its database as before ([`Store::commits_idle`] tells when).
fn committer(store: Weak<Shard>, shared: Arc<Shared>) {
    loop {
        let jobs = {
            let mut p = lock(&shared.pending);
            while p.jobs.is_empty() && !p.closed {
                p = shared
                    .wake
                    .wait(p)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            p.committing = !p.jobs.is_empty();
            std::mem::take(&mut p.jobs)
        };
        if jobs.is_empty() {
            return;
        }
        // Gone: the jobs are dropped, and their waiters learn it from the dropped callbacks.
        let Some(store) = store.upgrade() else {
            return;
        };
        let run = std::panic::AssertUnwindSafe(|| store.commit_jobs(jobs));
        let answers = std::panic::catch_unwind(run).unwrap_or_else(|_| {
            tracing::error!(
                "the decision writer panicked; the requests of that commit got an error"
            );
            Vec::new()
        });
        drop(store);
        // Each callback on its own: one that panics must not drop the others' answers.
        for (done, answer) in answers {
            let call = std::panic::AssertUnwindSafe(|| done(answer));
            if std::panic::catch_unwind(call).is_err() {
                tracing::error!("answering a stored request panicked");
            }
        }
        lock(&shared.pending).committing = false;
    }
}

impl Store {
    /// Hands `requests` to group commit and returns at once; `done` gets one answer per
    /// request, in order (its calls with their results' ids), on the committer thread once they
    /// are durable. Should the committer be unable to start, `done` gets errors at once. The
    /// requests are of one region (that of their calls), committed by that region's file.
    pub fn submit_decisions(
        &self,
        requests: Vec<Request>,
        done: impl FnOnce(Vec<Result<Request>>) + Send + 'static,
    ) {
        self.submit(Job {
            requests,
            meanwhile: None,
            done: Box::new(done),
        });
    }

    /// The region file a job's requests go to, or the answer when there is none to go to: a
    /// job without calls has nothing to store, and a region that does not exist has nowhere.
    fn submit(&self, job: Job) {
        let region = job
            .requests
            .iter()
            .flatten()
            .map(|c| c.meta.region.clone())
            .next();
        let Some(region) = region else {
            let answers = job.requests.into_iter().map(Ok).collect();
            return (job.done)(answers);
        };
        match self.shard(&region) {
            Ok(shard) => shard.submit(job),
            Err(_) => {
                let n = job.requests.len();
                (job.done)(
                    (0..n)
                        .map(|_| Err(StoreError::NotFound(format!("region `{region}`"))))
                        .collect(),
                )
            }
        }
    }

    /// Stores one request's calls durably, sharing the commit with the requests that arrive
    /// meanwhile, and answers them with their results' ids once durable, without a blocking
    /// thread: the committer answers.
    pub async fn put_decisions_queued(&self, request: Request) -> Result<Request> {
        self.put_one(request, None).await
    }

    /// [`Store::put_decisions_queued`] for a request whose answer takes a while to build:
    /// `meanwhile` runs over its calls (their ids given) on a thread of its own while their
    /// rows are written and the commit syncs, and has returned by the time this answers. Such a
    /// request commits on its own.
    pub async fn put_decisions_meanwhile(
        &self,
        request: Request,
        meanwhile: impl FnOnce(&[CallRecord]) + Send + 'static,
    ) -> Result<Request> {
        self.put_one(request, Some(Box::new(meanwhile))).await
    }

    /// One request handed to the committer, and its answer awaited.
    async fn put_one(&self, request: Request, meanwhile: Option<Meanwhile>) -> Result<Request> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(Job {
            requests: vec![request],
            meanwhile,
            done: one_answer(move |answer| {
                let _ = tx.send(answer);
            }),
        });
        rx.await.unwrap_or_else(|_| Err(lost()))
    }

    /// [`Store::put_decisions_queued`] for a test's own thread: blocks until the request is
    /// durable (on the committer thread itself it would wait for itself).
    #[cfg(test)]
    pub(crate) fn put_decisions(&self, request: Request) -> Result<Request> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.submit(Job {
            requests: vec![request],
            meanwhile: None,
            done: one_answer(move |answer| {
                let _ = tx.send(answer);
            }),
        });
        rx.recv().unwrap_or_else(|_| Err(lost()))
    }

    /// Whether nothing is queued for group commit and no commit is under way or unanswered,
    /// in any region: after its last request, a server waits for this before it lets go of
    /// the store.
    pub fn commits_idle(&self) -> bool {
        self.each_shard().iter().all(|(_, s)| s.commits_idle())
    }
}

impl Shard {
    fn submit(self: &Arc<Self>, job: Job) {
        let shared = &self.group.shared;
        let start = {
            let mut p = lock(&shared.pending);
            p.jobs.push(job);
            !std::mem::replace(&mut p.started, true)
        };
        if !start {
            shared.wake.notify_one();
            return;
        }
        let (store, queue) = (Arc::downgrade(self), Arc::clone(shared));
        let spawned = std::thread::Builder::new()
            .name("kinerja-commit".into())
            .spawn(move || committer(store, queue));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the decision writer");
            let jobs = {
                let mut p = lock(&shared.pending);
                p.started = false;
                std::mem::take(&mut p.jobs)
            };
            for j in jobs {
                let n = j.requests.len();
                (j.done)((0..n).map(|_| Err(lost())).collect());
            }
        }
    }

    /// Whether nothing is queued for this file's group commit and no commit is under way or
    /// unanswered.
    fn commits_idle(&self) -> bool {
        let p = lock(&self.group.shared.pending);
        p.jobs.is_empty() && !p.committing
    }

    /// Writes every request of `jobs` in one transaction; should that fail, each request on
    /// its own, so that one request's failure is never another's. A job with work to run
    /// meanwhile commits alone. Answers each job's callback with its results, to be called
    /// once the store is let go of.
    fn commit_jobs(self: &Arc<Self>, jobs: Vec<Job>) -> Vec<(Done, Vec<Result<Request>>)> {
        let (alone, mut jobs): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|j| j.meanwhile.is_some());
        let mut answered: Vec<(Done, Vec<Result<Request>>)> = alone
            .into_iter()
            .map(|j| {
                let Job {
                    mut requests,
                    meanwhile,
                    done,
                } = j;
                // One request (see `Job::meanwhile`): its own answer, or the commit's error.
                let answers = match self.commit(&mut requests, meanwhile) {
                    Ok(()) => requests.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                (done, answers)
            })
            .collect();
        let requests: usize = jobs.iter().map(|j| j.requests.len()).sum();
        if requests > 1 {
            let counts: Vec<usize> = jobs.iter().map(|j| j.requests.len()).collect();
            let mut all: Vec<Request> =
                jobs.iter_mut().flat_map(|j| j.requests.drain(..)).collect();
            let together = self.commit(&mut all, None);
            // Handed back to their jobs in order, whatever happened.
            let mut all = all.into_iter();
            for (j, n) in jobs.iter_mut().zip(counts) {
                j.requests.extend(all.by_ref().take(n));
            }
            if together.is_ok() {
                answered.extend(
                    jobs.into_iter()
                        .map(|j| (j.done, j.requests.into_iter().map(Ok).collect())),
                );
                return answered;
            }
            tracing::warn!("a group commit of {requests} requests failed; retrying each");
        }
        answered.extend(jobs.into_iter().map(|j| {
            let answers = j
                .requests
                .into_iter()
                .map(|mut request| {
                    self.commit(std::slice::from_mut(&mut request), None)
                        .map(|()| request)
                })
                .collect();
            (j.done, answers)
        }));
        answered
    }

    /// Writes `requests` in one transaction and commits it durably; `meanwhile` runs over
    /// the first request's calls from the moment the ids are given until the commit is done.
    fn commit(
        self: &Arc<Self>,
        requests: &mut [Request],
        meanwhile: Option<Meanwhile>,
    ) -> Result<()> {
        let tx = self.begin_write()?;
        super::decisions::assign_request_ids(&tx, requests.iter_mut().map(Vec::as_mut_slice))?;
        let requests = &*requests;
        std::thread::scope(|s| {
            if let (Some(m), Some(first)) = (meanwhile, requests.first()) {
                // Caught here: a panic would otherwise end the scope in one after the commit,
                // and the committed requests would be answered as lost. Its submitter learns
                // it (or a thread that never started) from the work never done.
                let run = move || {
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m(first))).is_err()
                    {
                        tracing::error!("the work beside a commit panicked");
                    }
                };
                let spawned = std::thread::Builder::new()
                    .name("meanwhile".into())
                    .spawn_scoped(s, run);
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "could not start a thread beside a commit");
                }
            }
            super::decisions::write_requests(&tx, requests.iter().map(Vec::as_slice))?;
            tx.commit()?;
            Ok(())
        })
    }
}

/// The callback of a job of one request: its one answer (or `lost` when none came).
fn one_answer(send: impl FnOnce(Result<Request>) + Send + 'static) -> Done {
    Box::new(move |mut answers: Vec<Result<Request>>| {
        send(answers.pop().unwrap_or_else(|| Err(lost())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::decisions::{decision_seq, decisions_of};
    use crate::store::test_store;
    use crate::store::{blob, CallResult, Decision};
    use std::collections::BTreeSet;
    use std::sync::mpsc;

    /// One request of one call whose request bytes are `tag`, with a result per NIP.
    fn request(tag: &[u8], nips: &[&str]) -> Request {
        let results = nips
            .iter()
            .map(|n| CallResult::sample(n, serde_json::json!({ "nip": n })))
            .collect();
        vec![CallRecord::sample(tag, results)]
    }

    /// [`Store::submit_decisions`] waited for: the answers, one per request, in order, as the
    /// decisions stored.
    fn grouped_each(store: &Arc<Store>, requests: Vec<Request>) -> Vec<Result<Vec<Decision>>> {
        let (tx, rx) = mpsc::channel();
        store.submit_decisions(requests, move |answers| {
            let _ = tx.send(answers);
        });
        let answers = rx.recv().expect("answered");
        answers
            .into_iter()
            .map(|a| a.map(|calls| decisions_of(&calls)))
            .collect()
    }

    /// One request's decisions stored through group commit, waited for.
    fn grouped(store: &Arc<Store>, tag: &[u8], nips: &[&str]) -> Vec<Decision> {
        grouped_each(store, vec![request(tag, nips)])
            .pop()
            .expect("one answer")
            .expect("stored")
    }

    /// Concurrent requests each get their own decisions back, with ids in one unbroken run
    /// per request, and every decision is stored.
    #[test]
    fn concurrent_requests_keep_their_own_decisions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    (0..20)
                        .map(|r| {
                            let tag = format!("{t}-{r}");
                            let nips: Vec<String> = (0..3).map(|i| format!("{tag}-{i}")).collect();
                            let nips: Vec<&str> = nips.iter().map(String::as_str).collect();
                            let stored = grouped(&store, tag.as_bytes(), &nips);
                            (tag, stored)
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
                    .map(|d| decision_seq(&d.id).expect("seq"))
                    .collect();
                assert_eq!(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2], "{tag}");
                for (i, d) in ds.iter().enumerate() {
                    assert_eq!(d.nip.as_deref(), Some(format!("{tag}-{i}").as_str()));
                    let stored = store.decision(&d.id).expect("stored");
                    assert_eq!(stored.output.get(), d.output.get());
                    ids.insert(d.id.clone());
                }
                let (input, _) = store
                    .call_bytes(
                        "jambi",
                        &blob::sha256_hex(tag.as_bytes()),
                        &blob::sha256_hex(b"{}"),
                    )
                    .expect("call bytes");
                assert_eq!(input, tag.as_bytes());
            }
        }
        assert_eq!(ids.len(), 6 * 20 * 3);
    }

    /// A callback that panics costs its own answer only: a request committed in the same
    /// batch is still answered, and the committer goes on.
    #[test]
    fn a_panicking_answer_leaves_the_others_answered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        // Hold the committer in a first answer, so that the next two are queued together.
        let (release, held) = mpsc::channel::<()>();
        let (entered, in_first) = mpsc::channel();
        store.submit_decisions(vec![request(b"first", &["first"])], move |_| {
            let _ = entered.send(());
            let _ = held.recv();
        });
        in_first.recv().expect("the first answer runs");
        store.submit_decisions(vec![request(b"a", &["a"])], |_| {
            panic!("an answer that panics")
        });
        let (tx, rx) = mpsc::channel();
        store.submit_decisions(vec![request(b"b", &["b"])], move |a| {
            let _ = tx.send(a);
        });
        release.send(()).expect("release");
        let b = rx
            .recv()
            .expect("answered")
            .pop()
            .expect("one")
            .expect("stored");
        let b = decisions_of(&b);
        assert_eq!(b[0].nip.as_deref(), Some("b"));
        // Both were stored, and the committer still serves.
        let again = grouped(&store, b"c", &["c"]);
        let seq = |id: &str| decision_seq(id).expect("seq");
        assert_eq!(seq(&again[0].id), seq(&b[0].id) + 1);
        assert_eq!(
            store.decision(&b[0].id).expect("b").nip.as_deref(),
            Some("b")
        );
    }

    /// Once a request is answered the committer holds the store no longer: dropping the
    /// store's last handle closes the database, and it opens again at once.
    #[test]
    fn an_answered_store_closes_when_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let stored = grouped(&store, b"x", &["x"]);
        drop(store);
        let again = Store::open(dir.path()).expect("reopened at once");
        assert_eq!(
            again.decision(&stored[0].id).expect("kept").nip.as_deref(),
            Some("x")
        );
    }

    /// Requests that shared one call are written together, each with its own unbroken run
    /// of ids, and the call they share is stored once and read back by each.
    #[test]
    fn requests_sharing_a_call_each_get_their_own_decisions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let requests = (0..3)
            .map(|r| {
                let nips: Vec<String> = (0..=r).map(|i| format!("{r}-{i}")).collect();
                let nips: Vec<&str> = nips.iter().map(String::as_str).collect();
                request(b"shared", &nips)
            })
            .collect();
        let answers = grouped_each(&store, requests);
        assert_eq!(answers.len(), 3);
        let mut ids = BTreeSet::new();
        for (r, ds) in answers.into_iter().enumerate() {
            let ds = ds.expect("stored");
            assert_eq!(ds.len(), r + 1);
            let first: u64 = decision_seq(&ds[0].id).expect("seq");
            for (i, d) in ds.iter().enumerate() {
                assert_eq!(d.id, format!("dec-jambi-{:012}", first + i as u64));
                assert_eq!(d.nip.as_deref(), Some(format!("{r}-{i}").as_str()));
                assert_eq!(store.decision(&d.id).expect("stored").nip, d.nip);
                ids.insert(first + i as u64);
            }
        }
        // The ids are taken once for the whole commit: six distinct, and the next request's
        // come after all of them.
        assert_eq!(ids.len(), 6);
        let next = grouped(&store, b"next", &["next"]);
        let next: u64 = decision_seq(&next[0].id).expect("seq");
        assert_eq!(Some(next - 1), ids.last().copied());
        let (input, _) = store
            .call_bytes(
                "jambi",
                &blob::sha256_hex(b"shared"),
                &blob::sha256_hex(b"{}"),
            )
            .expect("call bytes");
        assert_eq!(input, b"shared");
    }

    /// Requests committed together fail apart: one the store refuses (a call handed over
    /// without results, which has nothing to key its row by) gets its error, the other in the
    /// same commit (one submission is one commit) is stored and answered, and the refused one
    /// leaves nothing behind.
    #[test]
    fn a_refused_request_fails_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let answers = grouped_each(
            &store,
            vec![
                // Its first call is written before its second is refused: rolled back.
                vec![
                    CallRecord::sample(
                        b"other",
                        vec![CallResult::sample("bad", serde_json::json!({}))],
                    ),
                    CallRecord::sample(b"empty", Vec::new()),
                ],
                request(b"good", &["good"]),
            ],
        );
        let mut answers = answers.into_iter();
        let bad = answers.next().expect("first answer");
        let err = bad.expect_err("refused");
        assert!(err.to_string().contains("without results"), "{err}");
        let good = answers.next().expect("second answer").expect("stored");
        assert_eq!(
            store.decision(&good[0].id).expect("kept").nip.as_deref(),
            Some("good")
        );
        assert!(
            store
                .call_bytes(
                    "jambi",
                    &blob::sha256_hex(b"other"),
                    &blob::sha256_hex(b"{}")
                )
                .is_err(),
            "the refused request's call bytes were not kept"
        );
    }

    /// Work handed over with a request runs over its calls with their ids given, and has
    /// returned when the request is answered; the request is stored. One the store refuses
    /// gets its error and stores nothing.
    #[test]
    fn work_meanwhile_sees_the_ids_and_ends_before_the_answer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let saw = Arc::clone(&seen);
        let stored = rt
            .block_on(store.put_decisions_meanwhile(
                request(b"large", &["a", "b", "c"]),
                move |calls| {
                    let ids = calls.iter().flat_map(|c| &c.results).map(|r| r.id.clone());
                    lock(&saw).extend(ids);
                },
            ))
            .expect("stored");
        let ids: Vec<String> = decisions_of(&stored).into_iter().map(|d| d.id).collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(*lock(&seen), ids, "the work saw the ids, and was done");
        for id in &ids {
            store.decision(id).expect("stored");
        }
        let refused = vec![CallRecord::sample(b"none", Vec::new())];
        let err = rt
            .block_on(store.put_decisions_meanwhile(refused, |_| ()))
            .expect_err("refused");
        assert!(err.to_string().contains("without results"), "{err}");
        assert!(store
            .call_bytes(
                "jambi",
                &blob::sha256_hex(b"none"),
                &blob::sha256_hex(b"{}")
            )
            .is_err());
        // The committer still serves the others.
        assert_eq!(grouped(&store, b"next", &["next"]).len(), 1);
    }
}
