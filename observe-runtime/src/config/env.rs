//! Parsing of single environment values. Each function takes the variable's name (for the
//! error) and its raw value.

use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;

use super::error::ConfigError;
use super::{LogFormat, MetricsExporters, Protocol, Sampler, SpanLines, Temporality};

/// `true`/`false`, case-insensitive, surrounding whitespace ignored.
pub(crate) fn parse_bool(var: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim() {
        v if v.eq_ignore_ascii_case("true") => Ok(true),
        v if v.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ConfigError::env(var, raw, r#"expected "true" or "false""#)),
    }
}

/// `logfmt`, `json`, or `off` (`None`: no log lines).
pub(crate) fn parse_log_format(
    var: &'static str,
    raw: &str,
) -> Result<Option<LogFormat>, ConfigError> {
    match raw.trim() {
        v if v.eq_ignore_ascii_case("logfmt") => Ok(Some(LogFormat::Logfmt)),
        v if v.eq_ignore_ascii_case("json") => Ok(Some(LogFormat::Json)),
        v if v.eq_ignore_ascii_case("off") => Ok(None),
        _ => Err(ConfigError::env(
            var,
            raw,
            r#"unknown log format; expected "logfmt", "json" or "off""#,
        )),
    }
}

/// `open,close` (either order), `close` or `off`.
pub(crate) fn parse_span_lines(var: &'static str, raw: &str) -> Result<SpanLines, ConfigError> {
    let mut words: Vec<String> = raw
        .split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .collect();
    words.sort();
    match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["close", "open"] => Ok(SpanLines::OpenClose),
        ["close"] => Ok(SpanLines::Close),
        ["off"] => Ok(SpanLines::Off),
        _ => Err(ConfigError::env(
            var,
            raw,
            r#"expected "open,close", "close" or "off""#,
        )),
    }
}

/// A level: `error`, `warn`, `info`, `debug`, `trace` or `off`, case-insensitive.
pub(crate) fn parse_level(var: &'static str, raw: &str) -> Result<LevelFilter, ConfigError> {
    raw.trim().parse::<LevelFilter>().map_err(|_| {
        ConfigError::env(
            var,
            raw,
            r#"expected a level: "error", "warn", "info", "debug", "trace" or "off""#,
        )
    })
}

/// A whole number, 0 or more.
pub(crate) fn parse_count(var: &'static str, raw: &str) -> Result<usize, ConfigError> {
    raw.trim()
        .parse::<usize>()
        .map_err(|_| ConfigError::env(var, raw, "not a whole number"))
}

/// A whole number greater than 0.
pub(crate) fn parse_positive(var: &'static str, raw: &str) -> Result<usize, ConfigError> {
    match parse_count(var, raw)? {
        0 => Err(ConfigError::env(var, raw, "must be greater than 0")),
        n => Ok(n),
    }
}

/// `EnvFilter` directives; the problem, if any.
pub(crate) fn validate_filter(directives: &str) -> Result<(), String> {
    crate::filter::SignalFilter::new(directives)
        .map(drop)
        .map_err(|e| format!("invalid filter: {}", e.problem()))
}

/// `HOST:PORT`, the host an IP address (IPv6 in brackets) or a DNS name; resolved when the
/// listener is bound.
pub(crate) fn validate_host_port(raw: &str) -> Result<(), String> {
    let raw = raw.trim();
    if raw.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let problem =
        || "not HOST:PORT; expected e.g. 127.0.0.1:9464, [::]:9464 or localhost:9464".to_owned();
    let (host, port) = raw.rsplit_once(':').ok_or_else(problem)?;
    if port.parse::<u16>().is_err() {
        return Err(problem());
    }
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if host.is_empty() || host.len() > 253 || !host.chars().all(name_char) {
        return Err(problem());
    }
    Ok(())
}

/// Percent-decodes `s` (`%XX` escapes; `+` is left alone), requiring UTF-8 output.
pub(crate) fn percent_decode(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("bad percent-encoding (expected %XX with two hex digits)")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-decoded text is not UTF-8")
}

