//! The metric view: [`flatten_metrics`] turns an `ExportMetricsServiceRequest` into one
//! [`ReceivedDataPoint`] per data point, each carrying its metric's name, kind, temporality
//! and monotonicity, so an assertion needs no walk through the resource/scope/metric tree.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, SummaryDataPoint, exemplar, exponential_histogram_data_point, metric,
    number_data_point,
};

use opentelemetry_proto::tonic::common::v1::KeyValue;

use super::value::{Value, hex, typed_attributes};

/// Which OTLP metric type a data point came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// `Sum` (a counter when monotonic, an up-down counter otherwise).
    Sum,
    /// `Gauge`.
    Gauge,
    /// `Histogram` with explicit bucket bounds.
    Histogram,
    /// `ExponentialHistogram`.
    ExponentialHistogram,
    /// `Summary`.
    Summary,
}

/// A metric's aggregation temporality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Temporality {
    /// Not set: always so for gauges and summaries, a bug for sums and histograms.
    Unspecified,
    /// Each point covers the time since the previous export.
    Delta,
    /// Each point covers the time since the start.
    Cumulative,
    /// A value OTLP does not define, kept so an exporter bug shows.
    Invalid(i32),
}

impl Temporality {
    fn from_wire(value: i32) -> Temporality {
        match AggregationTemporality::try_from(value) {
            Ok(AggregationTemporality::Unspecified) => Temporality::Unspecified,
            Ok(AggregationTemporality::Delta) => Temporality::Delta,
            Ok(AggregationTemporality::Cumulative) => Temporality::Cumulative,
            Err(_) => Temporality::Invalid(value),
        }
    }
}

/// A sum, gauge or exemplar value: OTLP keeps integers and doubles apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// `as_int`.
    Int(i64),
    /// `as_double`.
    Double(f64),
}

impl Number {
    /// The value as a float, whichever type it crossed the wire as.
    ///
    /// ```
    /// use observe_testkit::otlp::Number;
    /// assert_eq!(Number::Int(2).as_f64(), 2.0);
    /// assert_eq!(Number::Double(0.25).as_f64(), 0.25);
    /// ```
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Double(d) => d,
        }
    }
}

/// An exemplar on a data point: a sampled measurement and the span it was taken in.
///
/// ```
/// use observe_testkit::otlp::{Number, ReceivedExemplar};
/// let exemplar = ReceivedExemplar { value: Some(Number::Double(0.5)), ..ReceivedExemplar::default() };
/// assert!(exemplar.trace_id.is_empty(), "no span: empty ids");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReceivedExemplar {
    /// The measured value (`None` when the exporter left it unset).
    pub value: Option<Number>,
    /// When it was measured, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// 32 lowercase hex digits, or empty when not taken in a sampled span.
    pub trace_id: String,
    /// 16 lowercase hex digits, or empty when not taken in a sampled span.
    pub span_id: String,
    /// The measurement's attributes that the point's attributes filtered out.
    pub filtered_attributes: BTreeMap<String, Value>,
}

/// The buckets of an exponential histogram point.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExponentialBuckets {
    /// Resolution: bucket boundaries are powers of `2^(2^-scale)`.
    pub scale: i32,
    /// Count of values in the zero bucket.
    pub zero_count: u64,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Index of the first positive bucket.
    pub positive_offset: i32,
    /// Counts of the positive buckets from `positive_offset` on.
    pub positive_counts: Vec<u64>,
    /// Index of the first negative bucket.
    pub negative_offset: i32,
    /// Counts of the negative buckets from `negative_offset` on.
    pub negative_counts: Vec<u64>,
}

