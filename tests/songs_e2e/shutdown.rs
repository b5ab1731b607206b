//! SIGTERM while a client has sent only half a request: the service waits for it up to the
//! `--shutdown-timeout` deadline, no longer, then flushes its log lines and spans and exits 0.

use std::io::Write;
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use observe_testkit::otlp::Receiver;

use crate::support::{Running, Scratch, free_addr, http, log_lines, songs, wait_until};

const DEADLINE: Duration = Duration::from_secs(2);
/// Past the deadline: the runtime's shutdown, the span export to a receiver that answers at
/// once, the log flush, and a loaded machine.
const MARGIN: Duration = Duration::from_secs(10);

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn sigterm_cuts_a_half_sent_request_off_at_the_deadline_and_flushes() {
    let scratch = Scratch::new("shutdown");
    let (log_path, log_file) = scratch.file("stdout.log");
    let receiver = Receiver::start_grpc();
    let app = free_addr();
    let mut service = Running::spawn(
        "songs",
        songs()
            .args(["--addr", &app.to_string()])
            .args(["--shutdown-timeout", &DEADLINE.as_secs().to_string()])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .stdout(log_file)
            .stderr(Stdio::inherit()),
    );
    wait_until("songs to listen", Duration::from_secs(30), || {
        TcpStream::connect(app).ok()
    });

    // A request that completes, then one whose body never finishes arriving.
    assert_eq!(http(app, "GET", "/songs/7", &[], "").0, 404);
    let mut half = TcpStream::connect(app).unwrap();
    half.write_all(
        b"POST /songs HTTP/1.1\r\nHost: songs\r\ncontent-type: application/json\r\n\
          content-length: 100\r\n\r\n{\"title\":",
    )
    .unwrap();
    // Its server span is open: the handler is waiting for the rest of the body.
    wait_until(
        "the half-sent request's span",
        Duration::from_secs(10),
        || {
            std::fs::read_to_string(&log_path).ok().filter(|logs| {
                logs.lines().any(|l| {
                    l.contains("span_event=new_span")
                        && l.contains("http.request.method=POST")
                        && l.contains("url.path=/songs ")
                })
            })
        },
    );

    let signalled = Instant::now();
    service.sigterm();
    let status = service.wait(DEADLINE + MARGIN);
    let took = signalled.elapsed();
    eprintln!("REPORT songs exited {took:?} after SIGTERM (deadline {DEADLINE:?}): {status}");
    assert!(status.success(), "songs exited with {status}");
    assert!(
        took >= DEADLINE,
        "exited after {took:?}, before the {DEADLINE:?} deadline: the request in flight was not waited for"
    );

    // Everything was flushed: the completed request, the shutdown, and the request cut off.
    let logs = log_lines(&log_path);
    let closed = |method: &str, route: &str| {
        logs.iter().find(|l| {
            l.is("span_event", "close_span")
                && l.is("otel.kind", "server")
                && l.is("http.request.method", method)
                && l.is("http.route", route)
        })
    };
    let completed = closed("GET", "/songs/{id}").expect("the completed request's close line");
    assert!(
        completed.is("http.response.status_code", "404"),
        "{:?}",
        completed.0
    );
    let cut_off = closed("POST", "/songs").expect("the cut-off request's close line");
    assert!(cut_off.is("observe.result", "cancelled"), "{:?}", cut_off.0);
    assert!(
        logs.iter().any(|l| l.is("level", "warn")
            && l.get("msg")
                .is_some_and(|m| m.contains("shutdown deadline"))),
        "a warning that requests were cut off"
    );

    // And the spans were exported on the way out, the cut-off one included.
    receiver.wait_for_spans(2, Duration::from_secs(5));
    let spans = receiver.spans();
    for line in [completed, cut_off] {
        let span_id = line.get("span").unwrap();
        assert!(
            spans.iter().any(|s| s.span_id == span_id),
            "span {span_id} of {:?} not exported",
            line.0
        );
    }
}
