//! The scheduler of small appraisals (at most one batch): queued per (region, period,
//! caller) to share a plugin call with the others waiting ([`super::coalesce`]), run by a
//! worker on a blocking thread, and stored by group commit.

use super::*;

/// One call of the appraise hook over `cases` (at most one batch) on this thread, checked,
/// and its decisions made but not stored.
pub(super) fn one_call(
    rt: &Runtime,
    act: (&str, &str, &Value),
    key: &coalesce::Key,
    cases: &[Box<Case>],
    read: &[(usize, InputsRead)],
) -> Result<Made, PolicyError> {
    let (region, plugin, _) = act;
    let call = appraise_call(rt, act, cases, Keep::Bytes)?;
    check_call(plugin, 0, cases, &call)?;
    let mut made = Made::of(
        region,
        plugin,
        key.period,
        &key.actor,
        vec![call],
        read[0].1,
    )?;
    // Each request's records were read apart: its results keep its own snapshot.
    let mut results = made.calls.iter_mut().flat_map(|c| c.results.iter_mut());
    for &(n, mark) in read {
        for r in results.by_ref().take(n) {
            r.inputs_read = Some(mark);
        }
    }
    Ok(made)
}

/// The group's one call split into one record per request, by how many of its results are
/// each's: a coalesced call is stored once per request sharing it, so that each request is
/// all or nothing on its own. Requests with no results (all skipped) store nothing.
fn per_request(call: CallRecord, sizes: &[usize]) -> Result<Vec<Vec<CallRecord>>, PolicyError> {
    let CallRecord {
        meta,
        bytes,
        results,
    } = call;
    let cases: usize = sizes.iter().sum();
    if cases != results.len() {
        return Err(PolicyError::Internal(format!(
            "a shared call has {} results for {cases} cases",
            results.len()
        )));
    }
    let mut results = results.into_iter();
    Ok(sizes
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            vec![CallRecord {
                meta: meta.clone(),
                bytes: bytes.clone(),
                results: results.by_ref().take(n).collect(),
            }]
        })
        .collect())
}

/// Takes the small appraisals of one key from the queue and runs them, on a blocking thread,
/// until none waits.
pub(super) struct Worker {
    key: coalesce::Key,
    store: Arc<Store>,
    runtime: Arc<Runtime>,
    batch: usize,
    waiting: Arc<coalesce::Queue>,
}

/// A group's call made and checked, its decisions not yet stored.
pub(super) struct Ready {
    plugin: String,
    /// `None` when every case of the group was skipped.
    made: Option<Made>,
    /// Per request of the group: how many of the call's cases are its, and its skipped.
    parts: Vec<(usize, Vec<Skipped>)>,
    /// When the records were read, and when the call was checked.
    read: Instant,
    called: Instant,
}

impl Worker {
    pub(super) fn run(&self) {
        while let Some(group) = self.waiting.take(&self.key, self.batch) {
            // A panic of a request alone drops its reply (it is answered with an error) and
            // the worker goes on: the queue counts it as running until it finds nothing to
            // take. A shared call's panic is caught closer, in `run_group`.
            let run = std::panic::AssertUnwindSafe(|| self.run_group(group));
            if std::panic::catch_unwind(run).is_err() {
                tracing::error!("an appraisal worker panicked; its request got an error");
            }
        }
    }

