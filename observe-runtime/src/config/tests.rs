use std::collections::HashMap;
use std::time::Duration;

use super::*;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn resolve(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Config::new().resolve_with(env_of(pairs), "default-svc")
}

fn err(pairs: &[(&str, &str)]) -> ConfigError {
    resolve(pairs).expect_err("expected a ConfigError")
}

#[test]
fn defaults() {
    let s = resolve(&[]).unwrap();
    assert_eq!(s.log_filter, "info");
    assert_eq!(s.log_format, Some(LogFormat::Logfmt));
    assert!(!s.log_lossy);
    assert_eq!(s.metrics_addr, None);
    assert_eq!(s.histogram_buckets, DEFAULT_BUCKETS);
    assert_eq!(s.cardinality_limit, 1000);
    assert_eq!(s.resource.service_name, "default-svc");
    assert!(s.resource.attributes.is_empty());
    assert_eq!(s.sampler, Sampler::ParentBasedAlwaysOn);
    assert!(s.traces.is_none());

    let s = resolve(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap();
    let t = s.traces.unwrap();
    assert_eq!(t.target.protocol, Protocol::HttpProtobuf);
    assert_eq!(t.target.endpoint, "http://c:4318/v1/traces");
    assert_eq!(t.target.timeout, Duration::from_secs(10));
    assert!(t.target.headers.is_empty());
    assert_eq!(t.resource.service_name, "default-svc");
}

#[test]
fn env_values_are_read() {
    let s = resolve(&[
        ("RUST_LOG", "warn,my_crate=debug"),
        ("OBSERVE_LOG_FORMAT", "JSON"),
        ("OBSERVE_LOG_LOSSY", "True"),
        ("OBSERVE_METRICS_ADDR", "127.0.0.1:9464"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attrs,deployment.environment.name=prod%20eu",
        ),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-generic=1"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "authorization=Bearer%20abc,x-b=2",
        ),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1500"),
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
    ])
    .unwrap();
    assert_eq!(s.log_filter, "warn,my_crate=debug");
    assert_eq!(s.log_format, Some(LogFormat::Json));
    assert!(s.log_lossy);
    assert_eq!(
        s.metrics_addr,
        Some(MetricsAddr {
            addr: "127.0.0.1:9464".into(),
            origin: Origin::Env("OBSERVE_METRICS_ADDR")
        })
    );
    assert_eq!(s.resource.service_name, "from-attrs");
    assert_eq!(
        s.resource.attributes,
        [(
            "deployment.environment.name".to_string(),
            "prod eu".to_string()
        )]
    );
    assert_eq!(s.sampler, Sampler::ParentBasedTraceIdRatio(0.25));
    let t = s.traces.unwrap();
    assert_eq!(t.target.protocol, Protocol::Grpc);
    assert_eq!(t.target.endpoint, "http://traces:4317");
    assert_eq!(
        t.target.headers.iter().collect::<Vec<_>>(),
        [("authorization", "Bearer abc"), ("x-b", "2")]
    );
    assert_eq!(t.target.timeout, Duration::from_millis(1500));
}

#[test]
fn service_name_precedence() {
    let attrs = ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attrs");
    let name = ("OTEL_SERVICE_NAME", "named");
    assert_eq!(resolve(&[attrs]).unwrap().resource.service_name, "attrs");
    assert_eq!(
        resolve(&[attrs, name]).unwrap().resource.service_name,
        "named"
    );
    let s = Config::new()
        .service_name("code")
        .resolve_with(env_of(&[attrs, name]), "d")
        .unwrap();
    assert_eq!(s.resource.service_name, "code");
}

