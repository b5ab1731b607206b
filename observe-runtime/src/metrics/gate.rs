//! Keeps drains of the exporter's histogram buffers from overlapping observations.
//!
//! metrics-util 0.20's `AtomicBucket` (the exporter's buffer of histogram samples) loses a
//! sample when a drain (a render or the upkeep) detaches the buffer after a writer has loaded
//! it but before it claims a slot; the reliability load test caught it as a histogram count
//! one short of its counter. So every observation runs under its own thread's gate, read-
//! locked, and a drain write-locks every thread's gate first. A thread's gate is a lock no
//! other thread touches until a drain: observations on two threads share no cache line.

use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

/// Every thread's gate, to be closed by a drain; dead threads' entries are pruned then.
static GATES: Mutex<Vec<Weak<RwLock<()>>>> = Mutex::new(Vec::new());

thread_local! {
    static GATE: Arc<RwLock<()>> = {
        let gate = Arc::new(RwLock::new(()));
        GATES.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::downgrade(&gate));
        gate
    };
}

/// Runs `observe` with this thread's gate open (read-locked).
#[inline]
pub(crate) fn observing<R>(observe: impl FnOnce() -> R) -> R {
    let mut observe = Some(observe);
    let gated = GATE.try_with(|gate| {
        let _open = gate.read().unwrap_or_else(PoisonError::into_inner);
        (observe.take().expect("called once"))()
    });
    match gated {
        Ok(result) => result,
        // A thread being torn down has no gate left; its last observations go ungated.
        Err(_) => (observe.take().expect("not called"))(),
    }
}

/// Runs `drain` while no observation is in flight on any thread.
pub(crate) fn draining<R>(drain: impl FnOnce() -> R) -> R {
    let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
    gates.retain(|gate| gate.strong_count() > 0);
    let live: Vec<Arc<RwLock<()>>> = gates.iter().filter_map(Weak::upgrade).collect();
    let _closed: Vec<_> = live
        .iter()
        .map(|gate| gate.write().unwrap_or_else(PoisonError::into_inner))
        .collect();
    drain()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn a_drain_waits_for_an_observation_in_flight() {
        let observing_now = Arc::new(AtomicBool::new(false));
        let (started, wait) = std::sync::mpsc::channel();
        let flag = observing_now.clone();
        let observer = std::thread::spawn(move || {
            observing(|| {
                flag.store(true, Ordering::SeqCst);
                started.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(100));
                flag.store(false, Ordering::SeqCst);
            })
        });
        wait.recv().unwrap();
        let overlapped = draining(|| observing_now.load(Ordering::SeqCst));
        observer.join().unwrap();
        assert!(
            !overlapped,
            "the drain ran while an observation was in flight"
        );
    }
}