/// One metric data point, flattened. Fields that a [`MetricKind`] does not have stay at
/// their defaults (`value` is `None` for histograms, bucket lists are empty for sums).
///
/// ```
/// use observe_testkit::otlp::{MetricKind, Number, ReceivedDataPoint, flatten_metrics};
/// use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
/// use opentelemetry_proto::tonic::metrics::v1::{
///     Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
/// };
///
/// let sum = Sum {
///     data_points: vec![NumberDataPoint {
///         value: Some(number_data_point::Value::AsInt(4)),
///         ..NumberDataPoint::default()
///     }],
///     aggregation_temporality: 2,
///     is_monotonic: true,
/// };
/// let metric = Metric { name: "calls".into(), data: Some(metric::Data::Sum(sum)), ..Metric::default() };
/// let request = ExportMetricsServiceRequest {
///     resource_metrics: vec![ResourceMetrics {
///         scope_metrics: vec![ScopeMetrics { metrics: vec![metric], ..ScopeMetrics::default() }],
///         ..ResourceMetrics::default()
///     }],
/// };
/// let points: Vec<ReceivedDataPoint> = flatten_metrics(&request);
/// assert_eq!(points[0].kind, MetricKind::Sum);
/// assert!(points[0].monotonic);
/// assert_eq!(points[0].value, Some(Number::Int(4)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedDataPoint {
    /// The resource attributes of the batch the point came in.
    pub resource: BTreeMap<String, Value>,
    /// The instrumentation scope name.
    pub scope: String,
    /// The metric name.
    pub name: String,
    /// The metric description.
    pub description: String,
    /// The metric unit (UCUM, e.g. `s`).
    pub unit: String,
    /// Which metric type the point came from.
    pub kind: MetricKind,
    /// Whether a sum only goes up (always `false` for other kinds).
    pub monotonic: bool,
    /// The aggregation temporality (`Unspecified` for gauges and summaries).
    pub temporality: Temporality,
    /// The point's attributes with their types.
    pub attributes: BTreeMap<String, Value>,
    /// Start of the covered interval, nanoseconds since the Unix epoch (0 when unset).
    pub start_time_unix_nano: u64,
    /// When the point was taken, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// A sum's or gauge's value.
    pub value: Option<Number>,
    /// Histogram and summary count.
    pub count: u64,
    /// Histogram and summary sum (a histogram may leave it unset).
    pub sum: Option<f64>,
    /// Histogram minimum, when sent.
    pub min: Option<f64>,
    /// Histogram maximum, when sent.
    pub max: Option<f64>,
    /// An explicit-bucket histogram's upper bounds (one fewer than `bucket_counts`).
    pub bucket_bounds: Vec<f64>,
    /// An explicit-bucket histogram's per-bucket (not cumulative) counts.
    pub bucket_counts: Vec<u64>,
    /// An exponential histogram's buckets.
    pub exponential: Option<ExponentialBuckets>,
    /// A summary's `(quantile, value)` pairs.
    pub quantiles: Vec<(f64, f64)>,
    /// The point's exemplars, in order.
    pub exemplars: Vec<ReceivedExemplar>,
    /// The point's flags (bit 0: no recorded value).
    pub flags: u32,
}

/// Flattens one export request into [`ReceivedDataPoint`]s, in request order.
///
/// ```
/// use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
/// let request = ExportMetricsServiceRequest::default();
/// assert!(observe_testkit::otlp::flatten_metrics(&request).is_empty());
/// ```
pub fn flatten_metrics(request: &ExportMetricsServiceRequest) -> Vec<ReceivedDataPoint> {
    let mut out = Vec::new();
    for rm in &request.resource_metrics {
        let resource = rm
            .resource
            .as_ref()
            .map(|r| typed_attributes(&r.attributes))
            .unwrap_or_default();
        for sm in &rm.scope_metrics {
            let scope = sm
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            for metric in &sm.metrics {
                let base = Base {
                    resource: &resource,
                    scope: &scope,
                    metric,
                };
                flatten_metric(&base, &mut out);
            }
        }
    }
    out
}

/// How many data points a request carries, without flattening it.
pub(crate) fn data_point_count(request: &ExportMetricsServiceRequest) -> usize {
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(|m| match &m.data {
            None => 0,
            Some(metric::Data::Sum(s)) => s.data_points.len(),
            Some(metric::Data::Gauge(g)) => g.data_points.len(),
            Some(metric::Data::Histogram(h)) => h.data_points.len(),
            Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(metric::Data::Summary(s)) => s.data_points.len(),
        })
        .sum()
}

/// What every point of one metric shares.
struct Base<'a> {
    resource: &'a BTreeMap<String, Value>,
    scope: &'a str,
    metric: &'a Metric,
}

