//! [`BlockingWriter`]: one `write_all` per line, on the caller's thread.

use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::{LineSink, lock};

/// A [`LineSink`] that writes each line with one `write_all` under a mutex, on the calling
/// thread. Errors are counted, not propagated. Does not flush per line: call
/// [`LineSink::flush`] (or use an unbuffered writer such as [`std::io::Stdout`], which
/// flushes on newlines).
///
/// ```
/// use observe_runtime::log::writer::{BlockingWriter, LineSink};
///
/// let w = BlockingWriter::new(Vec::new());
/// w.write_line(b"a=1\n");
/// w.write_line(b"b=2\n");
/// assert_eq!(w.into_inner(), b"a=1\nb=2\n");
/// ```
#[derive(Debug)]
pub struct BlockingWriter<W> {
    inner: Mutex<W>,
    errors: AtomicU64,
}

impl<W: Write + Send + 'static> BlockingWriter<W> {
    /// Wraps `writer`.
    ///
    /// ```
    /// let w = observe_runtime::log::writer::BlockingWriter::new(std::io::stderr());
    /// # let _ = w;
    /// ```
    pub fn new(writer: W) -> Self {
        BlockingWriter {
            inner: Mutex::new(writer),
            errors: AtomicU64::new(0),
        }
    }

    /// Failed (or panicked) writes and flushes so far.
    ///
    /// ```
    /// use observe_runtime::log::writer::BlockingWriter;
    ///
    /// assert_eq!(BlockingWriter::new(Vec::new()).write_errors(), 0);
    /// ```
    pub fn write_errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The inner writer.
    ///
    /// ```
    /// use observe_runtime::log::writer::BlockingWriter;
    ///
    /// assert!(BlockingWriter::new(Vec::new()).into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn guarded(&self, f: impl FnOnce(&mut W) -> io::Result<()>) {
        let mut w = lock(&self.inner);
        match catch_unwind(AssertUnwindSafe(|| f(&mut w))) {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl<W: Write + Send + 'static> LineSink for BlockingWriter<W> {
    fn write_line(&self, line: &[u8]) {
        self.guarded(|w| w.write_all(line));
    }

    fn flush(&self) {
        self.guarded(|w| w.flush());
    }
}
