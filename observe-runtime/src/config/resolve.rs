//! [`Config`] → [`Settings`]: for every setting, the value from code, else from the
//! environment, else the default; one function per section.

use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;

use super::env;
use super::error::{ConfigError, Origin};
use super::{
    BatchSettings, Config, DEFAULT_LOG_FILTER, DEFAULT_METRICS_FILTER, DEFAULT_OTLP_TIMEOUT,
    DEFAULT_TRACES_FILTER, Headers, LogFormat, MetricsAddr, Protocol, Sampler, Settings,
    SpanLimits, SpanLines, TraceExport,
};
use crate::metrics::{DEFAULT_BUCKETS, DEFAULT_CARDINALITY_LIMIT, validate_buckets};

/// The environment, as `resolve` reads it.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    /// The variable's value; an empty (or all-blank) variable counts as unset, as the
    /// OpenTelemetry specification has it.
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The first of `names` that is set, with its name (signal-specific before generic).
    fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names
            .iter()
            .find_map(|&name| self.get(name).map(|value| (name, value)))
    }

    /// The one pattern of every setting: the value from code (checked by `check`), else
    /// the variable's (parsed by `parse`), else `default`.
    fn setting<T>(
        &self,
        code: Option<T>,
        method: &'static str,
        check: impl FnOnce(&T) -> Result<(), String>,
        var: &'static str,
        parse: impl FnOnce(&'static str, &str) -> Result<T, ConfigError>,
        default: impl FnOnce() -> T,
    ) -> Result<T, ConfigError>
    where
        T: std::fmt::Debug,
    {
        match code {
            Some(value) => match check(&value) {
                Ok(()) => Ok(value),
                Err(problem) => Err(ConfigError::code(
                    method,
                    Some(format!("{value:?}")),
                    problem,
                )),
            },
            None => match self.get(var) {
                Some(raw) => parse(var, &raw),
                None => Ok(default()),
            },
        }
    }
}

fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

pub(super) fn settings(
    config: Config,
    lookup: &dyn Fn(&str) -> Option<String>,
    default_service_name: &str,
) -> Result<Settings, ConfigError> {
    let env = Env { lookup };
    let (log_filter, metrics_filter, traces_filter) = filters(&config, &env)?;
    let log_format = env.setting(
        config.log_format,
        "Config::log_format",
        any,
        "OBSERVE_LOG_FORMAT",
        env::parse_log_format,
        || Some(LogFormat::Logfmt),
    )?;
    let span_lines = env.setting(
        config.span_lines,
        "Config::span_lines",
        any,
        "OBSERVE_SPAN_LINES",
        env::parse_span_lines,
        SpanLines::default,
    )?;
    let log_lossy = env.setting(
        config.log_lossy,
        "Config::log_lossy",
        any,
        "OBSERVE_LOG_LOSSY",
        env::parse_bool,
        || false,
    )?;
    let (metrics_addr, histogram_buckets, cardinality_limit) = metrics(&config, &env)?;
    let (service_name, resource_attributes) = resource(&config, &env, default_service_name)?;
    let sampler = env.setting(
        config.sampler,
        "Config::sampler",
        |s: &Sampler| match s.ratio() {
            Some(r) if !(0.0..=1.0).contains(&r) => Err("the ratio must be between 0 and 1".into()),
            _ => Ok(()),
        },
        "OTEL_TRACES_SAMPLER",
        |var, raw| {
            env::parse_sampler(
                var,
                raw,
                "OTEL_TRACES_SAMPLER_ARG",
                env.get("OTEL_TRACES_SAMPLER_ARG").as_deref(),
            )
        },
        Sampler::default,
    )?;
    let limits = limits(&env)?;
    let traces = traces(&config, &env, &service_name, &resource_attributes, limits)?;
    Ok(Settings {
        log_filter,
        metrics_filter,
        traces_filter,
        log_format,
        span_lines,
        log_lossy,
        metrics_addr,
        histogram_buckets,
        cardinality_limit,
        service_name,
        resource_attributes,
        sampler,
        limits,
        traces,
    })
}

/// The three signals' filters: checked, and normalised (blanks around commas trimmed).
fn filters(config: &Config, env: &Env<'_>) -> Result<(String, String, String), ConfigError> {
    let filter = |code: &Option<String>, method, var, default: &str| {
        env.setting(
            code.clone(),
            method,
            |f: &String| env::validate_filter(f),
            var,
            |var, raw| {
                env::validate_filter(raw)
                    .map(|()| raw.to_owned())
                    .map_err(|p| ConfigError::env(var, raw, p))
            },
            || default.to_owned(),
        )
        .map(|f| crate::filter::normalise(&f))
    };
    Ok((
        filter(
            &config.log_filter,
            "Config::log_filter",
            "RUST_LOG",
            DEFAULT_LOG_FILTER,
        )?,
        filter(
            &config.metrics_filter,
            "Config::metrics_filter",
            "OBSERVE_METRICS_FILTER",
            DEFAULT_METRICS_FILTER,
        )?,
        filter(
            &config.traces_filter,
            "Config::traces_filter",
            "OBSERVE_TRACES_FILTER",
            DEFAULT_TRACES_FILTER,
        )?,
    ))
}

