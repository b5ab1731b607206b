//! Where each signal is exported: the `OTEL_EXPORTER_OTLP_*` variables, generic and
//! per-signal (the per-signal one wins), and the PEM files they name.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::env;
use super::error::ConfigError;
use super::export::{OtlpTarget, Pem, TlsFiles};
use super::{Config, DEFAULT_OTLP_TIMEOUT, Headers, Protocol};

/// One OTLP signal's variables.
#[derive(Clone, Copy, Debug)]
pub(super) struct SignalVars {
    /// `/v1/traces`: appended to the generic endpoint for `http/protobuf`.
    path: &'static str,
    endpoint: &'static str,
    protocol: &'static str,
    headers: &'static str,
    timeout: &'static str,
    certificate: &'static str,
    client_certificate: &'static str,
    client_key: &'static str,
}

macro_rules! signal_vars {
    ($path:literal, $signal:literal) => {
        SignalVars {
            path: $path,
            endpoint: concat!("OTEL_EXPORTER_OTLP_", $signal, "_ENDPOINT"),
            protocol: concat!("OTEL_EXPORTER_OTLP_", $signal, "_PROTOCOL"),
            headers: concat!("OTEL_EXPORTER_OTLP_", $signal, "_HEADERS"),
            timeout: concat!("OTEL_EXPORTER_OTLP_", $signal, "_TIMEOUT"),
            certificate: concat!("OTEL_EXPORTER_OTLP_", $signal, "_CERTIFICATE"),
            client_certificate: concat!("OTEL_EXPORTER_OTLP_", $signal, "_CLIENT_CERTIFICATE"),
            client_key: concat!("OTEL_EXPORTER_OTLP_", $signal, "_CLIENT_KEY"),
        }
    };
}

pub(super) const TRACES: SignalVars = signal_vars!("/v1/traces", "TRACES");
pub(super) const METRICS: SignalVars = signal_vars!("/v1/metrics", "METRICS");
pub(super) const LOGS: SignalVars = signal_vars!("/v1/logs", "LOGS");

/// What `target` needs of the environment.
pub(super) trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
    fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names
            .iter()
            .find_map(|&name| self.get(name).map(|value| (name, value)))
    }
}

/// The signal's target, or `None` when no endpoint is set for it. Everything set is
/// validated, whether the signal ends up exported or not.
pub(super) fn target(
    config: &Config,
    signal_endpoint: Option<&String>,
    signal_method: &'static str,
    vars: SignalVars,
    env: &dyn Lookup,
) -> Result<Option<OtlpTarget>, ConfigError> {
    let protocol = match config.otlp_protocol {
        Some(p) => p,
        None => match env.first(&[vars.protocol, "OTEL_EXPORTER_OTLP_PROTOCOL"]) {
            Some((var, v)) => env::parse_protocol(var, &v)?,
            None => Protocol::default(),
        },
    };
    // (url, is it signal-specific?)
    let endpoint = if let Some(url) = signal_endpoint {
        let url = env::validate_endpoint(url)
            .map_err(|p| ConfigError::code(signal_method, Some(url.clone()), p))?;
        Some((url, true))
    } else if let Some(url) = &config.otlp_endpoint {
        let url = env::validate_endpoint(url)
            .map_err(|p| ConfigError::code("Config::otlp_endpoint", Some(url.clone()), p))?;
        Some((url, false))
    } else if let Some((var, v)) = env.first(&[vars.endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT"]) {
        let url = env::validate_endpoint(&v).map_err(|p| ConfigError::env(var, &v, p))?;
        Some((url, var == vars.endpoint))
    } else {
        None
    };
    let headers = headers(config, vars, env)?;
    let timeout = match config.otlp_timeout {
        Some(t) if t.is_zero() => {
            return Err(ConfigError::code(
                "Config::otlp_timeout",
                Some(format!("{t:?}")),
                "must be greater than 0",
            ));
        }
        Some(t) => t,
        None => match env.first(&[vars.timeout, "OTEL_EXPORTER_OTLP_TIMEOUT"]) {
            Some((var, v)) => env::parse_timeout_ms(var, &v)?,
            None => DEFAULT_OTLP_TIMEOUT,
        },
    };
    let tls = tls(config, vars, env)?;
    Ok(endpoint.map(|(url, signal_specific)| OtlpTarget {
        endpoint: match protocol {
            Protocol::HttpProtobuf if !signal_specific => {
                format!("{}{}", url.trim_end_matches('/'), vars.path)
            }
            _ => url,
        },
        protocol,
        headers,
        timeout,
        tls,
    }))
}

fn headers(config: &Config, vars: SignalVars, env: &dyn Lookup) -> Result<Headers, ConfigError> {
    match &config.otlp_headers {
        Some(h) => {
            for (i, (k, v)) in h.iter().enumerate() {
                env::validate_header(i + 1, k, v.expose())
                    .map_err(|p| ConfigError::code("Config::otlp_header", None, p))?;
            }
            Ok(Headers::from_pairs(
                h.iter().map(|(k, v)| (k.clone(), v.expose().clone())),
            ))
        }
        None => match env.first(&[vars.headers, "OTEL_EXPORTER_OTLP_HEADERS"]) {
            Some((var, v)) => {
                let pairs =
                    env::parse_key_values(&v).map_err(|p| ConfigError::env_secret(var, p))?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    env::validate_header(i + 1, k, v)
                        .map_err(|p| ConfigError::env_secret(var, p))?;
                }
                Ok(Headers::from_pairs(pairs))
            }
            None => Ok(Headers::default()),
        },
    }
}