#[test]
fn http_endpoints() {
    // The generic endpoint gets /v1/traces appended (one slash), the signal one is as is.
    let t = |pairs: &[(&str, &str)]| resolve(pairs).unwrap().traces.unwrap().target.endpoint;
    assert_eq!(
        t(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/otlp/")]),
        "http://c:4318/otlp/v1/traces"
    );
    assert_eq!(
        t(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c/x")]),
        "https://c/x"
    );
    assert_eq!(
        t(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        ]),
        "http://c:4317"
    );
}

#[test]
fn export_switches() {
    let ep = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318");
    assert!(
        resolve(&[ep, ("OTEL_SDK_DISABLED", "TRUE")])
            .unwrap()
            .traces
            .is_none()
    );
    assert!(
        resolve(&[ep, ("OTEL_SDK_DISABLED", "false")])
            .unwrap()
            .traces
            .is_some()
    );
    assert!(
        resolve(&[ep, ("OTEL_TRACES_EXPORTER", "none")])
            .unwrap()
            .traces
            .is_none()
    );
    assert!(
        resolve(&[ep, ("OTEL_TRACES_EXPORTER", "otlp")])
            .unwrap()
            .traces
            .is_some()
    );
    // Code beats env.
    let s = Config::new()
        .trace_export(true)
        .resolve_with(env_of(&[ep, ("OTEL_SDK_DISABLED", "true")]), "d")
        .unwrap();
    assert!(s.traces.is_some());
}

#[test]
fn empty_variables_are_unset() {
    let s = resolve(&[("RUST_LOG", ""), ("OTEL_EXPORTER_OTLP_ENDPOINT", "  ")]).unwrap();
    assert_eq!(s.log_filter, "info");
    assert!(s.traces.is_none());
}

#[test]
fn code_beats_env() {
    let env = env_of(&[
        ("RUST_LOG", "warn"),
        ("OBSERVE_LOG_FORMAT", "json"),
        ("OBSERVE_LOG_LOSSY", "true"),
        ("OBSERVE_METRICS_ADDR", "127.0.0.1:1"),
        ("OTEL_SERVICE_NAME", "env-svc"),
        ("OTEL_RESOURCE_ATTRIBUTES", "a=env"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://env:4318/v1/traces",
        ),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-env=1"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "100"),
        ("OTEL_TRACES_SAMPLER", "always_off"),
    ]);
    let s = Config::new()
        .log_filter("debug")
        .log_off()
        .log_lossy(false)
        .metrics_addr("127.0.0.1:2")
        .service_name("code-svc")
        .resource_attribute("a", "code")
        .otlp_endpoint("http://code:4317")
        .otlp_protocol(Protocol::Grpc)
        .otlp_header("x-code", "2")
        .otlp_timeout(Duration::from_millis(200))
        .sampler(Sampler::AlwaysOn)
        .resolve_with(env, "d")
        .unwrap();
    assert_eq!(s.log_filter, "debug");
    assert_eq!(s.log_format, None);
    assert!(!s.log_lossy);
    assert_eq!(
        s.metrics_addr,
        Some(MetricsAddr {
            addr: "127.0.0.1:2".into(),
            origin: Origin::Code("Config::metrics_addr")
        })
    );
    assert_eq!(s.resource.service_name, "code-svc");
    assert_eq!(
        s.resource.attributes,
        [("a".to_string(), "code".to_string())]
    );
    assert_eq!(s.sampler, Sampler::AlwaysOn);
    let t = s.traces.unwrap();
    assert_eq!(t.target.endpoint, "http://code:4317");
    assert_eq!(t.target.protocol, Protocol::Grpc);
    assert_eq!(
        t.target.headers.iter().collect::<Vec<_>>(),
        [("x-code", "2")]
    );
    assert_eq!(t.target.timeout, Duration::from_millis(200));
}

/// Every variable with a bad value gives an error that names it.
#[test]
fn bad_env_values_name_their_variable() {
    let ep = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318");
    let cases: &[(&str, &str)] = &[
        ("RUST_LOG", "foo=notalevel"),
        ("OBSERVE_LOG_FORMAT", "xml"),
        ("OBSERVE_LOG_LOSSY", "yes"),
        ("OBSERVE_METRICS_ADDR", "localhost"),
        ("OTEL_RESOURCE_ATTRIBUTES", "novalue"),
        ("OTEL_RESOURCE_ATTRIBUTES", "k=%zz"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://c"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "justatoken"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "bad name=v"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0"),
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        ("OTEL_SDK_DISABLED", "1"),
        ("OTEL_TRACES_EXPORTER", "jaeger"),
    ];
    for &(var, value) in cases {
        let e = err(&[ep, (var, value)]);
        assert_eq!(e.variable(), var, "{var}={value}: {e}");
        assert!(e.to_string().starts_with(var), "{e}");
        assert_eq!(e.origin(), Origin::Env(var));
    }
    // An exporter asked for without an endpoint is the exporter variable's fault.
    for var in ["OTEL_LOGS_EXPORTER", "OTEL_METRICS_EXPORTER"] {
        let e = err(&[(var, "otlp")]);
        assert_eq!(e.origin(), Origin::Env(var), "{e}");
        assert!(
            e.to_string().starts_with(&format!(r#"{var}="otlp": "#)),
            "{e}"
        );
    }
    // The sampler argument is checked for the ratio samplers.
    for arg in ["2", "-0.1", "half"] {
        let e = err(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", arg),
        ]);
        assert_eq!(e.variable(), "OTEL_TRACES_SAMPLER_ARG", "{e}");
    }
}

#[test]
fn error_display() {
    let e = err(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml")]);
    assert_eq!(
        e.to_string(),
        r#"OTEL_EXPORTER_OTLP_PROTOCOL="http/xml": unknown protocol; expected "grpc" or "http/protobuf""#
    );
    let e = err(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]);
    assert!(e.to_string().contains("not built in"), "{e}");
    let _: &dyn std::error::Error = &e;
}

#[test]
fn header_errors_never_echo_the_value() {
    const SECRET: &str = "Sup3rS3cret";
    for raw in [
        SECRET.to_string(),
        format!("authorization=Bearer {SECRET}\u{7}"),
        format!("authorization=%zz{SECRET}"),
        format!("{SECRET} x=1"),
    ] {
        for var in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            let e = err(&[(var, &raw)]);
            assert_eq!(e.variable(), var);
            assert!(!e.to_string().contains(SECRET), "{e}");
            assert!(!format!("{e:?}").contains(SECRET), "{e:?}");
        }
    }
    let e = Config::new()
        .otlp_header("authorization", format!("Bearer {SECRET}\n"))
        .resolve_with(|_| None, "d")
        .unwrap_err();
    assert_eq!(e.variable(), "Config::otlp_header");
    assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET));
}

