//! [`Config`] → [`Settings`]: for every setting, the value from code, else from the
//! environment, else the default; one function per section.

use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;

use super::env;
use super::error::{ConfigError, Origin};
use super::targets::{self, Lookup};
use super::{
    BatchSettings, Config, DEFAULT_LOG_FILTER, DEFAULT_METRICS_FILTER, DEFAULT_TRACES_FILTER,
    LogFormat, LogsExport, MetricsAddr, MetricsExport, MetricsExporters, ResourceSettings, Sampler,
    Settings, SpanLimits, SpanLines, Temporality, TraceExport,
};
use crate::metrics::{BuildInfo, DEFAULT_BUCKETS, DEFAULT_CARDINALITY_LIMIT, validate_buckets};

/// The environment, as `resolve` reads it.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Lookup for Env<'_> {
    /// The variable's value; an empty (or all-blank) variable counts as unset, as the
    /// OpenTelemetry specification has it.
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }
}

impl Env<'_> {
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
    let resource = resource(&config, &env, default_service_name)?;
    let build_info = build_info(&config, &resource);
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
    let traces = traces(&config, &env, &resource, limits)?;
    let exporters = metrics_exporters(&config, &env)?;
    let metrics_export = metrics_export(&config, &env, exporters, &resource)?;
    let logs_export = logs_export(&config, &env, &resource)?;
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
        resource,
        sampler,
        limits,
        traces,
        serve_metrics: exporters.prometheus,
        metrics_export,
        logs_export,
        build_info,
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
) -> Result<ResourceSettings, ConfigError> {
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
    // The build's version, unless the environment says otherwise.
    if let Some(info) = &config.build_info
        && !info.version().is_empty()
        && !attributes.iter().any(|(k, _)| k == SERVICE_VERSION)
    {
        attributes.push((SERVICE_VERSION.to_owned(), info.version().to_owned()));
    }
    Ok(ResourceSettings {
        service_name,
        attributes,
    })
}

/// The resource attribute OpenTelemetry names the service's version with.
const SERVICE_VERSION: &str = "service.version";

/// `build_info`'s labels: the build's, else the resource's version.
fn build_info(config: &Config, resource: &ResourceSettings) -> BuildInfo {
    match &config.build_info {
        Some(info) => info.clone(),
        None => resource
            .attributes
            .iter()
            .rev()
            .find(|(k, _)| k == SERVICE_VERSION)
            .map(|(_, version)| BuildInfo::new(version.clone(), None::<&str>))
            .unwrap_or_default(),
    }
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

/// The four variables of one batch processor.
struct BatchVars {
    max_queue_size: &'static str,
    max_export_batch_size: &'static str,
    schedule_delay: &'static str,
    export_timeout: &'static str,
}

/// The batch span processor's variables.
const SPAN_BATCH: BatchVars = BatchVars {
    max_queue_size: "OTEL_BSP_MAX_QUEUE_SIZE",
    max_export_batch_size: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    schedule_delay: "OTEL_BSP_SCHEDULE_DELAY",
    export_timeout: "OTEL_BSP_EXPORT_TIMEOUT",
};

/// The batch log record processor's variables.
const LOG_BATCH: BatchVars = BatchVars {
    max_queue_size: "OTEL_BLRP_MAX_QUEUE_SIZE",
    max_export_batch_size: "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    schedule_delay: "OTEL_BLRP_SCHEDULE_DELAY",
    export_timeout: "OTEL_BLRP_EXPORT_TIMEOUT",
};

/// One batch processor's settings: each variable, else its default.
fn batch(
    env: &Env<'_>,
    vars: &BatchVars,
    defaults: BatchSettings,
) -> Result<BatchSettings, ConfigError> {
    let count = |var: &'static str, default: usize| match env.get(var) {
        Some(raw) => env::parse_positive(var, &raw),
        None => Ok(default),
    };
    let max_queue_size = count(vars.max_queue_size, defaults.max_queue_size)?;
    let max_export_batch_size = count(vars.max_export_batch_size, defaults.max_export_batch_size)?;
    Ok(BatchSettings {
        max_queue_size,
        // The specification: a batch larger than the queue is the queue.
        max_export_batch_size: max_export_batch_size.min(max_queue_size),
        schedule_delay: targets::millis(env, vars.schedule_delay, defaults.schedule_delay)?,
        export_timeout: targets::millis(env, vars.export_timeout, defaults.export_timeout)?,
    })
}

/// Whether export is on at all: `OTEL_SDK_DISABLED` turns every signal off.
fn sdk_enabled(env: &Env<'_>) -> Result<bool, ConfigError> {
    Ok(!env
        .get("OTEL_SDK_DISABLED")
        .map(|v| env::parse_bool("OTEL_SDK_DISABLED", &v))
        .transpose()?
        .unwrap_or(false))
}

