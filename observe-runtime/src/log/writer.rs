//! Where log lines go: the [`LineSink`] trait and its implementations.
//!
//! - [`NonBlockingWriter`]: the default. Producers append whole lines to a shared buffer under
//!   a short lock; a background thread swaps that buffer for its own empty one and writes the
//!   batch with one `write_all`, so lines are never split or interleaved and, once the two
//!   buffers have grown to their working size, nothing is allocated per line.
//! - [`BlockingWriter`]: one `write_all` per line under a mutex, on the caller's thread.
//! - [`MemorySink`]: collects lines in memory, for tests.

use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

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

/// What [`NonBlockingWriter`] does with a line when its buffer is full.
///
/// ```
/// use observe_runtime::log::writer::Backpressure;
///
/// assert_eq!(Backpressure::default(), Backpressure::Block);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backpressure {
    /// Lossless: the producing thread waits until the background thread has taken the
    /// pending lines.
    #[default]
    Block,
    /// Lossy: the line is dropped and counted in
    /// [`dropped_lines`](NonBlockingWriter::dropped_lines); the producer never waits on I/O.
    Drop,
}

/// Default capacity of [`NonBlockingWriter`]'s pending buffer: 1 MiB.
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// How long the background thread waits for more lines after writing a batch before it
/// goes to sleep (and producers must wake it). Bounds how late a line reaches the writer
/// under steady load; `flush` and shutdown never wait for it.
const LINGER: std::time::Duration = std::time::Duration::from_millis(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code panics while holding these locks, but never propagate poison from a log sink.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Shared {
    state: Mutex<State>,
    /// The worker waits here for lines, a flush request or shutdown.
    work: Condvar,
    /// Producers wait here for room (Block mode) or for shutdown to finish; flushers wait
    /// here for their flush.
    progress: Condvar,
    capacity: usize,
    backpressure: Backpressure,
    dropped: AtomicU64,
    errors: AtomicU64,
}

struct State {
    /// Lines not yet taken by the worker.
    pending: Vec<u8>,
    /// Threads waiting on `progress`; the worker only notifies when there are some.
    waiting: usize,
    /// The worker waits on `work` until told: a producer that finds it so must wake it.
    /// While it lingers (a timed wait after a batch), producers leave it be.
    worker_asleep: bool,
    flush_requested: u64,
    flushed: u64,
    /// The guard asked the worker to drain and stop.
    shutdown: bool,
    /// The worker has stopped; later lines are written synchronously to `writer`.
    closed: bool,
    /// The inner writer, handed back by the worker when it stops (`None` if it was lost to
    /// a panic outside the writer's own calls, which does not happen in practice).
    writer: Option<Box<dyn Write + Send>>,
}

impl Shared {
    fn count_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs a write or flush, counting an error or a panic instead of propagating it.
    fn guarded(&self, f: impl FnOnce() -> io::Result<()>) {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => self.count_error(),
        }
    }

    /// Writes synchronously after the worker stopped (state lock held by the caller).
    fn write_closed(&self, st: &mut State, line: &[u8]) {
        match st.writer.as_mut() {
            Some(w) => self.guarded(|| w.write_all(line)),
            None => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Builds a [`NonBlockingWriter`] with a capacity, a backpressure mode and a thread name.
///
/// ```
/// use observe_runtime::log::writer::{Backpressure, LineSink, MemorySink, NonBlockingWriter};
///
/// let out = MemorySink::new();
/// let (writer, guard) = NonBlockingWriter::builder()
///     .capacity(64 * 1024)
///     .backpressure(Backpressure::Drop)
///     .thread_name("my-logs")
///     .spawn(out.clone())
///     .unwrap();
/// writer.write_line(b"a=1\n");
/// drop(guard); // drains, flushes, joins
/// assert_eq!(out.lines(), ["a=1"]);
/// ```
#[derive(Clone, Debug)]
pub struct NonBlockingBuilder {
    capacity: usize,
    backpressure: Backpressure,
    thread_name: String,
}

impl Default for NonBlockingBuilder {
    fn default() -> Self {
        NonBlockingBuilder {
            capacity: DEFAULT_CAPACITY,
            backpressure: Backpressure::Block,
            thread_name: "observe-log-writer".to_string(),
        }
    }
}

impl NonBlockingBuilder {
    /// Bytes of pending lines past which backpressure applies (default [`DEFAULT_CAPACITY`],
    /// at least 1). A single line longer than this is still accepted when nothing else is
    /// pending. Memory use is up to about twice this: the pending buffer plus the batch being
    /// written.
    ///
    /// ```
    /// let b = observe_runtime::log::writer::NonBlockingWriter::builder().capacity(4096);
    /// # let _ = b;
    /// ```
    pub fn capacity(mut self, bytes: usize) -> Self {
        self.capacity = bytes.max(1);
        self
    }

    /// What to do when the buffer is full (default [`Backpressure::Block`]).
    ///
    /// ```
    /// use observe_runtime::log::writer::{Backpressure, NonBlockingWriter};
    ///
    /// let b = NonBlockingWriter::builder().backpressure(Backpressure::Drop);
    /// # let _ = b;
    /// ```
    pub fn backpressure(mut self, mode: Backpressure) -> Self {
        self.backpressure = mode;
        self
    }

    /// The background thread's name (default `observe-log-writer`).
    ///
    /// ```
    /// let b = observe_runtime::log::writer::NonBlockingWriter::builder().thread_name("logs");
    /// # let _ = b;
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Starts the background thread writing to `writer`. Fails only if the thread cannot be
    /// spawned.
    ///
    /// ```
    /// use observe_runtime::log::writer::NonBlockingWriter;
    ///
    /// let (writer, guard) = NonBlockingWriter::builder().spawn(std::io::sink()).unwrap();
    /// # drop((writer, guard));
    /// ```
    pub fn spawn<W: Write + Send + 'static>(
        self,
        writer: W,
    ) -> io::Result<(NonBlockingWriter, WriterGuard)> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending: Vec::new(),
                waiting: 0,
                worker_asleep: false,
                flush_requested: 0,
                flushed: 0,
                shutdown: false,
                closed: false,
                writer: None,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            capacity: self.capacity,
            backpressure: self.backpressure,
            dropped: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        });
        let worker_shared = Arc::clone(&shared);
        let writer: Box<dyn Write + Send> = Box::new(writer);
        let handle = thread::Builder::new()
            .name(self.thread_name)
            .spawn(move || run(&worker_shared, writer))?;
        Ok((
            NonBlockingWriter {
                shared: Arc::clone(&shared),
            },
            WriterGuard {
                shared,
                worker: Some(handle),
            },
        ))
    }
}

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
fn run(shared: &Shared, mut writer: Box<dyn Write + Send>) {
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

/// A [`LineSink`] whose lines are written by a background thread (see the [module](self)).
///
/// Cheap to clone; all clones feed the same thread. Keep the [`WriterGuard`] alive for as long
/// as lines should be written in the background (typically in `main`): dropping it drains
/// every pending line, flushes the writer and joins the thread. Lines written after that —
/// through clones that outlive the guard — are written synchronously on the caller's thread,
/// under the lock (lossless, but no longer non-blocking). I/O errors (including `EPIPE`) and
/// panics of the inner writer are counted in [`write_errors`](Self::write_errors), never
/// propagated; the lines of a failed write are lost.
///
/// ```
/// use observe_runtime::log::writer::{LineSink, MemorySink, NonBlockingWriter};
///
/// let out = MemorySink::new();
/// let (writer, guard) = NonBlockingWriter::new(out.clone()).unwrap();
/// let handles: Vec<_> = (0..4)
///     .map(|t| {
///         let w = writer.clone();
///         std::thread::spawn(move || {
///             for i in 0..100 {
///                 w.write_line(format!("t={t} i={i}\n").as_bytes());
///             }
///         })
///     })
///     .collect();
/// handles.into_iter().for_each(|h| h.join().unwrap());
/// guard.shutdown();
/// assert_eq!(out.lines().len(), 400);
/// assert_eq!(writer.dropped_lines(), 0);
/// ```
#[derive(Clone)]
pub struct NonBlockingWriter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for NonBlockingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonBlockingWriter")
            .field("capacity", &self.shared.capacity)
            .field("backpressure", &self.shared.backpressure)
            .field("dropped_lines", &self.dropped_lines())
            .field("write_errors", &self.write_errors())
            .finish()
    }
}