/// Parses `k=v,k2=v2` (W3C-baggage-like, as the OTel spec has it), percent-decoding keys and
/// values. `Err` carries the problem only (the caller decides whether to show the value).
pub(crate) fn parse_key_values(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (index, entry) in raw.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let n = index + 1;
        let (k, v) = entry
            .split_once('=')
            .ok_or_else(|| format!("entry {n} is not key=value"))?;
        let k = percent_decode(k.trim()).map_err(|e| format!("entry {n}: key: {e}"))?;
        let v = percent_decode(v.trim()).map_err(|e| format!("entry {n}: value: {e}"))?;
        if k.is_empty() {
            return Err(format!("entry {n} has an empty key"));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks a header name and value for use over both HTTP/1.1 and gRPC metadata: the name a
/// token (and not a `grpc-` reserved or binary `-bin` key), the value visible ASCII, spaces or
/// tabs. The error never contains the value.
pub(crate) fn validate_header(index: usize, name: &str, value: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(format!(
            "header {index}: the name is not a valid HTTP header name"
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("grpc-") || lower.ends_with("-bin") {
        return Err(format!(
            "header {index}: the name is reserved (grpc-*) or binary (*-bin)"
        ));
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return Err(format!(
            "header {index}: the value is not a valid header value (visible ASCII, space or tab only)"
        ));
    }
    Ok(())
}

/// An absolute `http://` or `https://` URL with a host, no whitespace or control characters.
pub(crate) fn validate_endpoint(raw: &str) -> Result<String, &'static str> {
    let url = raw.trim();
    let rest = strip_prefix_ci(url, "http://")
        .or_else(|| strip_prefix_ci(url, "https://"))
        .ok_or("not an absolute http:// or https:// URL")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("URL contains whitespace or control characters");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err("URL has no host");
    }
    if let Some(port) = host.rsplit_once(':').map(|(_, p)| p)
        && !host.ends_with(']')
        && !(port.is_empty() || port.parse::<u16>().is_ok())
    {
        return Err("URL has an invalid port");
    }
    Ok(url.to_owned())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get`, not indexing: the cut may fall inside a multi-byte character (`"𐀀🦀"`).
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

/// `https://user:pass@host/…` → `https://[redacted]@host/…`, for `Debug`.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let after = &url[scheme_end + 3..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    match after[..authority_end].rfind('@') {
        Some(at) => format!("{}[redacted]@{}", &url[..scheme_end + 3], &after[at + 1..]),
        None => url.to_owned(),
    }
}

pub(crate) fn parse_protocol(var: &'static str, raw: &str) -> Result<Protocol, ConfigError> {
    match raw.trim() {
        "grpc" => Ok(Protocol::Grpc),
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "http/json" => Err(ConfigError::env(
            var,
            raw,
            r#"http/json is not built in; use "grpc" or "http/protobuf""#,
        )),
        _ => Err(ConfigError::env(
            var,
            raw,
            r#"unknown protocol; expected "grpc" or "http/protobuf""#,
        )),
    }
}

pub(crate) fn parse_timeout_ms(var: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(0) => Err(ConfigError::env(
            var,
            raw,
            "timeout must be greater than 0 ms",
        )),
        Ok(ms) => Ok(Duration::from_millis(ms)),
        Err(_) => Err(ConfigError::env(
            var,
            raw,
            "not a whole number of milliseconds",
        )),
    }
}

/// `OTEL_TRACES_SAMPLER` (+ `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers; default 1.0).
pub(crate) fn parse_sampler(
    var: &'static str,
    raw: &str,
    arg_var: &'static str,
    arg: Option<&str>,
) -> Result<Sampler, ConfigError> {
    let ratio = || -> Result<f64, ConfigError> {
        match arg {
            None => Ok(1.0),
            Some(a) => match a.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(ConfigError::env(
                    arg_var,
                    a,
                    "expected a ratio between 0 and 1 (e.g. 0.25)",
                )),
            },
        }
    };
    match raw.trim() {
        "always_on" => Ok(Sampler::AlwaysOn),
        "always_off" => Ok(Sampler::AlwaysOff),
        "traceidratio" => Ok(Sampler::TraceIdRatio(ratio()?)),
        "parentbased_always_on" => Ok(Sampler::ParentBasedAlwaysOn),
        "parentbased_always_off" => Ok(Sampler::ParentBasedAlwaysOff),
        "parentbased_traceidratio" => Ok(Sampler::ParentBasedTraceIdRatio(ratio()?)),
        _ => Err(ConfigError::env(
            var,
            raw,
            "unknown sampler; expected always_on, always_off, traceidratio, \
             parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
        )),
    }
}

