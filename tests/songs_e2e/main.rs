//! The songs example end to end, run as the binary users run: against a Prometheus server
//! (Debian's `prometheus` package) scraping it over loopback, `promtool` and an OTLP receiver
//! built on `opentelemetry-proto`; its command line, its `--demo`, and its shutdown.
//!
//! Run by `scripts/e2e.sh`, which installs Prometheus and builds the example first:
//! `cargo build --example songs && cargo test --test songs_e2e -- --ignored --nocapture`.
//!
//! | file | what |
//! | --- | --- |
//! | `prometheus.rs` | traffic, scraped by Prometheus, linted by promtool and a strict OpenMetrics parser, traces over OTLP |
//! | `slo.rs` | the objective of `POST /songs`: Prometheus loads the SLO rules; within the objective no alert, beyond it `ObserveErrorBudgetBurn` pending |
//! | `prometheus_server.rs` | a Prometheus server for a scenario: its configuration, its API |
//! | `exemplars.rs` | the exemplars Prometheus stored (`/api/v1/query_exemplars`) |
//! | `signals.rs` | traces, metrics and logs pushed over OTLP (gRPC plaintext, HTTP TLS), against `/metrics` and stdout |
//! | `trace_context.rs` | export off: the vendor calls join the trace through `traceparent`, in the log lines alone |
//! | `cli.rs` | `--help`, `-h` and bad arguments |
//! | `demo.rs` | `--demo`: a free port, what its summary counts, its p50/p99 against the logs |
//! | `shutdown.rs` | SIGTERM with a half-sent request: the deadline, then the flush |
//! | `support.rs` | the child process, a minimal HTTP client, the log lines |
//! | `traffic.rs` | the requests the scenarios send, and what they must count |
//! | `exposition.rs` | `/metrics` read back: samples, exemplars, counters, histograms |

mod cli;
mod demo;
mod exemplars;
mod exposition;
mod prometheus;
mod prometheus_server;
mod shutdown;
mod signals;
mod slo;
mod support;
mod trace_context;
mod traffic;
