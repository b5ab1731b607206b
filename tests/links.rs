//! A span that follows from another (`observe_async!`, `#[observe(follows_from = ..)]`)
//! names its link from its first log line on, not only on its close line.

use observe::runtime::Signals;
use observe::runtime::filter::SignalFilter;
use observe::runtime::log::LogOutput;
use observe::runtime::log::writer::MemorySink;
use observe::{observe, observe_async};
use observe_testkit::logfmt::parse_lines;

type Line = Vec<(String, String)>;
use tracing_subscriber::layer::SubscriberExt as _;

#[observe(follows_from = [cause.id()])]
fn follower(cause: &tracing::Span) {
    let _ = cause;
}

fn lines_of(f: impl FnOnce()) -> Vec<Line> {
    let sink = MemorySink::new();
    let signals = Signals::builder()
        .logs(LogOutput::new(sink.clone()), SignalFilter::all())
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(signals), f);
    parse_lines(&String::from_utf8(sink.contents()).unwrap()).expect("strict logfmt")
}

fn value<'l>(line: &'l Line, key: &str) -> Option<&'l str> {
    line.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Every line of the span named `name`, which must all carry `links=<trace>:<span>` of
/// the line of the span named `cause`.
fn assert_linked(lines: &[Line], name: &str, cause: &str) {
    let cause_line = lines
        .iter()
        .find(|l| value(l, "span_name") == Some(cause))
        .unwrap_or_else(|| panic!("no {cause} line in {lines:#?}"));
    let link = format!(
        "{}:{}",
        value(cause_line, "trace_id").unwrap(),
        value(cause_line, "span").unwrap()
    );
    let own: Vec<&Line> = lines
        .iter()
        .filter(|l| value(l, "span_name") == Some(name))
        .collect();
    assert_eq!(own.len(), 2, "an open and a close line: {lines:#?}");
    for line in own {
        assert_eq!(value(line, "links"), Some(link.as_str()), "{line:?}");
    }
}

#[test]
fn follows_from_links_from_the_first_line() {
    let lines = lines_of(|| {
        let cause = tracing::info_span!("cause");
        follower(&cause);
    });
    assert_linked(&lines, "follower", "cause");
}

#[test]
fn observe_async_links_from_the_first_line() {
    let lines = lines_of(|| {
        let _cause = tracing::info_span!("spawner").entered();
        let task = observe_async!("task", async {});
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut task = std::pin::pin!(task);
        assert!(task.as_mut().poll(&mut cx).is_ready());
    });
    assert_linked(&lines, "task", "spawner");
}