type MetricsSection = (Option<MetricsAddr>, Vec<f64>, usize);

fn metrics(config: &Config, env: &Env<'_>) -> Result<MetricsSection, ConfigError> {
    let metrics_addr = match &config.metrics_addr {
        Some(addr) => Some(
            env::validate_host_port(addr)
                .map(|()| MetricsAddr {
                    addr: addr.trim().to_owned(),
                    origin: Origin::Code("Config::metrics_addr"),
                })
                .map_err(|p| ConfigError::code("Config::metrics_addr", Some(addr.clone()), p))?,
        ),
        None => match env.get("OBSERVE_METRICS_ADDR") {
            Some(raw) => Some(
                env::validate_host_port(&raw)
                    .map(|()| MetricsAddr {
                        addr: raw.trim().to_owned(),
                        origin: Origin::Env("OBSERVE_METRICS_ADDR"),
                    })
                    .map_err(|p| ConfigError::env("OBSERVE_METRICS_ADDR", &raw, p))?,
            ),
            None => None,
        },
    };
    let histogram_buckets = match &config.histogram_buckets {
        Some(buckets) => {
            validate_buckets(buckets).map_err(|e| {
                ConfigError::code(
                    "Config::histogram_buckets",
                    Some(format!("{buckets:?}")),
                    e.to_string(),
                )
            })?;
            buckets.clone()
        }
        None => DEFAULT_BUCKETS.to_vec(),
    };
    let cardinality_limit = match config.cardinality_limit {
        Some(0) => {
            return Err(ConfigError::code(
                "Config::cardinality_limit",
                Some("0".into()),
                "must be greater than 0",
            ));
        }
        Some(n) => n,
        None => DEFAULT_CARDINALITY_LIMIT,
    };
    Ok((metrics_addr, histogram_buckets, cardinality_limit))
}

fn resource(
    config: &Config,
    env: &Env<'_>,
    default_service_name: &str,
) -> Result<(String, Vec<(String, String)>), ConfigError> {
    let mut attributes = match &config.resource_attributes {
        Some(attrs) => {
            if let Some(i) = attrs.iter().position(|(k, _)| k.is_empty()) {
                return Err(ConfigError::code(
                    "Config::resource_attribute",
                    None,
                    format!("attribute {} has an empty key", i + 1),
                ));
            }
            attrs.clone()
        }
        None => match env.get("OTEL_RESOURCE_ATTRIBUTES") {
            Some(v) => env::parse_key_values(&v)
                .map_err(|p| ConfigError::env("OTEL_RESOURCE_ATTRIBUTES", &v, p))?,
            None => Vec::new(),
        },
    };
    // The last `service.name` attribute wins, as later keys overwrite earlier ones.
    let from_attributes = attributes
        .iter()
        .rev()
        .find(|(k, _)| k == "service.name")
        .map(|(_, v)| v.clone());
    attributes.retain(|(k, _)| k != "service.name");
    let service_name = match &config.service_name {
        Some(n) if n.trim().is_empty() => {
            return Err(ConfigError::code(
                "Config::service_name",
                Some(n.clone()),
                "must not be empty",
            ));
        }
        Some(n) => n.clone(),
        None => env
            .get("OTEL_SERVICE_NAME")
            .map(|v| v.trim().to_owned())
            .or(from_attributes)
            .unwrap_or_else(|| default_service_name.to_owned()),
    };
    Ok((service_name, attributes))
}

fn limits(env: &Env<'_>) -> Result<SpanLimits, ConfigError> {
    let defaults = SpanLimits::default();
    let count = |var: &'static str, default: usize| match env.get(var) {
        Some(raw) => env::parse_count(var, &raw),
        None => Ok(default),
    };
    Ok(SpanLimits {
        attributes: count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", defaults.attributes)?,
        events: count("OTEL_SPAN_EVENT_COUNT_LIMIT", defaults.events)?,
        links: count("OTEL_SPAN_LINK_COUNT_LIMIT", defaults.links)?,
        event_attributes: count(
            "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
            defaults.event_attributes,
        )?,
    })
}

