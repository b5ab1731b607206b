//! The families of an exposition as an OTLP metrics request.
//!
//! Why observe encodes its own aggregates rather than record into OpenTelemetry SDK
//! instruments: the SDK (0.33) builds `ResourceMetrics` only inside itself, takes no
//! pre-aggregated histogram, keeps no exemplar, and would cost every call a second
//! recording (a lookup by attribute set and an atomic update in the SDK's own maps) next
//! to observe's. Encoding the aggregates the exposition already reads costs the calls
//! nothing, and the pushed values are by construction those `/metrics` shows.
//!
//! Counters become monotonic sums, gauges gauges, histograms explicit-bucket histograms
//! with the same bounds, counts and sums, and exemplars. Names are the exposition's
//! (`db_event_total`, `db_event_duration_seconds`).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar as OtlpExemplar, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, exemplar, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::exemplar::Exemplar;
use super::format::{Family, Kind, Point};
use crate::config::Temporality;

/// Turns successive snapshots into requests: cumulative values as they are, or deltas from
/// the previous push.
#[derive(Debug)]
pub(crate) struct Encoder {
    temporality: Temporality,
    resource: Resource,
    /// When the values started counting: the registry's start (cumulative) or the last
    /// push (delta).
    start: SystemTime,
    /// The previous push's values, for deltas: per (family, labels), the counter value or
    /// the histogram's per-bucket counts and sum.
    previous: HashMap<(String, Vec<(String, String)>), Previous>,
}

#[derive(Debug)]
enum Previous {
    Number(f64),
    Histogram { counts: Vec<u64>, sum: f64 },
}

impl Encoder {
    pub(crate) fn new(temporality: Temporality, resource: Resource, start: SystemTime) -> Self {
        Encoder {
            temporality,
            resource,
            start,
            previous: HashMap::new(),
        }
    }

    /// The request for `families`, measured `now`.
    pub(crate) fn request(
        &mut self,
        families: &[Family],
        now: SystemTime,
    ) -> ExportMetricsServiceRequest {
        let start = nanos(self.start);
        let time = nanos(now);
        let temporality = match self.temporality {
            Temporality::Cumulative => AggregationTemporality::Cumulative,
            Temporality::Delta => AggregationTemporality::Delta,
        } as i32;
        let mut metrics = Vec::with_capacity(families.len());
        for family in families {
            let data = match family.kind {
                Kind::Counter => metric::Data::Sum(Sum {
                    data_points: self.numbers(family, start, time, true),
                    aggregation_temporality: temporality,
                    is_monotonic: true,
                }),
                Kind::Histogram => metric::Data::Histogram(Histogram {
                    data_points: self.histograms(family, start, time),
                    aggregation_temporality: temporality,
                }),
                // Summaries are not produced by observe or the exporter as configured;
                // anything else is a number as it stands.
                Kind::Gauge | Kind::Untyped | Kind::Summary => metric::Data::Gauge(Gauge {
                    data_points: self.numbers(family, start, time, false),
                }),
            };
            metrics.push(Metric {
                name: family.name.clone(),
                description: family.help.clone().unwrap_or_default(),
                unit: if family.name.ends_with("_seconds") {
                    "s".into()
                } else {
                    String::new()
                },
                metadata: Vec::new(),
                data: Some(data),
            });
        }
        if self.temporality == Temporality::Delta {
            self.start = now;
        }
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(self.resource.clone()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "observe".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    fn numbers(
        &mut self,
        family: &Family,
        start: u64,
        time: u64,
        sum: bool,
    ) -> Vec<NumberDataPoint> {
        let mut points = Vec::with_capacity(family.samples.len());
        for sample in &family.samples {
            let Point::Number { value, exemplar } = &sample.point else {
                continue;
            };
            let value = if sum && self.temporality == Temporality::Delta {
                let key = (family.name.clone(), sample.labels.clone());
                let before = match self.previous.insert(key, Previous::Number(*value)) {
                    Some(Previous::Number(before)) => before,
                    _ => 0.0,
                };
                // A counter that went down was reset: the delta is the new value.
                if *value >= before {
                    value - before
                } else {
                    *value
                }
            } else {
                *value
            };
            points.push(NumberDataPoint {
                attributes: attributes(&sample.labels),
                start_time_unix_nano: start,
                time_unix_nano: time,
                exemplars: exemplar.iter().map(otlp_exemplar).collect(),
                flags: 0,
                value: Some(if value.fract() == 0.0 && value.abs() < 9.0e15 {
                    number_data_point::Value::AsInt(value as i64)
                } else {
                    number_data_point::Value::AsDouble(value)
                }),
            });
        }
        points
    }

    fn histograms(&mut self, family: &Family, start: u64, time: u64) -> Vec<HistogramDataPoint> {
        let mut points = Vec::with_capacity(family.samples.len());
        for sample in &family.samples {
            let Point::Histogram {
                bounds,
                counts,
                sum,
                exemplars,
            } = &sample.point
            else {
                continue;
            };
            let (counts, sum) = if self.temporality == Temporality::Delta {
                let key = (family.name.clone(), sample.labels.clone());
                let now = Previous::Histogram {
                    counts: counts.clone(),
                    sum: *sum,
                };
                match self.previous.insert(key, now) {
                    Some(Previous::Histogram {
                        counts: before,
                        sum: sum_before,
                    }) if before.len() == counts.len()
                        && counts
                            .iter()
                            .zip(&before)
                            .all(|(now, before)| now >= before) =>
                    {
                        (
                            counts
                                .iter()
                                .zip(&before)
                                .map(|(now, before)| now - before)
                                .collect(),
                            sum - sum_before,
                        )
                    }
                    _ => (counts.clone(), *sum),
                }
            } else {
                (counts.clone(), *sum)
            };
            points.push(HistogramDataPoint {
                attributes: attributes(&sample.labels),
                start_time_unix_nano: start,
                time_unix_nano: time,
                count: counts.iter().sum(),
                sum: Some(sum),
                bucket_counts: counts,
                explicit_bounds: bounds.to_vec(),
                exemplars: exemplars.iter().flatten().map(otlp_exemplar).collect(),
                flags: 0,
                min: None,
                max: None,
            });
        }
        points
    }
}

fn attributes(labels: &[(String, String)]) -> Vec<KeyValue> {
    labels
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.clone())),
            }),
            ..Default::default()
        })
        .collect()
}

