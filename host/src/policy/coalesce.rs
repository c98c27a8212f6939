//! Small appraisals that arrive together share one plugin call.
//!
//! An agency's form appraises one employee per request. Run one by one, each such request
//! pays for a plugin call, a read of the active policy, a hand-off to a blocking thread and a
//! place in group commit, and at a few thousand requests a second those fixed costs are most
//! of the server's CPU. So a request of at most one batch waits here instead, and one worker
//! per [`Key`] takes the requests waiting with that key (up to one batch of employees) and runs
//! them as one call, as the plugin contract allows ("the host may batch many employees into one
//! call"), while the previous group's decisions are being committed. Each request is still
//! answered with its own results and stored all or nothing on its own; should the plugin fail
//! the shared call, each request runs again alone, so that one request's refused case never
//! becomes another's error.

use super::{Appraisal, PhaseTimes, PolicyError};
use crate::domain::period::Period;
use crate::domain::records::Employee;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

/// What requests must have in common to share a call. A call's request names one region and
/// its config, and its decisions one period and actor. The actor also keeps callers apart: a
/// decision shows its call's logs and refers to its call's request bytes, so one caller's
/// requests never share a call with another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub region: String,
    pub period: Period,
    pub actor: String,
}

/// What a request is answered.
pub(super) type Answer = Result<(Appraisal, PhaseTimes), PolicyError>;

/// One waiting request.
pub(super) struct Job {
    pub key: Key,
    pub employees: Vec<Employee>,
    pub reply: tokio::sync::oneshot::Sender<Answer>,
    /// The request's span, so that what its worker logs still names the request.
    pub span: tracing::Span,
    /// When the request was queued: its answer's times count from here.
    pub since: Instant,
}

