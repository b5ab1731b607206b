//! [`MemorySink`]: lines collected in memory, for tests.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use super::{LineSink, lock};

/// Collects lines in memory, for tests. Clones share the same buffer. Also an
/// [`io::Write`], so it can be the inner writer of a
/// [`NonBlockingWriter`](super::NonBlockingWriter) or [`BlockingWriter`](super::BlockingWriter).
///
/// ```
/// use observe_runtime::log::writer::{LineSink, MemorySink};
///
/// let sink = MemorySink::new();
/// let reader = sink.clone();
/// sink.write_line(b"a=1\n");
/// sink.write_line(b"b=2\n");
/// assert_eq!(reader.lines(), ["a=1", "b=2"]);
/// assert_eq!(reader.take(), b"a=1\nb=2\n");
/// assert!(reader.contents().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl MemorySink {
    /// An empty sink.
    ///
    /// ```
    /// assert!(observe_runtime::log::writer::MemorySink::new().contents().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything written so far.
    ///
    /// ```
    /// use observe_runtime::log::writer::{LineSink, MemorySink};
    ///
    /// let s = MemorySink::new();
    /// s.write_line(b"x=1\n");
    /// assert_eq!(s.contents(), b"x=1\n");
    /// ```
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.buf).clone()
    }

    /// Everything written so far, leaving the sink empty.
    ///
    /// ```
    /// use observe_runtime::log::writer::{LineSink, MemorySink};
    ///
    /// let s = MemorySink::new();
    /// s.write_line(b"x=1\n");
    /// assert_eq!(s.take(), b"x=1\n");
    /// assert_eq!(s.take(), b"");
    /// ```
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *lock(&self.buf))
    }

    /// The lines written so far, without their `\n` (invalid UTF-8 replaced with U+FFFD).
    ///
    /// ```
    /// use observe_runtime::log::writer::{LineSink, MemorySink};
    ///
    /// let s = MemorySink::new();
    /// s.write_line(b"x=1\n");
    /// assert_eq!(s.lines(), vec!["x=1".to_string()]);
    /// ```
    pub fn lines(&self) -> Vec<String> {
        let buf = lock(&self.buf);
        String::from_utf8_lossy(&buf)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl LineSink for MemorySink {
    fn write_line(&self, line: &[u8]) {
        lock(&self.buf).extend_from_slice(line);
    }
}

impl Write for MemorySink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        lock(&self.buf).extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
