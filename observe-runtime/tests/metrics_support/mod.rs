//! Shared by the `metrics_*` integration tests: subscribers and an exposition parser.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use observe_runtime::Signals;
use observe_runtime::filter::SignalFilter;
use observe_runtime::log::LogOutput;
use observe_runtime::log::writer::MemorySink;
use observe_runtime::metrics::{Metrics, MetricsConfig};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// The ways the metrics signal must work: alone, next to the log signal in one layer, and
/// under a second `Signals` layer stacked outside it (which must leave its records alone).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stack {
    Alone,
    WithLogs,
    UnderAnotherLayer,
}

pub(crate) const STACKS: [Stack; 3] = [Stack::Alone, Stack::WithLogs, Stack::UnderAnotherLayer];

fn logs_only() -> Signals {
    Signals::builder()
        .logs(LogOutput::new(MemorySink::new()), SignalFilter::all())
        .build()
}

pub(crate) fn metrics(config: MetricsConfig) -> Metrics {
    Metrics::new(config).expect("a valid config")
}

/// A dispatcher with the metrics layer, stacked as asked, plus a counter of WARN events
/// from the metrics module.
pub(crate) fn dispatch(metrics: &Metrics, stack: Stack) -> (Dispatch, Arc<AtomicUsize>) {
    let warnings = Arc::new(AtomicUsize::new(0));
    let counter = WarnCounter(warnings.clone());
    let dispatch = match stack {
        Stack::Alone => Dispatch::new(
            tracing_subscriber::registry()
                .with(metrics.layer())
                .with(counter),
        ),
        Stack::WithLogs => Dispatch::new(
            tracing_subscriber::registry()
                .with(
                    Signals::builder()
                        .logs(LogOutput::new(MemorySink::new()), SignalFilter::all())
                        .metrics(metrics, SignalFilter::all())
                        .build(),
                )
                .with(counter),
        ),
        Stack::UnderAnotherLayer => Dispatch::new(
            tracing_subscriber::registry()
                .with(metrics.layer())
                .with(logs_only())
                .with(counter),
        ),
    };
    (dispatch, warnings)
}

struct WarnCounter(Arc<AtomicUsize>);

impl<S: Subscriber> Layer<S> for WarnCounter {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() == Level::WARN && meta.target().starts_with("observe_runtime::metrics") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// One sample line of the text exposition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses every sample line (comments and blank lines skipped); panics on anything that
/// is not valid text exposition, so a malformed render fails the test.
pub(crate) fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| parse_line(line).unwrap_or_else(|| panic!("not a sample line: {line:?}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        loop {
            let (start, c) = chars.next()?;
            if c == '}' {
                rest = &body[start + 1..];
                break;
            }
            let c = if c == ',' { chars.next()?.1 } else { c };
            let mut key = String::from(c);
            for (_, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            if chars.next()?.1 != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()?.1 {
                    '"' => break,
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        c => value.push(c),
                    },
                    c => value.push(c),
                }
            }
            labels.push((key, value));
        }
    }
    let value = rest.strip_prefix(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The samples of metric `name` (exact sample name, e.g. `x_total` or `x_duration_seconds_bucket`).
pub(crate) fn named<'a>(samples: &'a [Sample], name: &str) -> Vec<&'a Sample> {
    samples.iter().filter(|s| s.name == name).collect()
}

/// The exposition lines that start with `prefix`.
pub(crate) fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}