/// The CA and client identity files: from code, else the signal's variables, else the
/// generic ones; each read and checked now.
fn tls(config: &Config, vars: SignalVars, env: &dyn Lookup) -> Result<TlsFiles, ConfigError> {
    let ca = match &config.otlp_certificate {
        Some(path) => Some(read_pem(
            path,
            Origin::Code("Config::otlp_certificate"),
            Kind::Certificates,
        )?),
        None => env
            .first(&[vars.certificate, "OTEL_EXPORTER_OTLP_CERTIFICATE"])
            .map(|(var, path)| read_pem(Path::new(&path), Origin::Env(var), Kind::Certificates))
            .transpose()?,
    };
    let client = match &config.otlp_client_identity {
        Some((certificate, key)) => Some((
            read_pem(
                certificate,
                Origin::Code("Config::otlp_client_identity"),
                Kind::Certificates,
            )?,
            read_pem(key, Origin::Code("Config::otlp_client_identity"), Kind::Key)?,
        )),
        None => {
            let certificate = env.first(&[
                vars.client_certificate,
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            ]);
            let key = env.first(&[vars.client_key, "OTEL_EXPORTER_OTLP_CLIENT_KEY"]);
            match (certificate, key) {
                (None, None) => None,
                (Some((var, path)), Some((key_var, key_path))) => Some((
                    read_pem(Path::new(&path), Origin::Env(var), Kind::Certificates)?,
                    read_pem(Path::new(&key_path), Origin::Env(key_var), Kind::Key)?,
                )),
                (Some((var, path)), None) => {
                    return Err(ConfigError::env(
                        var,
                        &path,
                        "a client certificate needs its key: set OTEL_EXPORTER_OTLP_CLIENT_KEY \
                         (or the signal's _CLIENT_KEY) too",
                    ));
                }
                (None, Some((var, path))) => {
                    return Err(ConfigError::env(
                        var,
                        &path,
                        "a client key needs its certificate: set \
                         OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE (or the signal's) too",
                    ));
                }
            }
        }
    };
    Ok(TlsFiles { ca, client })
}

#[derive(Clone, Copy)]
enum Origin {
    Env(&'static str),
    Code(&'static str),
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Certificates,
    Key,
}

/// Reads a PEM file and checks that it holds what it must: one or more certificates, or a
/// private key.
fn read_pem(path: &Path, origin: Origin, kind: Kind) -> Result<Pem, ConfigError> {
    let error = |problem: String| match origin {
        Origin::Env(var) => ConfigError::env(var, &path.display().to_string(), problem),
        Origin::Code(method) => {
            ConfigError::code(method, Some(path.display().to_string()), problem)
        }
    };
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read the file: {e}")))?;
    check_pem(&bytes, kind == Kind::Key).map_err(error)?;
    Ok(Pem {
        path: PathBuf::from(path),
        bytes,
    })
}

/// The problem with a PEM file's contents, if any. The parsing is the rustls one the
/// exporter uses.
#[cfg(feature = "otlp")]
fn check_pem(bytes: &[u8], key: bool) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    if key {
        PrivateKeyDer::from_pem_slice(bytes)
            .map(drop)
            .map_err(|e| format!("not a PEM private key: {e}"))
    } else {
        let certificates: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(bytes).collect();
        match certificates {
            Ok(certificates) if !certificates.is_empty() => Ok(()),
            Ok(_) => Err("no PEM certificate in the file".into()),
            Err(e) => Err(format!("not PEM certificates: {e}")),
        }
    }
}

/// Without the `otlp` feature nothing uses the files; they are only checked to exist.
#[cfg(not(feature = "otlp"))]
fn check_pem(_: &[u8], _: bool) -> Result<(), String> {
    Ok(())
}

/// The generic and per-signal `..._TIMEOUT`-like variables in milliseconds.
pub(super) fn millis(
    env: &dyn Lookup,
    var: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match env.get(var) {
        Some(raw) => env::parse_timeout_ms(var, &raw),
        None => Ok(default),
    }
}
