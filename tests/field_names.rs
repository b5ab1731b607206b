//! The field names an `#[observe]` expansion declares are the ones the runtime reads:
//! both come from `observe-fields`, and this test pins the expansion to those constants.

use observe::observe;
use observe::runtime::fields::{
    FUNCTION_CALLS, FUNCTION_LABEL, IN_FLIGHT, METRIC_LABEL_PREFIX, METRIC_NAME, MODULE_LABEL,
    OTEL_KIND, OTEL_STATUS_CODE, RESULT,
};
use tracing::Metadata;

#[observe(
    metric = "db_event",
    labels(table = "events"),
    otel_kind = "client",
    track_concurrency
)]
fn with_every_option() -> &'static Metadata<'static> {
    tracing::Span::current()
        .metadata()
        .expect("inside the span")
}

#[observe]
fn with_defaults() -> &'static Metadata<'static> {
    tracing::Span::current()
        .metadata()
        .expect("inside the span")
}

fn declared(metadata: &Metadata<'_>) -> Vec<String> {
    metadata
        .fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect()
}

#[test]
fn an_expansion_declares_the_shared_names() {
    let (every, defaults) =
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            (with_every_option(), with_defaults())
        });
    let names = declared(every);
    for name in [
        METRIC_NAME.to_owned(),
        format!("{METRIC_LABEL_PREFIX}table"),
        OTEL_KIND.to_owned(),
        RESULT.to_owned(),
        OTEL_STATUS_CODE.to_owned(),
        IN_FLIGHT.to_owned(),
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let names = declared(defaults);
    for name in [
        format!("{METRIC_LABEL_PREFIX}{FUNCTION_LABEL}"),
        format!("{METRIC_LABEL_PREFIX}{MODULE_LABEL}"),
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(!names.contains(&IN_FLIGHT.to_owned()));
}

#[test]
fn the_default_metric_is_function_calls() {
    use observe::runtime::metrics::{Metrics, MetricsConfig};
    use tracing_subscriber::layer::SubscriberExt as _;
    let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    let subscriber = tracing_subscriber::registry().with(metrics.layer());
    tracing::subscriber::with_default(subscriber, with_defaults);
    let series = format!(
        r#"{FUNCTION_CALLS}_total{{{FUNCTION_LABEL}="with_defaults",{MODULE_LABEL}="field_names",result="ok"}} 1"#
    );
    assert!(metrics.render().contains(&series), "{series}");
}
