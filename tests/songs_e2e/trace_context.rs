//! W3C trace context with every export off: no OTLP endpoint, nothing but log lines. A
//! `POST /songs` that continues a caller's trace spawns two vendor look-ups, each a real
//! HTTP call from songs to itself carrying the `traceparent` that `inject_trace_context`
//! writes from observe's own ids; the vendor route's server span, extracted by the HTTP
//! layer, joins the look-up's trace as the calling span's child. The log lines alone tie it
//! all together: the POST's server span holds the `#[observe]`d handler's span, from which
//! the look-ups are spawned; they are their own traces (`observe_async!` starts a root span)
//! whose lines carry `links=<the POST's trace>:<the handler's span>`.

use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{Line, Running, Scratch, free_addr, http, log_lines, songs, wait_until};
use crate::traffic::{INCOMING_PARENT, INCOMING_TRACE};

const VENDOR_ROUTE: &str = "/vendors/{vendor}/offers";

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn vendor_calls_join_the_trace_in_the_log_lines_with_export_off() {
    let scratch = Scratch::new("trace-context");
    let (log_path, log_file) = scratch.file("stdout.log");
    let app = free_addr();
    let mut service = Running::spawn(
        "songs",
        songs()
            .args(["--addr", &app.to_string()])
            .env_remove("OTEL_METRICS_EXPORTER")
            .env_remove("OTEL_LOGS_EXPORTER")
            .stdout(log_file)
            .stderr(Stdio::inherit()),
    );
    wait_until("songs to listen", Duration::from_secs(30), || {
        TcpStream::connect(app).ok()
    });

    let traceparent = format!("00-{INCOMING_TRACE}-{INCOMING_PARENT}-01");
    let (status, body) = http(
        app,
        "POST",
        "/songs",
        &[
            ("content-type", "application/json"),
            ("traceparent", &traceparent),
        ],
        r#"{"title":"Blue","artist":"Joni"}"#,
    );
    assert_eq!(status, 201, "{body}");
    // The look-ups run after the POST answered: wait until both have closed.
    wait_until(
        "both vendor look-ups to close",
        Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(&log_path).ok()?;
            let closed = text
                .lines()
                .filter(|l| {
                    l.contains("span_name=songs.vendor_lookup")
                        && l.contains("span_event=close_span")
                })
                .count();
            (closed == 2).then_some(())
        },
    );
    let status = service.terminate(Duration::from_secs(20));
    assert!(status.success(), "songs exited with {status}");
    let lines = log_lines(&log_path);
    let closed = |keep: &dyn Fn(&Line) -> bool| -> Vec<&Line> {
        lines
            .iter()
            .filter(|l| l.is("span_event", "close_span") && keep(l))
            .collect()
    };

    // The POST continues the caller's trace: extracted with export off.
    let [post] = closed(&|l| l.is("span_name", "POST /songs"))[..] else {
        panic!("one POST /songs span in {:#?}", closed(&|_| true))
    };
    assert!(post.is("trace_id", INCOMING_TRACE), "{:?}", post.0);
    assert!(post.is("parent_span", INCOMING_PARENT), "{:?}", post.0);
    let post_span = post.get("span").unwrap();
    // The handler's span, under the server span, in the caller's trace.
    let [handler] = closed(&|l| l.is("span_name", "create_song"))[..] else {
        panic!("one create_song span in {:#?}", closed(&|_| true))
    };
    assert!(handler.is("trace_id", INCOMING_TRACE), "{:?}", handler.0);
    assert!(handler.is("parent_span", post_span), "{:?}", handler.0);
    let handler_span = handler.get("span").unwrap();

    // Each look-up: a root span linked to the handler, a client span under it, and the
    // vendor's server span under that client span, all in the look-up's trace.
    let link = format!("{INCOMING_TRACE}:{handler_span}");
    let lookups = closed(&|l| l.is("span_name", "songs.vendor_lookup"));
    assert_eq!(lookups.len(), 2, "two vendors per song");
    let mut vendors = Vec::new();
    for lookup in lookups {
        let trace = lookup.get("trace_id").unwrap();
        assert_ne!(trace, INCOMING_TRACE, "a look-up is its own trace");
        assert_eq!(lookup.get("parent_span"), None, "{:?}", lookup.0);
        assert!(lookup.is("links", &link), "{:?}", lookup.0);
        let vendor = lookup.get("vendor").unwrap();

        let in_trace = |l: &&Line| l.is("trace_id", trace);
        let [client] = closed(&|l| l.is("span_name", "lookup"))
            .into_iter()
            .filter(in_trace)
            .collect::<Vec<_>>()[..]
        else {
            panic!("one lookup client span in trace {trace}")
        };
        assert!(client.is("otel.kind", "client"), "{:?}", client.0);
        assert!(
            client.is("parent_span", lookup.get("span").unwrap()),
            "{:?}",
            client.0
        );

        // The vendor's server span: its traceparent came from the client span's ids.
        let [server] = closed(&|l| l.is("http.route", VENDOR_ROUTE))
            .into_iter()
            .filter(in_trace)
            .collect::<Vec<_>>()[..]
        else {
            panic!("one vendor server span in trace {trace}")
        };
        assert!(server.is("otel.kind", "server"), "{:?}", server.0);
        assert!(
            server.is("parent_span", client.get("span").unwrap()),
            "the vendor's server span is the calling span's child: {:?}",
            server.0
        );
        assert!(
            server.is("url.path", &format!("/vendors/{vendor}/offers")),
            "{:?}",
            server.0
        );
        // And the client's event after the answer, in the same trace.
        assert!(
            lines.iter().any(|l| l.is("msg", "offer received")
                && l.is("span", client.get("span").unwrap())
                && l.is("trace_id", trace)),
            "the offer received in trace {trace}"
        );
        vendors.push(format!("{vendor}: {trace}"));
    }
    eprintln!(
        "REPORT export off: POST /songs in the caller's trace {INCOMING_TRACE}; look-ups linked \
         to its handler, each with its vendor call's server span as the client span's child: {vendors:?}"
    );
}
