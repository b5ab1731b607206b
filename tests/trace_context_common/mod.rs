//! What the `trace_context_export_off` and `trace_context_export_on` test binaries share:
//! the forwarding service of `examples/trace_context.rs` on 127.0.0.1 under `init`, a capture
//! server it forwards to, and the checks of what arrived there, what was logged and (with
//! export on) what a real OTLP receiver got.
//!
//! - `client.rs`: the caller, writing header fields byte for byte;
//! - `capture.rs`: the callee, keeping the header fields of each call;
//! - `cases.rs`: the W3C Trace Context cases, declared as `#[test]`s in each binary by
//!   [`trace_context_tests!`].
//!
//! `init` is once per process: a binary starts one [`Harness`] and its tests share it,
//! telling their requests apart by `x-request-id` and their calls by path.

pub(crate) mod capture;
pub(crate) mod cases;
pub(crate) mod client;

// The service under test is the example itself, as users read it; the tests serve its
// `app()` under their own `init` (its `main` and argument parsing go unused here).
#[allow(dead_code)]
#[path = "../../examples/trace_context.rs"]
mod example;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use observe::runtime::Guard;
use observe::runtime::config::{Config, LogFormat, Protocol, Sampler, SpanLines};
use observe::runtime::log::writer::MemorySink;
use observe::runtime::propagation::TraceContext;
use observe_testkit::logfmt::parse_line;
use observe_testkit::otlp::{ReceivedSpan, Receiver};

use capture::{Capture, Fields};

/// Declares one `#[test]` per case of [`cases`], each run against `$harness()`.
macro_rules! trace_context_tests {
    ($harness:ident) => {
        trace_context_tests!(@each $harness:
            a_valid_traceparent_is_continued,
            a_request_without_trace_context_starts_a_trace,
            traceparent_fields_of_the_wrong_length_start_a_new_trace,
            traceparent_characters_other_than_lowercase_hex_start_a_new_trace,
            version_ff_starts_a_new_trace,
            version_00_with_trailing_data_starts_a_new_trace,
            a_later_version_is_read_by_its_version_00_prefix,
            all_zero_ids_start_a_new_trace,
            blanks_around_traceparent_are_ignored,
            a_repeated_traceparent_starts_a_new_trace,
            header_names_are_case_insensitive,
            other_header_names_are_not_read,
            tracestate_is_passed_on_with_the_trace,
            tracestate_without_a_valid_traceparent_is_dropped,
            tracestate_fields_are_combined_in_order,
            every_allowed_tracestate_character_passes,
            blanks_and_empty_members_in_tracestate_are_dropped,
            vendor_keys_pass_and_a_key_starting_with_at_drops_the_list,
            tracestate_key_and_value_length_limits,
            thirty_two_members_pass_and_thirty_three_drop_the_list,
            an_invalid_member_drops_the_whole_tracestate,
            a_repeated_tracestate_key_keeps_its_first_member,
            an_empty_tracestate_is_never_sent,
            several_calls_share_one_trace_with_distinct_parents,
            the_random_flag_is_kept,
        );
    };
    (@each $harness:ident: $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                trace_context_common::cases::$case($harness());
            }
        )*
    };
}
pub(crate) use trace_context_tests;

/// Whether the harness exports spans, and where to.
#[allow(dead_code)] // each binary starts one of them
pub(crate) enum Export {
    Off,
    /// To a real OTLP/HTTP receiver on 127.0.0.1.
    On,
}

/// The service, its callee and everything observe wrote.
pub(crate) struct Harness {
    service: SocketAddr,
    capture: Capture,
    logs: MemorySink,
    receiver: Option<Receiver>,
    guard: Guard,
    next_request: AtomicU64,
}

