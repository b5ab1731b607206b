//! The bounded queue between the application's threads and an export thread (closed span
//! records for traces, captured log records for logs).
//!
//! An item is moved in whole (a closing span's record is not copied, nothing is
//! allocated): the export thread turns items into what the exporter takes. Producers take
//! a mutex for the length of a `Vec::push` and wake the export thread only when a batch is
//! full; the export thread swaps the whole `Vec` out at once. A full queue drops the item
//! and counts it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::Duration;

pub(crate) struct Queue<T> {
    spans: Mutex<Vec<T>>,
    /// Records the queue holds at most (`OTEL_BSP_MAX_QUEUE_SIZE`).
    capacity: usize,
    /// Records per export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`): reaching it wakes the worker.
    pub(crate) batch: usize,
    worker: OnceLock<Thread>,
    dropped: AtomicU64,
    pub(crate) closing: AtomicBool,
    /// Flush requests made and served, to wait for a flush.
    flushes: Mutex<(u64, u64)>,
    flushed: Condvar,
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("capacity", &self.capacity)
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl<T> Queue<T> {
    pub(crate) fn new(capacity: usize, batch: usize) -> Queue<T> {
        Queue {
            spans: Mutex::new(Vec::with_capacity(batch.min(capacity))),
            capacity,
            batch: batch.min(capacity).max(1),
            worker: OnceLock::new(),
            dropped: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            flushes: Mutex::new((0, 0)),
            flushed: Condvar::new(),
        }
    }

    fn spans(&self) -> MutexGuard<'_, Vec<T>> {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_worker(&self, worker: Thread) {
        let _ = self.worker.set(worker);
    }

    pub(crate) fn wake(&self) {
        if let Some(worker) = self.worker.get() {
            worker.unpark();
        }
    }

    /// Queues an item, or drops and counts it when the queue is full (or closed).
    #[inline]
    pub(crate) fn push(&self, record: T) {
        let mut spans = self.spans();
        if spans.len() >= self.capacity || self.closing.load(Ordering::Relaxed) {
            drop(spans);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        spans.push(record);
        let full = spans.len() == self.batch;
        drop(spans);
        if full {
            self.wake();
        }
    }

    /// Items dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn len(&self) -> usize {
        self.spans().len()
    }

    /// Swaps everything queued into `into` (which must be empty), keeping `into`'s
    /// allocation for the producers.
    pub(crate) fn take(&self, into: &mut Vec<T>) {
        debug_assert!(into.is_empty());
        std::mem::swap(&mut *self.spans(), into);
    }

    /// Takes everything queued and hands it to `export` in batches of at most `batch`
    /// items, in queue order. `taken` is the worker's own buffer, swapped with the
    /// producers' one: both keep their allocations from one cycle to the next, so producers
    /// never regrow the queue under its lock (each batch is a vector of its own, made here
    /// on the worker's thread).
    pub(crate) fn take_batches(&self, taken: &mut Vec<T>, mut export: impl FnMut(Vec<T>)) {
        self.take(taken);
        let mut items = taken.drain(..);
        loop {
            let batch: Vec<T> = items.by_ref().take(self.batch).collect();
            if batch.is_empty() {
                break;
            }
            export(batch);
        }
    }

    /// Asks the worker for a flush and waits until it has exported what was queued, at
    /// most `timeout`; `false` on timeout.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let mut flushes = self.flushes.lock().unwrap_or_else(PoisonError::into_inner);
        flushes.0 += 1;
        let wanted = flushes.0;
        self.wake();
        let (flushes, result) = self
            .flushed
            .wait_timeout_while(flushes, timeout, |(_, served)| *served < wanted)
            .unwrap_or_else(PoisonError::into_inner);
        drop(flushes);
        !result.timed_out()
    }

    /// The flush requests made so far, read by the worker before it takes the queue.
    pub(crate) fn flush_requests(&self) -> u64 {
        self.flushes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// The worker exported everything queued before request `served`.
    pub(crate) fn flushed(&self, served: u64) {
        let mut flushes = self.flushes.lock().unwrap_or_else(PoisonError::into_inner);
        if served > flushes.1 {
            flushes.1 = served;
            self.flushed.notify_all();
        }
    }
}