impl NonBlockingWriter {
    /// A builder for capacity, backpressure and thread name.
    ///
    /// ```
    /// use observe_runtime::log::writer::NonBlockingWriter;
    ///
    /// let (_w, _guard) = NonBlockingWriter::builder().capacity(1024).spawn(std::io::sink()).unwrap();
    /// ```
    pub fn builder() -> NonBlockingBuilder {
        NonBlockingBuilder::default()
    }

    /// Writes to `writer` in the background with the defaults (1 MiB, [`Backpressure::Block`]).
    ///
    /// ```
    /// use observe_runtime::log::writer::{LineSink, NonBlockingWriter};
    ///
    /// let (w, _guard) = NonBlockingWriter::new(std::io::sink()).unwrap();
    /// w.write_line(b"a=1\n");
    /// ```
    pub fn new<W: Write + Send + 'static>(writer: W) -> io::Result<(Self, WriterGuard)> {
        Self::builder().spawn(writer)
    }

    /// Writes to standard output in the background with the defaults.
    ///
    /// ```no_run
    /// use observe_runtime::log::writer::{LineSink, NonBlockingWriter};
    ///
    /// let (w, _guard) = NonBlockingWriter::stdout().unwrap();
    /// w.write_line(b"level=INFO msg=started\n");
    /// ```
    pub fn stdout() -> io::Result<(Self, WriterGuard)> {
        Self::new(io::stdout())
    }

    /// Lines dropped so far: by [`Backpressure::Drop`] on a full buffer (and, in theory,
    /// after the background thread was lost).
    ///
    /// ```
    /// use observe_runtime::log::writer::NonBlockingWriter;
    ///
    /// let (w, _guard) = NonBlockingWriter::new(std::io::sink()).unwrap();
    /// assert_eq!(w.dropped_lines(), 0);
    /// ```
    pub fn dropped_lines(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Failed (or panicked) `write_all`/`flush` calls on the inner writer so far. One failed
    /// call may have carried many lines.
    ///
    /// ```
    /// use observe_runtime::log::writer::NonBlockingWriter;
    ///
    /// let (w, _guard) = NonBlockingWriter::new(std::io::sink()).unwrap();
    /// assert_eq!(w.write_errors(), 0);
    /// ```
    pub fn write_errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }
}