fn otlp_exemplar(exemplar: &Exemplar) -> OtlpExemplar {
    OtlpExemplar {
        filtered_attributes: Vec::new(),
        time_unix_nano: nanos(exemplar.at),
        span_id: exemplar.span_id.to_bytes().to_vec(),
        trace_id: exemplar.trace_id.to_bytes().to_vec(),
        value: Some(exemplar::Value::AsDouble(exemplar.value)),
    }
}

fn nanos(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::metrics::format::Sample;

    fn families(count: f64, buckets: Vec<u64>) -> Vec<Family> {
        vec![
            Family {
                name: "calls_total".into(),
                help: None,
                kind: Kind::Counter,
                samples: vec![Sample {
                    labels: vec![("result".into(), "ok".into())],
                    point: Point::Number {
                        value: count,
                        exemplar: None,
                    },
                }],
            },
            Family {
                name: "calls_duration_seconds".into(),
                help: None,
                kind: Kind::Histogram,
                samples: vec![Sample {
                    labels: vec![],
                    point: Point::Histogram {
                        bounds: Arc::from([0.1]),
                        sum: 0.5,
                        counts: buckets,
                        exemplars: vec![],
                    },
                }],
            },
        ]
    }

    fn sum_value(request: &ExportMetricsServiceRequest) -> i64 {
        let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(metric::Data::Sum(sum)) = &metric.data else {
            panic!()
        };
        assert!(sum.is_monotonic);
        match sum.data_points[0].value {
            Some(number_data_point::Value::AsInt(v)) => v,
            ref other => panic!("{other:?}"),
        }
    }

    fn bucket_counts(request: &ExportMetricsServiceRequest) -> Vec<u64> {
        let metric = &request.resource_metrics[0].scope_metrics[0].metrics[1];
        let Some(metric::Data::Histogram(h)) = &metric.data else {
            panic!()
        };
        assert_eq!(h.data_points[0].explicit_bounds, [0.1]);
        h.data_points[0].bucket_counts.clone()
    }

    #[test]
    fn cumulative_pushes_the_values_as_they_stand() {
        let t0 = UNIX_EPOCH + Duration::from_secs(100);
        let mut encoder = Encoder::new(Temporality::Cumulative, Resource::default(), t0);
        let first = encoder.request(&families(3.0, vec![2, 1]), t0 + Duration::from_secs(60));
        let second = encoder.request(&families(5.0, vec![3, 2]), t0 + Duration::from_secs(120));
        assert_eq!((sum_value(&first), sum_value(&second)), (3, 5));
        assert_eq!(bucket_counts(&second), [3, 2]);
        let point = |r: &ExportMetricsServiceRequest| {
            let Some(metric::Data::Sum(sum)) =
                &r.resource_metrics[0].scope_metrics[0].metrics[0].data
            else {
                panic!()
            };
            (
                sum.data_points[0].start_time_unix_nano,
                sum.aggregation_temporality,
            )
        };
        assert_eq!(
            point(&second),
            (nanos(t0), AggregationTemporality::Cumulative as i32)
        );
    }

    #[test]
    fn delta_pushes_what_changed_since_the_last_push() {
        let t0 = UNIX_EPOCH + Duration::from_secs(100);
        let mut encoder = Encoder::new(Temporality::Delta, Resource::default(), t0);
        let first = encoder.request(&families(3.0, vec![2, 1]), t0 + Duration::from_secs(60));
        let second = encoder.request(&families(5.0, vec![3, 2]), t0 + Duration::from_secs(120));
        assert_eq!((sum_value(&first), sum_value(&second)), (3, 2));
        assert_eq!(bucket_counts(&first), [2, 1]);
        assert_eq!(bucket_counts(&second), [1, 1]);
    }
}