impl Harness {
    /// Installs observe (`init`) and serves the example's app and the capture server from a
    /// runtime of their own. Every setting the checks rely on is set here, so that the
    /// environment the tests run in cannot change it.
    pub(crate) fn start(export: Export) -> Harness {
        let logs = MemorySink::default();
        let config = Config::new()
            .service_name("trace-context-tests")
            .log_writer(logs.clone())
            .log_format(LogFormat::Logfmt)
            .log_filter("info")
            .span_lines(SpanLines::OpenClose)
            .traces_filter("info")
            .sampler(Sampler::ParentBasedAlwaysOn);
        let (config, receiver) = match export {
            Export::Off => (config.trace_export(false), None),
            Export::On => {
                let receiver = Receiver::start_http();
                let config = config
                    .trace_export(true)
                    .otlp_protocol(Protocol::HttpProtobuf)
                    .otlp_endpoint(receiver.endpoint());
                (config, Some(receiver))
            }
        };
        let guard = config.init().expect("init");

        let service = bind();
        let callee = bind();
        let addr = service.local_addr().unwrap();
        let (started, capture) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                started.send(Capture::serve(callee)).unwrap();
                let listener = tokio::net::TcpListener::from_std(service).unwrap();
                let app = example::app().into_make_service_with_connect_info::<SocketAddr>();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Harness {
            service: addr,
            capture: capture.recv().expect("the capture server started"),
            logs,
            receiver,
            guard,
            next_request: AtomicU64::new(1),
        }
    }

    /// Sends the service a request with `fields` (after its `x-request-id`) that asks for
    /// `calls` calls to the capture server, and gathers what came of it. Every exchange is
    /// checked for what holds whatever the fields: see [`Exchange::check_calls`].
    pub(crate) fn send(&self, fields: &[(&str, &str)], calls: usize) -> Exchange<'_> {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("w3c-{n}");
        let urls: Vec<String> = (0..calls)
            .map(|i| self.capture.url(&format!("{n}.{i}")))
            .collect();
        let body = serde_json::Value::from(
            urls.iter()
                .map(|url| serde_json::json!({ "url": url, "arguments": [] }))
                .collect::<Vec<_>>(),
        )
        .to_string();
        let mut all = vec![("x-request-id", request_id.as_str())];
        all.extend_from_slice(fields);

        let answer = client::post(self.service, "/test", &all, &body);
        assert_eq!(answer.status, 200, "sent {fields:?}: {}", answer.body);
        let arrived = (0..calls)
            .map(|i| {
                let mut arrivals = self.capture.take(&format!("{n}.{i}"));
                assert_eq!(arrivals.len(), 1, "call {i} of {fields:?}: {arrivals:?}");
                arrivals.remove(0)
            })
            .collect();
        let server = self.close_line(&request_id, |line| {
            value(line, "span_name") == Some("POST /test")
        });
        let clients = urls
            .iter()
            .map(|url| {
                self.close_line(&request_id, |line| {
                    value(line, "span_name") == Some("forward")
                        && value(line, "url.full") == Some(url)
                })
            })
            .collect();
        let exchange = Exchange {
            harness: self,
            sent: fields.iter().map(|&(n, v)| (n.into(), v.into())).collect(),
            arrived,
            server,
            clients,
        };
        exchange.check_calls();
        exchange
    }

    /// The `close_span` line of the request `request_id` that `matches`, once written.
    fn close_line(&self, request_id: &str, matches: impl Fn(&Line) -> bool) -> Line {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .logs
                .lines()
                .iter()
                .filter(|line| line.contains(request_id))
                .map(|line| parse_line(line).unwrap_or_else(|e| panic!("{e}: {line}")))
                .find(|line| {
                    value(line, "request_id") == Some(request_id)
                        && value(line, "span_event") == Some("close_span")
                        && matches(line)
                });
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no such close line for {request_id}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The exported spans with these ids, once all came (flushing to hurry them).
    fn exported(&self, receiver: &Receiver, span_ids: &[&str]) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            self.guard.flush_traces(Duration::from_secs(5));
            let spans: Vec<_> = receiver
                .spans()
                .into_iter()
                .filter(|span| span_ids.contains(&span.span_id.as_str()))
                .collect();
            if spans.len() >= span_ids.len() {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "spans {span_ids:?} were not all exported: {spans:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn bind() -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

/// A log line's keys and values.
type Line = Vec<(String, String)>;

fn value<'a>(line: &'a Line, key: &str) -> Option<&'a str> {
    line.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A `traceparent` the service sent, checked to be version 00 to the letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    pub trace_id: String,
    pub parent_id: String,
    pub flags: String,
}