fn batch(env: &Env<'_>) -> Result<BatchSettings, ConfigError> {
    let defaults = BatchSettings::default();
    let count = |var: &'static str, default: usize| match env.get(var) {
        Some(raw) => env::parse_positive(var, &raw),
        None => Ok(default),
    };
    let millis = |var: &'static str, default: Duration| match env.get(var) {
        Some(raw) => env::parse_timeout_ms(var, &raw),
        None => Ok(default),
    };
    let max_queue_size = count("OTEL_BSP_MAX_QUEUE_SIZE", defaults.max_queue_size)?;
    let max_export_batch_size = count(
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        defaults.max_export_batch_size,
    )?;
    Ok(BatchSettings {
        max_queue_size,
        // The specification: a batch larger than the queue is the queue.
        max_export_batch_size: max_export_batch_size.min(max_queue_size),
        schedule_delay: millis("OTEL_BSP_SCHEDULE_DELAY", defaults.schedule_delay)?,
        export_timeout: millis("OTEL_BSP_EXPORT_TIMEOUT", defaults.export_timeout)?,
    })
}

/// Trace export: everything is validated, even when export ends up off.
fn traces(
    config: &Config,
    env: &Env<'_>,
    service_name: &str,
    resource_attributes: &[(String, String)],
    limits: SpanLimits,
) -> Result<Option<TraceExport>, ConfigError> {
    let enabled = match config.trace_export {
        Some(enabled) => enabled,
        None => {
            let disabled = env
                .get("OTEL_SDK_DISABLED")
                .map(|v| env::parse_bool("OTEL_SDK_DISABLED", &v))
                .transpose()?
                .unwrap_or(false);
            let exporter = env
                .get("OTEL_TRACES_EXPORTER")
                .map(|v| env::parse_traces_exporter("OTEL_TRACES_EXPORTER", &v))
                .transpose()?
                .unwrap_or(true);
            !disabled && exporter
        }
    };
    let protocol = match config.otlp_protocol {
        Some(p) => p,
        None => match env.first(&[
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]) {
            Some((var, v)) => env::parse_protocol(var, &v)?,
            None => Protocol::default(),
        },
    };
    // (url, is it signal-specific?)
    let endpoint = if let Some(url) = &config.otlp_traces_endpoint {
        let url = env::validate_endpoint(url)
            .map_err(|p| ConfigError::code("Config::otlp_traces_endpoint", Some(url.clone()), p))?;
        Some((url, true))
    } else if let Some(url) = &config.otlp_endpoint {
        let url = env::validate_endpoint(url)
            .map_err(|p| ConfigError::code("Config::otlp_endpoint", Some(url.clone()), p))?;
        Some((url, false))
    } else if let Some((var, v)) = env.first(&[
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]) {
        let url = env::validate_endpoint(&v).map_err(|p| ConfigError::env(var, &v, p))?;
        Some((url, var == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    } else {
        None
    };
    let headers = match &config.otlp_headers {
        Some(h) => {
            for (i, (k, v)) in h.iter().enumerate() {
                env::validate_header(i + 1, k, v.expose())
                    .map_err(|p| ConfigError::code("Config::otlp_header", None, p))?;
            }
            Headers::from_pairs(h.iter().map(|(k, v)| (k.clone(), v.expose().clone())))
        }
        None => match env.first(&[
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        ]) {
            Some((var, v)) => {
                let pairs =
                    env::parse_key_values(&v).map_err(|p| ConfigError::env_secret(var, p))?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    env::validate_header(i + 1, k, v)
                        .map_err(|p| ConfigError::env_secret(var, p))?;
                }
                Headers::from_pairs(pairs)
            }
            None => Headers::default(),
        },
    };
    let timeout = match config.otlp_timeout {
        Some(t) if t.is_zero() => {
            return Err(ConfigError::code(
                "Config::otlp_timeout",
                Some(format!("{t:?}")),
                "must be greater than 0",
            ));
        }
        Some(t) => t,
        None => match env.first(&[
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ]) {
            Some((var, v)) => env::parse_timeout_ms(var, &v)?,
            None => DEFAULT_OTLP_TIMEOUT,
        },
    };
    let span_event_level = env.setting(
        config.span_event_level,
        "Config::span_event_level",
        any,
        "OBSERVE_SPAN_EVENTS",
        env::parse_level,
        || LevelFilter::WARN,
    )?;
    let batch = batch(env)?;

    Ok(match endpoint {
        Some((url, signal_specific)) if enabled => {
            let endpoint = match protocol {
                Protocol::HttpProtobuf if !signal_specific => {
                    format!("{}/v1/traces", url.trim_end_matches('/'))
                }
                _ => url,
            };
            Some(TraceExport {
                endpoint,
                protocol,
                headers,
                timeout,
                service_name: service_name.to_owned(),
                resource_attributes: resource_attributes.to_vec(),
                batch,
                limits,
                span_event_level,
            })
        }
        _ => None,
    })
}