impl Base<'_> {
    fn point(
        &self,
        kind: MetricKind,
        temporality: i32,
        attributes: &[KeyValue],
    ) -> ReceivedDataPoint {
        ReceivedDataPoint {
            resource: self.resource.clone(),
            scope: self.scope.to_owned(),
            name: self.metric.name.clone(),
            description: self.metric.description.clone(),
            unit: self.metric.unit.clone(),
            kind,
            monotonic: false,
            temporality: Temporality::from_wire(temporality),
            attributes: typed_attributes(attributes),
            start_time_unix_nano: 0,
            time_unix_nano: 0,
            value: None,
            count: 0,
            sum: None,
            min: None,
            max: None,
            bucket_bounds: Vec::new(),
            bucket_counts: Vec::new(),
            exponential: None,
            quantiles: Vec::new(),
            exemplars: Vec::new(),
            flags: 0,
        }
    }

    fn number(&self, kind: MetricKind, temporality: i32, p: &NumberDataPoint) -> ReceivedDataPoint {
        ReceivedDataPoint {
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            value: p.value.map(|v| match v {
                number_data_point::Value::AsInt(i) => Number::Int(i),
                number_data_point::Value::AsDouble(d) => Number::Double(d),
            }),
            exemplars: exemplars(&p.exemplars),
            flags: p.flags,
            ..self.point(kind, temporality, &p.attributes)
        }
    }

    fn histogram(&self, temporality: i32, p: &HistogramDataPoint) -> ReceivedDataPoint {
        ReceivedDataPoint {
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            count: p.count,
            sum: p.sum,
            min: p.min,
            max: p.max,
            bucket_bounds: p.explicit_bounds.clone(),
            bucket_counts: p.bucket_counts.clone(),
            exemplars: exemplars(&p.exemplars),
            flags: p.flags,
            ..self.point(MetricKind::Histogram, temporality, &p.attributes)
        }
    }

    fn exponential(
        &self,
        temporality: i32,
        p: &ExponentialHistogramDataPoint,
    ) -> ReceivedDataPoint {
        let buckets = |b: &Option<exponential_histogram_data_point::Buckets>| {
            b.as_ref()
                .map(|b| (b.offset, b.bucket_counts.clone()))
                .unwrap_or_default()
        };
        let (positive_offset, positive_counts) = buckets(&p.positive);
        let (negative_offset, negative_counts) = buckets(&p.negative);
        ReceivedDataPoint {
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            count: p.count,
            sum: p.sum,
            min: p.min,
            max: p.max,
            exponential: Some(ExponentialBuckets {
                scale: p.scale,
                zero_count: p.zero_count,
                zero_threshold: p.zero_threshold,
                positive_offset,
                positive_counts,
                negative_offset,
                negative_counts,
            }),
            exemplars: exemplars(&p.exemplars),
            flags: p.flags,
            ..self.point(MetricKind::ExponentialHistogram, temporality, &p.attributes)
        }
    }

    fn summary(&self, p: &SummaryDataPoint) -> ReceivedDataPoint {
        ReceivedDataPoint {
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            count: p.count,
            sum: Some(p.sum),
            quantiles: p
                .quantile_values
                .iter()
                .map(|q| (q.quantile, q.value))
                .collect(),
            flags: p.flags,
            ..self.point(MetricKind::Summary, 0, &p.attributes)
        }
    }
}

fn flatten_metric(base: &Base<'_>, out: &mut Vec<ReceivedDataPoint>) {
    match &base.metric.data {
        None => {}
        Some(metric::Data::Sum(sum)) => {
            out.extend(sum.data_points.iter().map(|p| ReceivedDataPoint {
                monotonic: sum.is_monotonic,
                ..base.number(MetricKind::Sum, sum.aggregation_temporality, p)
            }))
        }
        Some(metric::Data::Gauge(gauge)) => out.extend(
            gauge
                .data_points
                .iter()
                .map(|p| base.number(MetricKind::Gauge, 0, p)),
        ),
        Some(metric::Data::Histogram(h)) => out.extend(
            h.data_points
                .iter()
                .map(|p| base.histogram(h.aggregation_temporality, p)),
        ),
        Some(metric::Data::ExponentialHistogram(h)) => out.extend(
            h.data_points
                .iter()
                .map(|p| base.exponential(h.aggregation_temporality, p)),
        ),
        Some(metric::Data::Summary(s)) => out.extend(s.data_points.iter().map(|p| base.summary(p))),
    }
}