#[test]
fn secrets_are_redacted_in_debug() {
    const SECRET: &str = "Sup3rS3cret";
    let config = Config::new()
        .otlp_header("authorization", format!("Bearer {SECRET}"))
        .otlp_endpoint(format!("https://user:{SECRET}@collector.example"));
    assert!(!format!("{config:?}").contains(SECRET));
    assert!(format!("{config:?}").contains("[redacted]"));

    let settings = config.resolve_with(|_| None, "d").unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains("[redacted]"));
    assert!(!format!("{settings:#?}").contains(SECRET));

    let settings = resolve(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ("OTEL_EXPORTER_OTLP_HEADERS", &format!("api-key={SECRET}")),
    ])
    .unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains("api-key"));
}

#[test]
fn bad_code_values_name_their_method() {
    let e = |c: Config| c.resolve_with(|_| None, "d").unwrap_err().variable();
    assert_eq!(e(Config::new().log_filter("a=nope")), "Config::log_filter");
    assert_eq!(
        e(Config::new().histogram_buckets([])),
        "Config::histogram_buckets"
    );
    assert_eq!(
        e(Config::new().histogram_buckets([1.0, 1.0])),
        "Config::histogram_buckets"
    );
    assert_eq!(
        e(Config::new().histogram_buckets([2.0, 1.0])),
        "Config::histogram_buckets"
    );
    assert_eq!(
        e(Config::new().histogram_buckets([0.0, 1.0])),
        "Config::histogram_buckets"
    );
    assert_eq!(
        e(Config::new().histogram_buckets([1.0, f64::INFINITY])),
        "Config::histogram_buckets"
    );
    assert_eq!(
        e(Config::new().histogram_buckets([f64::NAN])),
        "Config::histogram_buckets"
    );
    assert_eq!(
        e(Config::new().cardinality_limit(0)),
        "Config::cardinality_limit"
    );
    assert_eq!(e(Config::new().service_name(" ")), "Config::service_name");
    assert_eq!(
        e(Config::new().resource_attribute("", "v")),
        "Config::resource_attribute"
    );
    assert_eq!(
        e(Config::new().otlp_endpoint("localhost:4317")),
        "Config::otlp_endpoint"
    );
    assert_eq!(
        e(Config::new().otlp_traces_endpoint("http://")),
        "Config::otlp_traces_endpoint"
    );
    assert_eq!(
        e(Config::new().otlp_header("a b", "v")),
        "Config::otlp_header"
    );
    assert_eq!(
        e(Config::new().otlp_timeout(Duration::ZERO)),
        "Config::otlp_timeout"
    );
    assert_eq!(
        e(Config::new().sampler(Sampler::TraceIdRatio(1.5))),
        "Config::sampler"
    );
    assert_eq!(
        e(Config::new().sampler(Sampler::ParentBasedTraceIdRatio(-1.0))),
        "Config::sampler"
    );
}
