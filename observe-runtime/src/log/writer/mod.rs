//! Where log lines go: the [`LineSink`] trait and its implementations.
//!
//! - [`NonBlockingWriter`]: the default. Producers append whole lines to a shared buffer under
//!   a short lock; a background thread swaps that buffer for its own empty one and writes the
//!   batch with one `write_all`, so lines are never split or interleaved and, once the two
//!   buffers have grown to their working size, nothing is allocated per line.
//! - [`BlockingWriter`]: one `write_all` per line under a mutex, on the caller's thread.
//! - [`MemorySink`]: collects lines in memory, for tests.
//!
//! Files: `non_blocking.rs` (the writer, its builder, its guard and the state they share with
//! the background thread), `worker.rs` (that thread's loop), `blocking.rs`, `memory.rs`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

mod blocking;
mod memory;
mod non_blocking;
mod worker;

pub use blocking::BlockingWriter;
pub use memory::MemorySink;
pub use non_blocking::{
    Backpressure, DEFAULT_CAPACITY, NonBlockingBuilder, NonBlockingWriter, WriterGuard,
};

/// A destination for finished log lines.
///
/// `line` is one whole record ending in `\n`; implementations must write it in one piece
/// (never interleaved with another line) and must not panic on I/O errors.
///
/// ```
/// use observe_runtime::log::writer::{LineSink, MemorySink};
///
/// let sink = MemorySink::new();
/// sink.write_line(b"level=INFO msg=hi\n");
/// sink.flush();
/// assert_eq!(sink.lines(), ["level=INFO msg=hi"]);
/// ```
pub trait LineSink: Send + Sync + 'static {
    /// Writes one line (ending in `\n`).
    ///
    /// ```
    /// use observe_runtime::log::writer::{LineSink, MemorySink};
    ///
    /// let sink = MemorySink::new();
    /// sink.write_line(b"a=1\n");
    /// assert_eq!(sink.contents(), b"a=1\n");
    /// ```
    fn write_line(&self, line: &[u8]);

    /// Returns once every line written before the call has reached the underlying writer,
    /// and that writer has been flushed. Does nothing by default.
    ///
    /// ```
    /// use observe_runtime::log::writer::{LineSink, NonBlockingWriter, MemorySink};
    ///
    /// let out = MemorySink::new();
    /// let (writer, _guard) = NonBlockingWriter::new(out.clone()).unwrap();
    /// writer.write_line(b"a=1\n");
    /// writer.flush();
    /// assert_eq!(out.contents(), b"a=1\n");
    /// ```
    fn flush(&self) {}
}

impl<S: LineSink + ?Sized> LineSink for Arc<S> {
    fn write_line(&self, line: &[u8]) {
        (**self).write_line(line);
    }
    fn flush(&self) {
        (**self).flush();
    }
}

impl<S: LineSink + ?Sized> LineSink for Box<S> {
    fn write_line(&self, line: &[u8]) {
        (**self).write_line(line);
    }
    fn flush(&self) {
        (**self).flush();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code panics while holding these locks, but never propagate poison from a log sink.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