/// `OTEL_TRACES_EXPORTER`: `otlp` → `true`, `none` → `false`.
pub(crate) fn parse_traces_exporter(var: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim() {
        v if v.eq_ignore_ascii_case("otlp") => Ok(true),
        v if v.eq_ignore_ascii_case("none") => Ok(false),
        _ => Err(ConfigError::env(
            var,
            raw,
            r#"unsupported traces exporter; expected "otlp" or "none""#,
        )),
    }
}

/// `OTEL_METRICS_EXPORTER`: `prometheus`, `otlp`, both comma-separated, or `none`.
pub(crate) fn parse_metrics_exporters(
    var: &'static str,
    raw: &str,
) -> Result<MetricsExporters, ConfigError> {
    let mut exporters = MetricsExporters {
        prometheus: false,
        otlp: false,
    };
    for name in raw.split(',').map(str::trim) {
        match name {
            n if n.eq_ignore_ascii_case("prometheus") => exporters.prometheus = true,
            n if n.eq_ignore_ascii_case("otlp") => exporters.otlp = true,
            n if n.eq_ignore_ascii_case("none") => {}
            _ => {
                return Err(ConfigError::env(
                    var,
                    raw,
                    r#"unsupported metrics exporter; expected "prometheus", "otlp", both (comma-separated) or "none""#,
                ));
            }
        }
    }
    Ok(exporters)
}

/// `OTEL_LOGS_EXPORTER`: `otlp` → `true`, `none` → `false`.
pub(crate) fn parse_logs_exporter(var: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim() {
        v if v.eq_ignore_ascii_case("otlp") => Ok(true),
        v if v.eq_ignore_ascii_case("none") => Ok(false),
        _ => Err(ConfigError::env(
            var,
            raw,
            r#"unsupported logs exporter; expected "otlp" or "none""#,
        )),
    }
}

/// `cumulative`, `delta`, or `lowmemory` (delta for counters and histograms, which is all
/// observe pushes as sums).
pub(crate) fn parse_temporality(var: &'static str, raw: &str) -> Result<Temporality, ConfigError> {
    match raw.trim() {
        v if v.eq_ignore_ascii_case("cumulative") => Ok(Temporality::Cumulative),
        v if v.eq_ignore_ascii_case("delta") || v.eq_ignore_ascii_case("lowmemory") => {
            Ok(Temporality::Delta)
        }
        _ => Err(ConfigError::env(
            var,
            raw,
            r#"expected "cumulative", "delta" or "lowmemory""#,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Cc").unwrap(), "a b,c");
        assert_eq!(percent_decode("100%25").unwrap(), "100%");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%ff").is_err());
    }

    #[test]
    fn key_values() {
        assert_eq!(
            parse_key_values(" a=1 , b=x%3Dy,,").unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "x=y".into())]
        );
        assert!(parse_key_values("a").is_err());
        assert!(parse_key_values("=1").is_err());
    }

    #[test]
    fn endpoints() {
        assert!(validate_endpoint("http://127.0.0.1:4318").is_ok());
        assert!(validate_endpoint("HTTPS://collector.example/otlp").is_ok());
        assert!(validate_endpoint("http://[::1]:4317").is_ok());
        assert!(validate_endpoint("localhost:4317").is_err());
        assert!(validate_endpoint("ftp://x").is_err());
        assert!(validate_endpoint("http://").is_err());
        assert!(validate_endpoint("http://a b").is_err());
        assert!(validate_endpoint("http://host:99999").is_err());
    }

    #[test]
    fn userinfo_redaction() {
        assert_eq!(
            redact_userinfo("https://u:p@h:1/x?y"),
            "https://[redacted]@h:1/x?y"
        );
        assert_eq!(redact_userinfo("http://h/x@y"), "http://h/x@y");
    }

    #[test]
    fn headers() {
        assert!(validate_header(1, "authorization", "Bearer abc").is_ok());
        assert!(validate_header(1, "bad name", "x").is_err());
        assert!(validate_header(1, "x", "a\nb").is_err());
        assert!(validate_header(1, "grpc-timeout", "1").is_err());
    }
}
