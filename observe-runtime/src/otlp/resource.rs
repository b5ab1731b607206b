//! The resource every exported item carries: `service.name`, the configured attributes and
//! `telemetry.sdk.*`.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;

use crate::config::ResourceSettings;

/// The resource as the SDK's exporters take it.
pub(crate) fn sdk(settings: &ResourceSettings) -> Resource {
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            settings
                .attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(settings.service_name.clone())
        .build()
}

/// The resource as OTLP carries it, for what observe encodes itself.
pub(crate) fn proto(
    settings: &ResourceSettings,
) -> opentelemetry_proto::tonic::resource::v1::Resource {
    opentelemetry_proto::tonic::resource::v1::Resource::from(&sdk(settings))
}
