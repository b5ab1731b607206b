//! [`NonBlockingWriter`]: its builder, its guard, and the state they share with the
//! background thread ([`worker`](super::worker)).

use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use super::worker::run;
use super::{LineSink, lock};

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

/// What the producers, the guard and the background thread share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// The worker waits here for lines, a flush request or shutdown.
    pub(super) work: Condvar,
    /// Producers wait here for room (Block mode) or for shutdown to finish; flushers wait
    /// here for their flush.
    pub(super) progress: Condvar,
    pub(super) capacity: usize,
    backpressure: Backpressure,
    dropped: AtomicU64,
    errors: AtomicU64,
}

/// The part of [`Shared`] under its lock.
pub(super) struct State {
    /// Lines not yet taken by the worker.
    pub(super) pending: Vec<u8>,
    /// Threads waiting on `progress`; the worker only notifies when there are some.
    pub(super) waiting: usize,
    /// The worker waits on `work` until told: a producer that finds it so must wake it.
    /// While it lingers (a timed wait after a batch), producers leave it be.
    pub(super) worker_asleep: bool,
    pub(super) flush_requested: u64,
    pub(super) flushed: u64,
    /// The guard asked the worker to drain and stop.
    pub(super) shutdown: bool,
    /// The worker has stopped; later lines are written synchronously to `writer`.
    pub(super) closed: bool,
    /// The inner writer, handed back by the worker when it stops (`None` if it was lost to
    /// a panic outside the writer's own calls, which does not happen in practice).
    pub(super) writer: Option<Box<dyn Write + Send>>,
}

impl Shared {
    fn count_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs a write or flush, counting an error or a panic instead of propagating it.
    pub(super) fn guarded(&self, f: impl FnOnce() -> io::Result<()>) {
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

/// A [`LineSink`] whose lines are written by a background thread (see the [module](super)).
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