impl LineSink for NonBlockingWriter {
    fn write_line(&self, line: &[u8]) {
        let sh = &*self.shared;
        let mut st = lock(&sh.state);
        loop {
            if st.closed {
                sh.write_closed(&mut st, line);
                return;
            }
            if st.shutdown {
                // Let the worker drain what is pending and stop, then write synchronously:
                // bounded shutdown, no loss.
            } else if st.pending.is_empty() || st.pending.len() + line.len() <= sh.capacity {
                break;
            } else if sh.backpressure == Backpressure::Drop {
                drop(st);
                sh.dropped.fetch_add(1, Ordering::Relaxed);
                sh.work.notify_one();
                return;
            } else {
                // Full: the worker must take the batch now, not when its linger ends.
                st.worker_asleep = false;
                sh.work.notify_one();
            }
            st.waiting += 1;
            st = sh.progress.wait(st).unwrap_or_else(PoisonError::into_inner);
            st.waiting -= 1;
        }
        let before = st.pending.len();
        st.pending.extend_from_slice(line);
        // Wake the worker when it sleeps, or early from its linger when half the capacity
        // is pending; otherwise it takes the lines when its linger ends.
        let half = sh.capacity / 2;
        let wake = st.worker_asleep || (before < half && st.pending.len() >= half);
        if wake {
            st.worker_asleep = false;
        }
        drop(st);
        if wake {
            sh.work.notify_one();
        }
    }

    fn flush(&self) {
        let sh = &*self.shared;
        let mut st = lock(&sh.state);
        if st.closed {
            if let Some(w) = st.writer.as_mut() {
                sh.guarded(|| w.flush());
            }
            return;
        }
        st.flush_requested += 1;
        let target = st.flush_requested;
        sh.work.notify_one();
        while st.flushed < target && !st.closed {
            st.waiting += 1;
            st = sh.progress.wait(st).unwrap_or_else(PoisonError::into_inner);
            st.waiting -= 1;
        }
    }
}