fn exemplars(exemplars: &[Exemplar]) -> Vec<ReceivedExemplar> {
    exemplars
        .iter()
        .map(|e| ReceivedExemplar {
            value: e.value.map(|v| match v {
                exemplar::Value::AsInt(i) => Number::Int(i),
                exemplar::Value::AsDouble(d) => Number::Double(d),
            }),
            time_unix_nano: e.time_unix_nano,
            trace_id: hex(&e.trace_id),
            span_id: hex(&e.span_id),
            filtered_attributes: typed_attributes(&e.filtered_attributes),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::metrics::v1::{
        ExponentialHistogram, ResourceMetrics, ScopeMetrics, Summary,
        summary_data_point::ValueAtQuantile,
    };

    fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        }
    }

    fn metric(name: &str, data: metric::Data) -> Metric {
        Metric {
            name: name.into(),
            data: Some(data),
            ..Metric::default()
        }
    }

    #[test]
    fn exponential_histograms_and_summaries_keep_their_buckets_and_quantiles() {
        let exponential = ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                count: 4,
                sum: Some(10.0),
                scale: 3,
                zero_count: 1,
                zero_threshold: 0.001,
                positive: Some(exponential_histogram_data_point::Buckets {
                    offset: -2,
                    bucket_counts: vec![1, 2],
                }),
                ..ExponentialHistogramDataPoint::default()
            }],
            aggregation_temporality: 2,
        };
        let summary = Summary {
            data_points: vec![SummaryDataPoint {
                count: 2,
                sum: 3.0,
                quantile_values: vec![ValueAtQuantile {
                    quantile: 0.5,
                    value: 1.25,
                }],
                ..SummaryDataPoint::default()
            }],
        };
        let request = request(vec![
            metric("e", metric::Data::ExponentialHistogram(exponential)),
            metric("s", metric::Data::Summary(summary)),
            Metric {
                name: "no data".into(),
                ..Metric::default()
            },
        ]);
        assert_eq!(data_point_count(&request), 2);
        let points = flatten_metrics(&request);
        assert_eq!(points.len(), 2);

        let e = &points[0];
        assert_eq!(e.kind, MetricKind::ExponentialHistogram);
        assert_eq!(e.temporality, Temporality::Cumulative);
        assert_eq!((e.count, e.sum), (4, Some(10.0)));
        assert_eq!(
            e.exponential,
            Some(ExponentialBuckets {
                scale: 3,
                zero_count: 1,
                zero_threshold: 0.001,
                positive_offset: -2,
                positive_counts: vec![1, 2],
                negative_offset: 0,
                negative_counts: vec![],
            })
        );

        let s = &points[1];
        assert_eq!(s.kind, MetricKind::Summary);
        assert_eq!(s.temporality, Temporality::Unspecified);
        assert_eq!((s.count, s.sum), (2, Some(3.0)));
        assert_eq!(s.quantiles, [(0.5, 1.25)]);
    }

    #[test]
    fn a_temporality_outside_otlp_is_kept_visible() {
        let histogram = opentelemetry_proto::tonic::metrics::v1::Histogram {
            data_points: vec![HistogramDataPoint::default()],
            aggregation_temporality: 9,
        };
        let points = flatten_metrics(&request(vec![metric(
            "h",
            metric::Data::Histogram(histogram),
        )]));
        assert_eq!(points[0].temporality, Temporality::Invalid(9));
    }

    #[test]
    fn a_number_point_without_a_value_has_none() {
        let gauge = opentelemetry_proto::tonic::metrics::v1::Gauge {
            data_points: vec![NumberDataPoint::default()],
        };
        let points = flatten_metrics(&request(vec![metric("g", metric::Data::Gauge(gauge))]));
        assert_eq!(points[0].value, None);
        assert!(points[0].exemplars.is_empty());
    }
}
