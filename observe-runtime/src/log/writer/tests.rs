//! The writers under load, contention, shutdown races and failing inner writers.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::{Backpressure, BlockingWriter, LineSink, MemorySink, NonBlockingWriter};

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