    /// Runs `group` as one call and hands its decisions to be stored. Should the plugin fail
    /// (or the host panic) on a call of several requests, each runs again alone, so that one
    /// request's refused case is never another's error; a failure that is no request's own
    /// (every slot busy, no active policy) is every request's answer at once.
    pub(super) fn run_group(&self, group: Vec<coalesce::Job>) {
        let shared = group.len() > 1;
        let ready = {
            let _in_request = group[0].span.enter();
            if shared {
                let call = std::panic::AssertUnwindSafe(|| self.call(&group));
                std::panic::catch_unwind(call).unwrap_or_else(|_| {
                    Err(PolicyError::Internal(
                        "a shared appraisal call panicked".into(),
                    ))
                })
            } else {
                self.call(&group)
            }
        };
        match ready {
            Ok(ready) => self.store_and_answer(group, ready),
            Err(
                e @ (PolicyError::Busy(_)
                | PolicyError::Paused { .. }
                | PolicyError::NoActivePolicy { .. }),
            ) if shared => {
                for job in group {
                    let again = match &e {
                        PolicyError::Busy(m) => PolicyError::Busy(m.clone()),
                        PolicyError::Paused {
                            message,
                            retry_after,
                        } => PolicyError::Paused {
                            message: message.clone(),
                            retry_after: *retry_after,
                        },
                        _ => no_active_appraise(&job.key.region),
                    };
                    let _ = job.reply.send(Err(again));
                }
            }
            Err(e) if shared => {
                tracing::debug!(requests = group.len(), error = %e, "a shared appraisal call failed; each request runs alone");
                // Those whose client has gone meanwhile are not run again.
                for job in group.into_iter().filter(|j| !j.reply.is_closed()) {
                    self.run_group(vec![job]);
                }
            }
            Err(e) => {
                if let Some(job) = group.into_iter().next() {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
    }

    /// The records of `group` (one key) read, and one call over all their cases.
    pub(super) fn call(&self, group: &[coalesce::Job]) -> Result<Ready, PolicyError> {
        let key = &group[0].key;
        let s = &*self.store;
        let act = s
            .active_policy(&key.region, Hook::Appraise.as_str())?
            .ok_or_else(|| no_active_appraise(&key.region))?;
        let plugin = act.plugin.clone().unwrap_or_default();
        let mut cases = Vec::new();
        let mut parts = Vec::with_capacity(group.len());
        let mut reads = Vec::with_capacity(group.len());
        for job in group {
            let mine = assemble(s, &key.region, key.period, &job.employees)?;
            reads.push((mine.cases.len(), mine.read));
            parts.push((mine.cases.len(), mine.skipped));
            cases.extend(mine.cases);
        }
        let read = Instant::now();
        let made = if cases.is_empty() {
            None
        } else {
            let act = (key.region.as_str(), plugin.as_str(), &act.config);
            Some(one_call(&self.runtime, act, key, &cases, &reads)?)
        };
        Ok(Ready {
            plugin,
            made,
            parts,
            read,
            called: Instant::now(),
        })
    }

    /// Hands each request's decisions to group commit (all or nothing on its own), and
    /// answers each once they are durable, from the committer thread: the worker goes on
    /// with its next group meanwhile.
    pub(super) fn store_and_answer(&self, group: Vec<coalesce::Job>, ready: Ready) {
        let span = group[0].span.clone();
        let Ready {
            plugin,
            made,
            parts,
            read,
            called,
        } = ready;
        let (calls, in_plugin, fuel) = match made {
            Some(m) => (m.calls, m.in_plugin, m.fuel),
            None => (Vec::new(), Duration::ZERO, 0),
        };
        // Requests whose employees were all skipped store nothing, not even the call.
        let sizes: Vec<usize> = parts.iter().map(|(n, _)| *n).collect();
        let mut calls = calls.into_iter();
        let requests = match (calls.next(), calls.next()) {
            (None, _) => Ok(Vec::new()),
            (Some(call), None) => per_request(call, &sizes),
            (Some(_), Some(_)) => Err(PolicyError::Internal(
                "a small appraisal made more than one call".into(),
            )),
        };
        let requests = match requests {
            Ok(requests) => requests,
            Err(e) => {
                for job in group {
                    let _ = job.reply.send(Err(PolicyError::Internal(e.to_string())));
                }
                return;
            }
        };
        let answer_each = move |stored: Vec<Result<Vec<CallRecord>, StoreError>>| {
            let _in_request = span.enter();
            let mut stored = stored.into_iter();
            let stored_at = Instant::now();
            for (job, (n, skipped)) in group.into_iter().zip(parts) {
                let results = match n {
                    0 => Ok(Vec::new()),
                    _ => stored
                        .next()
                        .unwrap_or_else(|| Err(StoreError::Fault("a request went unstored".into())))
                        .map_err(PolicyError::from)
                        .and_then(|stored| answer(&stored)),
                };
                let times = PhaseTimes {
                    assemble: read.saturating_duration_since(job.since),
                    plugins: called - read,
                    store: stored_at - called,
                    in_plugin,
                    calls: usize::from(n > 0),
                    fuel,
                };
                let answer = results.map(|results| {
                    let appraisal = Appraisal {
                        plugin: plugin.clone(),
                        results,
                        skipped,
                    };
                    (appraisal, times)
                });
                let _ = job.reply.send(answer);
            }
        };
        // Everyone skipped: nothing to wait for.
        if requests.is_empty() {
            answer_each(Vec::new());
        } else {
            self.store.submit_decisions(requests, answer_each);
        }
    }
}

impl Policy {
    /// An appraisal of at most one batch of employees: queued to share a call with the
    /// others waiting ([`coalesce`]), and run by a worker on a blocking thread. Once its call
    /// has started it cannot be cancelled: a request whose client gives up (or times out)
    /// then still stores its decisions, as any write already under way does.
    pub(super) async fn appraise_small(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
        actor: &str,
    ) -> coalesce::Answer {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let key = coalesce::Key {
            region: region.into(),
            period,
            actor: actor.into(),
        };
        let job = coalesce::Job {
            key: key.clone(),
            employees,
            reply,
            span: tracing::Span::current(),
            since: Instant::now(),
        };
        let batch = self.config.batch_size.max(1);
        let start = self
            .waiting
            .push(
                job,
                batch
                    .saturating_mul(crate::limits::WAITING_PER_BATCH)
                    .max(crate::limits::WAITING_MIN),
            )
            .ok_or_else(|| {
                PolicyError::Busy(
                    "too many appraisals of this caller are waiting; retry shortly".into(),
                )
            })?;
        if start {
            let worker = Worker {
                key,
                store: Arc::clone(&self.store),
                runtime: Arc::clone(&self.runtime),
                waiting: Arc::clone(&self.waiting),
                batch,
            };
            drop(tokio::task::spawn_blocking(move || worker.run()));
        }
        answer.await.map_err(|_| {
            PolicyError::Internal("an appraisal worker stopped before answering".into())
        })?
    }
}