impl Sent {
    fn parse(value: &str) -> Sent {
        let lower_hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let parts: Vec<&str> = value.split('-').collect();
        assert!(
            parts.len() == 4
                && parts[0] == "00"
                && lower_hex(parts[1], 32)
                && lower_hex(parts[2], 16)
                && lower_hex(parts[3], 2),
            "not a version-00 traceparent: {value:?}"
        );
        assert!(
            parts[1].bytes().any(|b| b != b'0') && parts[2].bytes().any(|b| b != b'0'),
            "an all-zero id was sent: {value:?}"
        );
        Sent {
            trace_id: parts[1].into(),
            parent_id: parts[2].into(),
            flags: parts[3].into(),
        }
    }
}

/// One request to the service and all that came of it.
pub(crate) struct Exchange<'h> {
    harness: &'h Harness,
    sent: Fields,
    /// The header fields of each call, in the order the calls were asked for.
    arrived: Vec<Fields>,
    /// The close line of the request's server span.
    server: Line,
    /// The close line of each call's client span.
    clients: Vec<Line>,
}

impl Exchange<'_> {
    /// What holds for every request: each call carries exactly one valid `traceparent`, of
    /// the request's trace (the one on its log lines), with the call's own client span as
    /// the parent; the client spans are children of the server span, each with its own id;
    /// every call carries the same `tracestate`, in at most one field and never empty.
    fn check_calls(&self) {
        let server_span = self.server_value("span");
        let trace_id = self.trace_id();
        let mut parents = vec![server_span];
        for (i, client) in self.clients.iter().enumerate() {
            let sent = self.traceparent(i);
            let context = format!("call {i} of {:?}", self.sent);
            assert_eq!(sent.trace_id, trace_id, "{context}: the logged trace");
            assert_eq!(value(client, "trace_id"), Some(trace_id), "{context}");
            assert_eq!(
                value(client, "parent_span"),
                Some(server_span),
                "{context}: the client span is the server span's child"
            );
            assert_eq!(
                Some(sent.parent_id.as_str()),
                value(client, "span"),
                "{context}: the callee's parent is the call's client span"
            );
            assert!(
                !parents.contains(&sent.parent_id.as_str()),
                "{context}: parent id {} is not the call's own",
                sent.parent_id
            );
            parents.push(value(client, "span").unwrap());
            assert_eq!(sent.flags, self.traceparent(0).flags, "{context}");

            let states = self.fields(i, "tracestate");
            assert!(states.len() <= 1, "{context}: tracestate {states:?}");
            assert!(
                states.iter().all(|s| !s.is_empty()),
                "{context}: an empty tracestate was sent"
            );
            assert_eq!(
                states.first(),
                self.fields(0, "tracestate").first(),
                "{context}"
            );
        }
    }

    /// The values of the fields named `name` (any casing) call `call` arrived with.
    fn fields(&self, call: usize, name: &str) -> Vec<&str> {
        self.arrived[call]
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn server_value(&self, key: &str) -> &str {
        value(&self.server, key).unwrap_or_else(|| panic!("no {key} on {:?}", self.server))
    }

    /// The `traceparent` call `call` arrived with.
    pub(crate) fn traceparent(&self, call: usize) -> Sent {
        match self.fields(call, "traceparent")[..] {
            [only] => Sent::parse(only),
            ref fields => panic!("call {call} of {:?}: traceparent {fields:?}", self.sent),
        }
    }

    /// The request's trace id (on its log lines and sent with every call).
    pub(crate) fn trace_id(&self) -> &str {
        self.server_value("trace_id")
    }

    /// The `tracestate` passed on with every call, if any.
    pub(crate) fn tracestate(&self) -> Option<&str> {
        self.fields(0, "tracestate").first().copied()
    }

    /// The parent ids each call was sent.
    pub(crate) fn parent_ids(&self) -> Vec<String> {
        (0..self.arrived.len())
            .map(|i| self.traceparent(i).parent_id)
            .collect()
    }

    /// The request continued the caller's trace: same trace id, the caller's span as the
    /// server span's parent, the caller's `sampled` flag, a new parent id for each call.
    pub(crate) fn continues(&self, trace_id: &str, parent_id: &str, sampled: bool) -> &Self {
        let context = format!("{:?}", self.sent);
        assert_eq!(self.trace_id(), trace_id, "{context}: the caller's trace");
        assert_eq!(
            value(&self.server, "parent_span"),
            Some(parent_id),
            "{context}: the caller's span is the parent"
        );
        for i in 0..self.arrived.len() {
            assert_ne!(self.traceparent(i).parent_id, parent_id, "{context}");
            let flags = u8::from_str_radix(&self.traceparent(i).flags, 16).unwrap();
            assert_eq!(
                flags & 1 == 1,
                sampled,
                "{context}: the caller's sampled flag"
            );
        }
        self.check_export(Some(parent_id));
        self
    }

    /// The request started a new trace: none of the `refused` trace ids, no parent,
    /// no `tracestate`, sampled (every root is, with the sampler the harness sets) and
    /// flagged random (Level 2: observe draws all 128 bits of a new trace id).
    pub(crate) fn restarts(&self, refused: &[&str]) -> &Self {
        let context = format!("{:?}", self.sent);
        assert!(
            !refused.contains(&self.trace_id()),
            "{context}: a new trace, not {}",
            self.trace_id()
        );
        assert_eq!(
            value(&self.server, "parent_span"),
            None,
            "{context}: a new trace has no parent"
        );
        assert_eq!(self.traceparent(0).flags, "03", "{context}");
        assert_eq!(
            self.tracestate(),
            None,
            "{context}: a new trace has no tracestate"
        );
        self.check_export(None);
        self
    }

    /// The `trace_state` exported spans carry: the propagated `tracestate` as observe hands
    /// it to OpenTelemetry ([`TraceContext::to_otel`]). opentelemetry's `TraceState` holds
    /// only lists whose every key it reads as a Level 1 key (and 0.33 refuses a 14-character
    /// system id, which Level 1 allows); observe propagates Level 2 keys (`ab@@cd`), and
    /// exports such a list as no `trace_state`.
    pub(crate) fn exported_tracestate(&self) -> String {
        let Some(list) = self.tracestate() else {
            return String::new();
        };
        let sent = self.traceparent(0);
        let traceparent = format!("00-{}-{}-{}", sent.trace_id, sent.parent_id, sent.flags);
        TraceContext::from_w3c([traceparent.as_str()], [list])
            .expect("the service sent a valid traceparent")
            .to_otel()
            .trace_state()
            .header()
    }

    /// With export on: the spans on the log lines are the exported ones, with the same ids,
    /// parents and `tracestate`, when the trace is sampled; none of them when it is not.
    fn check_export(&self, remote_parent: Option<&str>) {
        let Some(receiver) = &self.harness.receiver else {
            return;
        };
        let server_span = self.server_value("span");
        let mut ids = vec![server_span];
        ids.extend(self.clients.iter().map(|line| value(line, "span").unwrap()));
        let context = format!("{:?}", self.sent);
        let sampled = u8::from_str_radix(&self.traceparent(0).flags, 16).unwrap() & 1 == 1;
        if !sampled {
            self.harness.guard.flush_traces(Duration::from_secs(5));
            let leaked: Vec<_> = receiver
                .spans()
                .into_iter()
                .filter(|span| ids.contains(&span.span_id.as_str()))
                .collect();
            assert!(
                leaked.is_empty(),
                "{context}: unsampled spans exported: {leaked:#?}"
            );
            return;
        }
        let exported = self.harness.exported(receiver, &ids);
        assert_eq!(exported.len(), ids.len(), "{context}: {exported:#?}");
        let trace_state = self.exported_tracestate();
        for span in &exported {
            assert_eq!(span.trace_id, self.trace_id(), "{context}: {span:#?}");
            assert_eq!(span.trace_state, trace_state, "{context}");
            if span.span_id == server_span {
                assert_eq!(span.kind, "server", "{context}");
                assert_eq!(
                    span.parent_span_id,
                    remote_parent.unwrap_or_default(),
                    "{context}: the exported server span's parent"
                );
            } else {
                assert_eq!(span.kind, "client", "{context}");
                assert_eq!(span.parent_span_id, server_span, "{context}");
            }
        }
    }
}
