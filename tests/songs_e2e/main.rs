//! The songs example end to end, run as the binary users run: against a Prometheus server
//! (Debian's `prometheus` package) scraping it over loopback, `promtool` and an OTLP receiver
//! built on `opentelemetry-proto`.
//!
//! Run by `scripts/e2e.sh`, which installs Prometheus and builds the example first:
//! `cargo build --example songs && cargo test --test songs_e2e -- --ignored --nocapture`.
//!
//! | file | what |
//! | --- | --- |
//! | `prometheus.rs` | traffic, scraped by Prometheus, linted by promtool, traces over OTLP |
//! | `support.rs` | the child process, a minimal HTTP client, the log lines |

mod prometheus;
mod support;
