//! The scheduler of large appraisals (more than one batch): the batches fanned out over
//! `parallel_calls` blocking threads, then stored in one transaction of their own.

use super::*;

/// Raises its flag when dropped: tells the call threads of a request that is gone to stop.
pub(super) struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Policy {
    /// Runs the appraise hook of `plugin` over `cases` in batches, `width` calls at a time, on
    /// `width` threads that each take the next batch when they finish one; the calls are put
    /// back in batch order. Every call runs while the request lives (a dropped request starts
    /// no more), and a failure is reported by its batch's position, whatever finished first.
    pub(super) async fn run_appraise(
        &self,
        region: &str,
        plugin: &str,
        config: &Value,
        cases: &Arc<Vec<Box<Case>>>,
        (keep, width): (Keep, usize),
    ) -> Result<Vec<Call>, PolicyError> {
        let batch = self.config.batch_size.max(1);
        let n = cases.len().div_ceil(batch);
        // `width` threads each take the next batch as soon as they finish one, rather than one
        // blocking task per call: each hand-off between a call's task and the async side is a
        // wake-up during which the call's slot stands idle.
        let next = Arc::new(AtomicUsize::new(0));
        // A request dropped midway (client gone, timeout) starts no further calls.
        let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let config = Arc::new(config.clone());
        let workers: Vec<_> = (0..width.clamp(1, n.max(1)))
            .map(|_| {
                let (cases, config, next, stop) = (
                    Arc::clone(cases),
                    Arc::clone(&config),
                    Arc::clone(&next),
                    Arc::clone(&stop.0),
                );
                let (rt, r, id) = (
                    Arc::clone(&self.runtime),
                    region.to_string(),
                    plugin.to_string(),
                );
                let span = tracing::Span::current();
                tokio::task::spawn_blocking(move || {
                    let _in_request = span.enter();
                    let mut done = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(part) = cases.chunks(batch).nth(i) else {
                            break;
                        };
                        let call = appraise_call(&rt, (&r, &id, &config), part, keep);
                        done.push((i, call));
                    }
                    done
                })
            })
            .collect();
        let mut done: Vec<(usize, Result<Call, PolicyError>)> = Vec::with_capacity(n);
        for worker in workers {
            done.extend(
                worker
                    .await
                    .map_err(|e| PolicyError::Internal(format!("plugin task failed: {e}")))?,
            );
        }
        done.sort_unstable_by_key(|(i, _)| *i);
        let calls: Vec<Call> = done.into_iter().map(|(_, c)| c).collect::<Result<_, _>>()?;
        check_results(plugin, batch, cases, &calls)?;
        Ok(calls)
    }

    /// Runs the appraise hook over `cases` in batches ([`Policy::run_appraise`]) and stores
    /// every result as a decision, all in one transaction. The write lock is taken only after
    /// the last call: holding it while plugins run would let one slow module stop every write
    /// of every region. The answer (each result with its id) is prepared while the rows are
    /// written and committed. Answers the results, the time inside the runtime, the fuel, and
    /// when the calls were done.
    pub(super) async fn appraise_and_store(
        &self,
        region: &str,
        plugin: &str,
        config: &Value,
        cases: Arc<Vec<Box<Case>>>,
        who: (Period, &str, InputsRead),
    ) -> Result<(Vec<Box<RawValue>>, Duration, u64, Instant), PolicyError> {
        let (period, actor, read) = who;
        let width = self.config.parallel_calls;
        let calls = self
            .run_appraise(region, plugin, config, &cases, (Keep::Bytes, width))
            .await?;
        let done = Instant::now();
        let stored = async {
            let made = Made::of(region, plugin, period, actor, calls, read)?;
            let (in_plugin, fuel) = (made.in_plugin, made.fuel);
            let results = commit_and_answer(&self.store, made.calls).await?;
            Ok::<_, PolicyError>((results, in_plugin, fuel))
        }
        .await;
        // A region's cases are freed on a thread of their own once the answer is ready (or
        // the store failed): freeing a region's cases can take longer than the commit, and
        // beside the writing and the answer it would only slow both down.
        drop(tokio::task::spawn_blocking(move || drop(cases)));
        let (results, in_plugin, fuel) = stored?;
        Ok((results, in_plugin, fuel, done))
    }

    /// An appraisal of more than one batch: the records read and the cases built in one
    /// blocking hop, the batches run on every core ([`Policy::appraise_and_store`]).
    pub(super) async fn appraise_large(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
        actor: &str,
    ) -> Result<(Appraisal, PhaseTimes), PolicyError> {
        let t0 = Instant::now();
        let r = region.to_string();
        let prepared = self
            .store
            .run(move |s| {
                let Some(act) = s.active_policy(&r, Hook::Appraise.as_str())? else {
                    return Ok(None);
                };
                Ok(Some((act, assemble(s, &r, period, &employees)?)))
            })
            .await?;
        let Some((
            act,
            Assembled {
                cases,
                skipped,
                read,
            },
        )) = prepared
        else {
            return Err(no_active_appraise(region));
        };
        let t1 = Instant::now();
        let plugin = act.plugin.clone().unwrap_or_default();
        let mut times = PhaseTimes {
            assemble: t1 - t0,
            ..PhaseTimes::default()
        };
        // Everyone skipped: nothing to run or store.
        let results = if cases.is_empty() {
            Vec::new()
        } else {
            times.calls = cases.len().div_ceil(self.config.batch_size.max(1));
            let (results, in_plugin, fuel, written) = self
                .appraise_and_store(
                    region,
                    &plugin,
                    &act.config,
                    Arc::new(cases),
                    (period, actor, read),
                )
                .await?;
            (times.plugins, times.store) = (written - t1, written.elapsed());
            (times.in_plugin, times.fuel) = (in_plugin, fuel);
            results
        };
        Ok((
            Appraisal {
                plugin,
                results,
                skipped,
            },
            times,
        ))
    }
}
