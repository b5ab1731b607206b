//! The OTLP receiver against real clients: tonic's generated OTLP clients and hyper-util
//! over hyper-rustls, for each transport in plaintext, TLS and mutual TLS.

mod clients;
mod modes;
mod payloads;
mod signals;
mod tls;