/// Trace export: everything is validated, even when export ends up off.
fn traces(
    config: &Config,
    env: &Env<'_>,
    resource: &ResourceSettings,
    limits: SpanLimits,
) -> Result<Option<TraceExport>, ConfigError> {
    let enabled = match config.trace_export {
        Some(enabled) => enabled,
        None => {
            let exporter = env
                .get("OTEL_TRACES_EXPORTER")
                .map(|v| env::parse_traces_exporter("OTEL_TRACES_EXPORTER", &v))
                .transpose()?
                .unwrap_or(true);
            sdk_enabled(env)? && exporter
        }
    };
    let target = targets::target(
        config,
        config.otlp_traces_endpoint.as_ref(),
        "Config::otlp_traces_endpoint",
        targets::TRACES,
        env,
    )?;
    let span_event_level = env.setting(
        config.span_event_level,
        "Config::span_event_level",
        any,
        "OBSERVE_SPAN_EVENTS",
        env::parse_level,
        || LevelFilter::WARN,
    )?;
    let batch = batch(env, &SPAN_BATCH, BatchSettings::default())?;
    Ok(target.filter(|_| enabled).map(|target| TraceExport {
        target,
        resource: resource.clone(),
        batch,
        limits,
        span_event_level,
    }))
}

/// Where metrics go: `/metrics` (`prometheus`, the default), an OTLP push (`otlp`), both,
/// or neither (`none`).
fn metrics_exporters(config: &Config, env: &Env<'_>) -> Result<MetricsExporters, ConfigError> {
    env.setting(
        config.metrics_exporters,
        "Config::metrics_exporters",
        any,
        "OTEL_METRICS_EXPORTER",
        env::parse_metrics_exporters,
        MetricsExporters::default,
    )
}

/// The OTLP metrics push, when `OTEL_METRICS_EXPORTER` includes `otlp` and an endpoint is
/// set.
fn metrics_export(
    config: &Config,
    env: &Env<'_>,
    exporters: MetricsExporters,
    resource: &ResourceSettings,
) -> Result<Option<MetricsExport>, ConfigError> {
    let target = targets::target(
        config,
        config.otlp_metrics_endpoint.as_ref(),
        "Config::otlp_metrics_endpoint",
        targets::METRICS,
        env,
    )?;
    let interval = match config.metric_export_interval {
        Some(interval) if interval.is_zero() => {
            return Err(ConfigError::code(
                "Config::metric_export_interval",
                Some(format!("{interval:?}")),
                "must be greater than 0",
            ));
        }
        Some(interval) => interval,
        None => targets::millis(env, "OTEL_METRIC_EXPORT_INTERVAL", Duration::from_secs(60))?,
    };
    let temporality = env.setting(
        config.metrics_temporality,
        "Config::metrics_temporality",
        any,
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        env::parse_temporality,
        Temporality::default,
    )?;
    if exporters.otlp && target.is_none() {
        return Err(match config.metrics_exporters {
            Some(_) => ConfigError::code(
                "Config::metrics_exporters",
                None,
                "an OTLP metrics push needs an endpoint: set OTEL_EXPORTER_OTLP_ENDPOINT \
                 (or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, or Config::otlp_endpoint)",
            ),
            None => ConfigError::env(
                "OTEL_METRICS_EXPORTER",
                &env.get("OTEL_METRICS_EXPORTER").unwrap_or_default(),
                "otlp needs an endpoint: set OTEL_EXPORTER_OTLP_ENDPOINT (or \
                 OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)",
            ),
        });
    }
    Ok(target
        .filter(|_| exporters.otlp && sdk_enabled(env).unwrap_or(true))
        .map(|target| MetricsExport {
            target,
            resource: resource.clone(),
            interval,
            temporality,
        }))
}

/// The OTLP logs export, when `OTEL_LOGS_EXPORTER=otlp` and an endpoint is set.
fn logs_export(
    config: &Config,
    env: &Env<'_>,
    resource: &ResourceSettings,
) -> Result<Option<LogsExport>, ConfigError> {
    let enabled = env.setting(
        config.logs_export,
        "Config::logs_export",
        any,
        "OTEL_LOGS_EXPORTER",
        env::parse_logs_exporter,
        || false,
    )?;
    let target = targets::target(
        config,
        config.otlp_logs_endpoint.as_ref(),
        "Config::otlp_logs_endpoint",
        targets::LOGS,
        env,
    )?;
    let batch = batch(
        env,
        &LOG_BATCH,
        BatchSettings {
            max_queue_size: 2_048,
            max_export_batch_size: 512,
            schedule_delay: Duration::from_millis(1_000),
            export_timeout: Duration::from_millis(30_000),
        },
    )?;
    if enabled && target.is_none() {
        let problem = "otlp needs an endpoint: set OTEL_EXPORTER_OTLP_ENDPOINT (or \
                       OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, or Config::otlp_endpoint)";
        return Err(match config.logs_export {
            Some(_) => ConfigError::code("Config::logs_export", None, problem),
            None => ConfigError::env(
                "OTEL_LOGS_EXPORTER",
                &env.get("OTEL_LOGS_EXPORTER").unwrap_or_default(),
                problem,
            ),
        });
    }
    Ok(target
        .filter(|_| enabled && sdk_enabled(env).unwrap_or(true))
        .map(|target| LogsExport {
            target,
            resource: resource.clone(),
            batch,
        }))
}
