//! The background thread of a [`NonBlockingWriter`](super::NonBlockingWriter): it takes the
//! pending lines in batches and writes each batch with one `write_all`.

use std::io::Write;
use std::sync::PoisonError;

use super::lock;
use super::non_blocking::{Shared, State};

/// How long the background thread waits for more lines after writing a batch before it
/// goes to sleep (and producers must wake it). Bounds how late a line reaches the writer
/// under steady load; `flush` and shutdown never wait for it.
const LINGER: std::time::Duration = std::time::Duration::from_millis(1);

/// Marks the writer closed if the worker unwinds, so that producers never wait forever.
struct CloseOnExit<'a>(&'a Shared);

impl Drop for CloseOnExit<'_> {
    fn drop(&mut self) {
        let mut st = lock(&self.0.state);
        if !st.closed {
            st.closed = true;
            st.flushed = st.flush_requested;
            self.0.progress.notify_all();
        }
    }
}

/// The background thread.
pub(super) fn run(shared: &Shared, mut writer: Box<dyn Write + Send>) {
    let _close = CloseOnExit(shared);
    let mut batch: Vec<u8> = Vec::new();
    let mut st = lock(&shared.state);
    let idle =
        |st: &State| st.pending.is_empty() && st.flush_requested == st.flushed && !st.shutdown;
    loop {
        if idle(&st) {
            // Linger first: under load more lines come within `LINGER`, and taking them
            // then costs producers nothing, where waking a sleeping worker costs each of
            // them a futex syscall and a context switch per line.
            st = shared
                .work
                .wait_timeout(st, LINGER)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            while idle(&st) {
                st.worker_asleep = true;
                st = shared.work.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            st.worker_asleep = false;
        }
        if st.pending.is_empty() && st.shutdown {
            // Drained: flush, hand the writer back for synchronous writes, and stop. Done
            // under the lock so that no line slips in between.
            shared.guarded(|| writer.flush());
            st.flushed = st.flush_requested;
            st.writer = Some(writer);
            st.closed = true;
            shared.progress.notify_all();
            return;
        }
        std::mem::swap(&mut st.pending, &mut batch);
        let flush_to = st.flush_requested;
        let flush = flush_to != st.flushed;
        if st.waiting > 0 {
            shared.progress.notify_all();
        }
        drop(st);

        if !batch.is_empty() {
            shared.guarded(|| writer.write_all(&batch));
            batch.clear();
            // Give back memory after an outsized line.
            if batch.capacity() > shared.capacity.saturating_mul(4).max(1 << 16) {
                batch.shrink_to(shared.capacity);
            }
        }
        if flush {
            shared.guarded(|| writer.flush());
        }

        st = lock(&shared.state);
        if flush {
            st.flushed = st.flushed.max(flush_to);
            if st.waiting > 0 {
                shared.progress.notify_all();
            }
        }
    }
}
