//! What the songs tests share: the example binary as a child process that is always stopped,
//! an HTTP request, and the log lines it wrote.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use observe_testkit::logfmt::parse_line;

/// A child process that is stopped (SIGKILL) however the test ends.
pub(crate) struct Running {
    pub name: &'static str,
    pub child: Child,
}

impl Running {
    pub(crate) fn spawn(name: &'static str, command: &mut Command) -> Running {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running { name, child }
    }

    pub(crate) fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {}", self.child.id());
    }

    /// Waits for the exit, killing the child and failing the test past `within`.
    pub(crate) fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("{} did not exit within {within:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM and wait: the songs service flushes its logs and spans on the way out.
    pub(crate) fn terminate(&mut self, within: Duration) -> ExitStatus {
        self.sigterm();
        self.wait(within)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A scratch directory of this test process, removed when dropped.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    pub(crate) fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("observe-songs-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub(crate) fn file(&self, name: &str) -> (PathBuf, File) {
        let path = self.0.join(name);
        let file = File::create(&path).unwrap();
        (path, file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// One request and its answer (status and body), through testkit's client: a malformed
/// response fails the test rather than read as some status.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_bytes()))
        .collect();
    let response = observe_testkit::http::request(addr, method, path, &headers, body.as_bytes());
    (response.status, response.body)
}

/// `text` as a URL query value: everything but ASCII letters and digits percent-encoded.
pub(crate) fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub(crate) fn wait_until<T>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// [`wait_until`] for a `check` that says what it saw instead: the failure shows the last.
pub(crate) fn wait_for<T>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match check() {
            Ok(value) => return value,
            Err(seen) => assert!(
                Instant::now() < deadline,
                "timed out after {within:?} waiting for {what}; last seen: {seen}"
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The songs example, built by `cargo build --example songs` next to this test binary.
pub(crate) fn songs() -> Command {
    // target/<profile>/deps/songs_e2e-… → target/<profile>/examples/songs
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = profile_dir.join("examples").join("songs");
    assert!(
        binary.exists(),
        "{} missing: run `cargo build --example songs` first",
        binary.display()
    );
    let mut command = Command::new(binary);
    command
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    command
}

/// One logfmt line, as `(key, value)` pairs.
#[derive(Debug)]
pub(crate) struct Line(pub Vec<(String, String)>);

impl Line {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn is(&self, key: &str, value: &str) -> bool {
        self.get(key) == Some(value)
    }
}

/// Every line of a log file, each of which must parse as observe's logfmt.
pub(crate) fn log_lines(path: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the last log line is cut short:\n{text}"
    );
    text.lines()
        .map(|l| Line(parse_line(l).unwrap_or_else(|e| panic!("{e}: {l}"))))
        .collect()
}