/// The waiting requests by key. A key is present while its worker runs: one worker per key at
/// most: one worker takes bigger groups than two would, so fewer calls and commits per request
/// (its group's commit runs off the worker, so it does not wait for it). Requests of different
/// keys cannot share a call anyway, so they get workers of their own and run side by side, up
/// to the runtime's slots (past them a call is refused as busy, as any call is). A queue per key
/// keeps `push` and `take` to their own key's requests however many callers wait.
#[derive(Default)]
pub(super) struct Queue {
    state: Mutex<HashMap<Key, VecDeque<Job>>>,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Job>>> {
        // Each change of the map is one step: a panic elsewhere leaves nothing half done,
        // and must not stop every later appraisal.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `job`; `Some(true)` when the caller is to start a worker for its key (none
    /// runs). `None`, the job dropped, when `limit` requests of its key wait already (not
    /// counting those whose client has gone): the caller is then to answer busy, as when
    /// every plugin slot is taken, rather than let a flood of one caller's requests pile up
    /// until they time out.
    pub fn push(&self, job: Job, limit: usize) -> Option<bool> {
        let mut st = self.state();
        match st.get_mut(&job.key) {
            None => {
                st.insert(job.key.clone(), VecDeque::from([job]));
                Some(true)
            }
            Some(waiting) => {
                if waiting.len() >= limit {
                    waiting.retain(|j| !j.reply.is_closed());
                    if waiting.len() >= limit {
                        return None;
                    }
                }
                waiting.push_back(job);
                Some(false)
            }
        }
    }

    /// Whether no request waits and no worker runs.
    pub fn is_idle(&self) -> bool {
        self.state().is_empty()
    }

    /// The requests with `key` to run next together: the oldest waiting and those behind
    /// it, up to `batch` employees in all (the oldest always). `None` when none waits, and
    /// the key's worker is then counted as stopped under the same lock that [`Queue::push`]
    /// takes, so that a queued request always has a worker.
    pub fn take(&self, key: &Key, batch: usize) -> Option<Vec<Job>> {
        let mut st = self.state();
        let waiting = st.get_mut(key)?;
        // A request whose client went away (gave up, timed out) before its turn is not run:
        // nothing of it is stored.
        waiting.retain(|j| !j.reply.is_closed());
        let mut group: Vec<Job> = Vec::new();
        let mut employees = 0;
        let mut i = 0;
        while i < waiting.len() && employees < batch {
            let n = waiting[i].employees.len();
            if group.is_empty() || employees + n <= batch {
                employees += n;
                group.extend(waiting.remove(i));
            } else {
                i += 1;
            }
        }
        if group.is_empty() {
            st.remove(key);
            return None;
        }
        Some(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    fn job(region: &str, actor: &str, employees: usize) -> (Job, oneshot::Receiver<Answer>) {
        let (reply, answer) = oneshot::channel();
        let employee = super::super::cases::sample_employee();
        let job = Job {
            key: Key {
                region: region.into(),
                period: Period::Year(2026),
                actor: actor.into(),
            },
            employees: vec![employee; employees],
            reply,
            span: tracing::Span::none(),
            since: Instant::now(),
        };
        (job, answer)
    }

    fn key(region: &str, actor: &str) -> Key {
        Key {
            region: region.into(),
            period: Period::Year(2026),
            actor: actor.into(),
        }
    }

    /// A key's first request starts its worker, and the worker that finds nothing of its key
    /// stops, so the next request starts one again; other keys have their own.
    #[test]
    fn one_worker_per_key_stopping_when_nothing_waits() {
        let q = Queue::default();
        let mut answers = Vec::new();
        for (region, actor, expected) in [
            ("jambi", "t", true),
            ("jambi", "t", false),
            ("dki", "t", true),
            ("jambi", "u", true),
        ] {
            let (j, a) = job(region, actor, 1);
            answers.push(a);
            assert_eq!(q.push(j, 100), Some(expected), "{region} {actor}");
        }
        let jambi = key("jambi", "t");
        assert_eq!(q.take(&jambi, 200).map(|g| g.len()), Some(2));
        assert!(q.take(&jambi, 200).is_none());
        let (j, _a) = job("dki", "t", 1);
        assert_eq!(q.push(j, 100), Some(false), "dki's worker still runs");
        let (j, _b) = job("jambi", "t", 1);
        assert_eq!(
            q.push(j, 100),
            Some(true),
            "jambi's stopped: a new one starts"
        );
        assert_eq!(q.take(&key("dki", "t"), 200).map(|g| g.len()), Some(2));
        assert!(q.take(&key("dki", "t"), 200).is_none());
        assert_eq!(q.take(&key("jambi", "u"), 200).map(|g| g.len()), Some(1));
        assert_eq!(q.take(&jambi, 200).map(|g| g.len()), Some(1));
    }

    /// A worker takes only its key's requests, in order, up to one batch of employees; the
    /// rest wait for its next take.
    #[test]
    fn a_group_is_one_key_and_at_most_one_batch() {
        let q = Queue::default();
        let mut answers = Vec::new();
        for (region, actor, n) in [
            ("dki", "t", 1),
            ("jambi", "t", 2),
            ("jambi", "u", 1),
            ("jambi", "t", 3),
            ("jambi", "t", 4),
            ("jambi", "t", 1),
            ("jambi", "t", 9),
        ] {
            let (j, a) = job(region, actor, n);
            answers.push(a);
            assert!(q.push(j, 100).is_some());
        }
        let jambi = key("jambi", "t");
        let sizes = |g: Vec<Job>| g.iter().map(|j| j.employees.len()).collect::<Vec<_>>();
        assert_eq!(sizes(q.take(&jambi, 6).expect("group")), [2, 3, 1]);
        assert_eq!(sizes(q.take(&jambi, 6).expect("group")), [4]);
        // Larger than a batch on its own: taken alone all the same.
        assert_eq!(sizes(q.take(&jambi, 6).expect("group")), [9]);
        assert!(q.take(&jambi, 6).is_none());
        assert_eq!(sizes(q.take(&key("jambi", "u"), 6).expect("group")), [1]);
        assert_eq!(sizes(q.take(&key("dki", "t"), 6).expect("group")), [1]);
    }

    /// A request whose client has gone is dropped, not run.
    #[test]
    fn a_request_whose_client_left_is_not_run() {
        let q = Queue::default();
        let (gone, answer) = job("jambi", "t", 1);
        drop(answer);
        assert!(q.push(gone, 100).is_some());
        let (kept, _answer) = job("jambi", "t", 2);
        assert!(q.push(kept, 100).is_some());
        let group = q.take(&key("jambi", "t"), 200).expect("group");
        assert_eq!(group.len(), 1);
        assert_eq!(group[0].employees.len(), 2);
        assert!(q.take(&key("jambi", "t"), 200).is_none());
    }

    /// Past `limit` waiting requests a key's next is refused (to be answered busy); other
    /// keys still queue, and once the key's requests are taken it queues again.
    #[test]
    fn a_key_with_too_many_waiting_is_refused() {
        let q = Queue::default();
        let mut answers = Vec::new();
        for _ in 0..3 {
            let (j, a) = job("jambi", "t", 1);
            answers.push(a);
            assert!(q.push(j, 3).is_some());
        }
        let (j, _a) = job("jambi", "t", 1);
        assert!(q.push(j, 3).is_none());
        // A waiting request whose client has gone no longer counts.
        answers.pop();
        let (j, a) = job("jambi", "t", 1);
        answers.push(a);
        assert!(q.push(j, 3).is_some(), "the gone client's place is free");
        let (j, _d) = job("jambi", "t", 1);
        assert!(q.push(j, 3).is_none());
        let (j, _b) = job("jambi", "u", 1);
        assert!(q.push(j, 3).is_some(), "another caller still queues");
        assert_eq!(q.take(&key("jambi", "t"), 200).map(|g| g.len()), Some(3));
        let (j, _c) = job("jambi", "t", 1);
        assert!(q.push(j, 3).is_some());
    }
}
