//! The songs example end to end, run as the binary users run: against a Prometheus server
//! (Debian's `prometheus` package) scraping it over loopback, `promtool` and an OTLP receiver
//! built on `opentelemetry-proto`; its command line, its `--demo`, and its shutdown.
//!
//! Run by `scripts/e2e.sh`, which installs Prometheus and builds the example first:
//! `cargo build --example songs && cargo test --test songs_e2e -- --ignored --nocapture`.
//!
//! | file | what |
//! | --- | --- |
//! | `prometheus.rs` | traffic, scraped by Prometheus, linted by promtool, traces over OTLP |
//! | `cli.rs` | `--help`, `-h` and bad arguments |
//! | `demo.rs` | `--demo`: a free port, what its summary counts, its p50/p99 against the logs |
//! | `shutdown.rs` | SIGTERM with a half-sent request: the deadline, then the flush |
//! | `support.rs` | the child process, a minimal HTTP client, the log lines |

mod cli;
mod demo;
mod prometheus;
mod shutdown;
mod support;