/// Stops a [`NonBlockingWriter`]'s background thread when dropped (or on
/// [`shutdown`](Self::shutdown)): every pending line is written, the inner writer is flushed,
/// and the thread is joined.
///
/// ```
/// use observe_runtime::log::writer::{LineSink, MemorySink, NonBlockingWriter};
///
/// let out = MemorySink::new();
/// let (w, guard) = NonBlockingWriter::new(out.clone()).unwrap();
/// w.write_line(b"a=1\n");
/// drop(guard);
/// assert_eq!(out.contents(), b"a=1\n");
/// w.write_line(b"b=2\n"); // after shutdown: written synchronously
/// assert_eq!(out.contents(), b"a=1\nb=2\n");
/// ```
#[must_use = "dropping the guard stops the background writer at once"]
pub struct WriterGuard {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WriterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterGuard")
            .field("running", &self.worker.is_some())
            .finish()
    }
}

impl WriterGuard {
    /// Drains, flushes and joins now (what dropping the guard does).
    ///
    /// ```
    /// use observe_runtime::log::writer::NonBlockingWriter;
    ///
    /// let (_w, guard) = NonBlockingWriter::new(std::io::sink()).unwrap();
    /// guard.shutdown();
    /// ```
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Lines dropped so far (see [`NonBlockingWriter::dropped_lines`]).
    ///
    /// ```
    /// use observe_runtime::log::writer::NonBlockingWriter;
    ///
    /// let (_w, guard) = NonBlockingWriter::new(std::io::sink()).unwrap();
    /// assert_eq!(guard.dropped_lines(), 0);
    /// ```
    pub fn dropped_lines(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Failed writes so far (see [`NonBlockingWriter::write_errors`]).
    ///
    /// ```
    /// use observe_runtime::log::writer::NonBlockingWriter;
    ///
    /// let (_w, guard) = NonBlockingWriter::new(std::io::sink()).unwrap();
    /// assert_eq!(guard.write_errors(), 0);
    /// ```
    pub fn write_errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    fn stop(&mut self) {
        let Some(handle) = self.worker.take() else {
            return;
        };
        lock(&self.shared.state).shutdown = true;
        self.shared.work.notify_one();
        // The worker catches writer panics; a join error could only come from elsewhere and
        // `CloseOnExit` has already released any waiting producer.
        let _ = handle.join();
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

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

/// Collects lines in memory, for tests. Clones share the same buffer. Also an
/// [`io::Write`], so it can be the inner writer of a [`NonBlockingWriter`] or
/// [`BlockingWriter`].
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    /// An inner writer that is slow and accepts few bytes per call, and counts flushes.
    #[derive(Clone)]
    struct Slow {
        out: MemorySink,
        max_per_write: usize,
        sleep_every: usize,
        sleep: Duration,
        calls: Arc<AtomicUsize>,
        flushes: Arc<AtomicUsize>,
    }

    impl Slow {
        fn new(max_per_write: usize, sleep_every: usize, sleep: Duration) -> Self {
            Slow {
                out: MemorySink::new(),
                max_per_write,
                sleep_every,
                sleep,
                calls: Arc::default(),
                flushes: Arc::default(),
            }
        }
    }

    impl Write for Slow {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            let n = self.calls.fetch_add(1, Ordering::Relaxed);
            if self.sleep_every > 0 && n.is_multiple_of(self.sleep_every) {
                thread::sleep(self.sleep);
            }
            let k = data.len().min(self.max_per_write);
            self.out.write(&data[..k])
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    fn line_for(t: usize, i: usize) -> String {
        // Lines of varying length, so batches never align with the capacity.
        format!("t={t} i={i} pad={}\n", "x".repeat((t * 7 + i) % 23))
    }

    /// Checks every line is intact and every producer's lines arrived complete and in order.
    fn check_lines(text: &str, threads: usize, per_thread: usize, lossless: bool) -> usize {
        assert!(text.is_empty() || text.ends_with('\n'));
        let mut next = vec![0usize; threads];
        let mut count = 0;
        for l in text.lines() {
            let mut parts = l.split(' ');
            let t: usize = parts
                .next()
                .unwrap()
                .strip_prefix("t=")
                .unwrap()
                .parse()
                .unwrap();
            let i: usize = parts
                .next()
                .unwrap()
                .strip_prefix("i=")
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(format!("{l}\n"), line_for(t, i), "damaged line {l:?}");
            if lossless {
                assert_eq!(i, next[t], "thread {t}: line {i} out of order or lost");
            } else {
                assert!(i >= next[t], "thread {t}: line {i} out of order");
            }
            next[t] = i + 1;
            count += 1;
        }
        if lossless {
            assert!(next.iter().all(|&n| n == per_thread), "{next:?}");
        }
        count
    }

    fn produce(w: &NonBlockingWriter, threads: usize, per_thread: usize) {
        thread::scope(|s| {
            for t in 0..threads {
                let w = w.clone();
                s.spawn(move || {
                    let mut buf = Vec::new();
                    for i in 0..per_thread {
                        buf.clear();
                        buf.extend_from_slice(line_for(t, i).as_bytes());
                        w.write_line(&buf);
                    }
                });
            }
        });
    }

    #[test]
    fn block_mode_is_lossless_under_contention_with_a_tiny_buffer() {
        let (threads, per_thread) = (8, 20_000);
        let slow = Slow::new(61, 64, Duration::from_micros(200));
        let (w, guard) = NonBlockingWriter::builder()
            .capacity(256)
            .spawn(slow.clone())
            .unwrap();
        produce(&w, threads, per_thread);
        guard.shutdown();
        let text = String::from_utf8(slow.out.contents()).unwrap();
        let n = check_lines(&text, threads, per_thread, true);
        assert_eq!(n, threads * per_thread);
        assert_eq!(w.dropped_lines(), 0);
        assert_eq!(w.write_errors(), 0);
        assert!(slow.flushes.load(Ordering::Relaxed) >= 1);
    }

    #[test]
    fn drop_mode_counts_what_it_drops() {
        let (threads, per_thread) = (4, 5_000);
        let slow = Slow::new(usize::MAX, 1, Duration::from_millis(1));
        let (w, guard) = NonBlockingWriter::builder()
            .capacity(1024)
            .backpressure(Backpressure::Drop)
            .spawn(slow.clone())
            .unwrap();
        let start = Instant::now();
        produce(&w, threads, per_thread);
        let produced_in = start.elapsed();
        guard.shutdown();
        let text = String::from_utf8(slow.out.contents()).unwrap();
        let written = check_lines(&text, threads, per_thread, false) as u64;
        let dropped = w.dropped_lines();
        assert!(dropped > 0, "nothing dropped");
        assert_eq!(written + dropped, (threads * per_thread) as u64);
        // Producers never waited for the 1 ms writes (20,000 lines, a few hundred writes).
        assert!(produced_in < Duration::from_secs(5), "{produced_in:?}");
    }

    #[test]
    fn guard_drop_drains_everything_and_flushes() {
        let slow = Slow::new(usize::MAX, 1, Duration::from_millis(2));
        let (w, guard) = NonBlockingWriter::builder()
            .capacity(1 << 20)
            .spawn(slow.clone())
            .unwrap();
        produce(&w, 2, 5_000);
        drop(guard);
        let text = String::from_utf8(slow.out.contents()).unwrap();
        assert_eq!(check_lines(&text, 2, 5_000, true), 10_000);
        assert_eq!(slow.flushes.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn producers_racing_the_guard_lose_nothing() {
        let slow = Slow::new(usize::MAX, 16, Duration::from_micros(100));
        let (w, guard) = NonBlockingWriter::builder()
            .capacity(512)
            .spawn(slow.clone())
            .unwrap();
        let (threads, per_thread) = (4, 5_000);
        thread::scope(|s| {
            for t in 0..threads {
                let w = w.clone();
                s.spawn(move || {
                    for i in 0..per_thread {
                        w.write_line(line_for(t, i).as_bytes());
                    }
                });
            }
            thread::sleep(Duration::from_millis(5));
            guard.shutdown(); // while producers are still writing
        });
        let text = String::from_utf8(slow.out.contents()).unwrap();
        assert_eq!(
            check_lines(&text, threads, per_thread, true),
            threads * per_thread
        );
    }

    #[test]
    fn flush_waits_for_earlier_lines_and_flushes_the_writer() {
        let slow = Slow::new(usize::MAX, 1, Duration::from_millis(1));
        let (w, _guard) = NonBlockingWriter::new(slow.clone()).unwrap();
        for i in 0..100 {
            w.write_line(line_for(0, i).as_bytes());
        }
        w.flush();
        assert_eq!(
            check_lines(
                &String::from_utf8(slow.out.contents()).unwrap(),
                1,
                100,
                true
            ),
            100
        );
        assert!(slow.flushes.load(Ordering::Relaxed) >= 1);
        // Flushing with nothing pending returns too.
        let before = slow.flushes.load(Ordering::Relaxed);
        w.flush();
        assert_eq!(slow.flushes.load(Ordering::Relaxed), before + 1);
    }

    #[test]
    fn a_line_longer_than_the_capacity_still_goes_through() {
        let out = MemorySink::new();
        let (w, guard) = NonBlockingWriter::builder()
            .capacity(16)
            .spawn(out.clone())
            .unwrap();
        let long = format!("msg={}\n", "y".repeat(1000));
        w.write_line(b"a=1\n");
        w.write_line(long.as_bytes());
        w.write_line(b"b=2\n");
        guard.shutdown();
        assert_eq!(out.contents(), format!("a=1\n{long}b=2\n").as_bytes());
    }

    #[test]
    fn writes_after_shutdown_are_synchronous() {
        let out = MemorySink::new();
        let (w, guard) = NonBlockingWriter::new(out.clone()).unwrap();
        w.write_line(b"a=1\n");
        guard.shutdown();
        w.write_line(b"b=2\n");
        w.flush();
        assert_eq!(out.contents(), b"a=1\nb=2\n");
        assert_eq!(w.dropped_lines(), 0);
    }

    struct Broken {
        panic: bool,
    }
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            if self.panic {
                panic!("writer panicked (expected by the test)");
            }
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn writer_errors_are_counted_not_raised() {
        for panic in [false, true] {
            let (w, guard) = NonBlockingWriter::builder()
                .capacity(64)
                .spawn(Broken { panic })
                .unwrap();
            for i in 0..200 {
                w.write_line(line_for(1, i).as_bytes());
            }
            w.flush();
            assert!(w.write_errors() >= 2, "panic={panic}: {}", w.write_errors());
            guard.shutdown();
            let before = w.write_errors();
            w.write_line(b"late=1\n");
            assert_eq!(w.write_errors(), before + 1);
        }
    }

    #[test]
    fn epipe_from_a_real_pipe_is_counted() {
        // A real OS pipe whose read end is closed.
        let (reader, writer) = io::pipe().unwrap();
        drop(reader);
        let (w, guard) = NonBlockingWriter::new(writer).unwrap();
        w.write_line(b"a=1\n");
        w.flush();
        guard.shutdown();
        assert!(w.write_errors() >= 1);
    }

    #[test]
    fn blocking_writer_and_memory_sink() {
        let out = MemorySink::new();
        let bw = Arc::new(BlockingWriter::new(out.clone()));
        thread::scope(|s| {
            for t in 0..4 {
                let bw = Arc::clone(&bw);
                s.spawn(move || {
                    for i in 0..1000 {
                        bw.write_line(line_for(t, i).as_bytes());
                    }
                });
            }
        });
        bw.flush();
        let text = String::from_utf8(out.contents()).unwrap();
        assert_eq!(check_lines(&text, 4, 1000, true), 4000);
        assert_eq!(out.lines().len(), 4000);
        let broken = BlockingWriter::new(Broken { panic: false });
        broken.write_line(b"a=1\n");
        broken.flush();
        assert_eq!(broken.write_errors(), 2);
        // As a trait object, through Arc and Box.
        let dynsink: Arc<dyn LineSink> = Arc::new(MemorySink::new());
        dynsink.write_line(b"x=1\n");
        let boxed: Box<dyn LineSink> = Box::new(out.clone());
        boxed.write_line(b"y=2\n");
        assert!(out.contents().ends_with(b"y=2\n"));
    }
}
