//! [`Sampler`]: whether a trace is sampled, decided when its spans start.

use super::ids::TraceId;

/// Trace sampler, as in `OTEL_TRACES_SAMPLER`: decides the W3C `sampled` flag of each new
/// span. Only sampled spans are exported; every span is still logged and measured.
///
/// ```
/// use observe_runtime::context::Sampler;
///
/// assert_eq!(Sampler::default(), Sampler::ParentBasedAlwaysOn);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Sampler {
    /// Sample every trace.
    AlwaysOn,
    /// Sample none.
    AlwaysOff,
    /// Sample this ratio (0..=1) of trace ids.
    TraceIdRatio(f64),
    /// Follow the parent's decision (a local parent, or a caller's `traceparent`); sample
    /// every root (the default).
    #[default]
    ParentBasedAlwaysOn,
    /// Follow the parent's decision; sample no root.
    ParentBasedAlwaysOff,
    /// Follow the parent's decision; sample this ratio of roots.
    ParentBasedTraceIdRatio(f64),
}

impl Sampler {
    /// The decision for a span whose parent was sampled or not (`None` for a root).
    #[inline]
    pub(crate) fn sample(self, parent_sampled: Option<bool>, trace_id: TraceId) -> bool {
        match self {
            Sampler::AlwaysOn => true,
            Sampler::AlwaysOff => false,
            Sampler::TraceIdRatio(ratio) => by_ratio(ratio, trace_id),
            Sampler::ParentBasedAlwaysOn => parent_sampled.unwrap_or(true),
            Sampler::ParentBasedAlwaysOff => parent_sampled.unwrap_or(false),
            Sampler::ParentBasedTraceIdRatio(ratio) => {
                parent_sampled.unwrap_or_else(|| by_ratio(ratio, trace_id))
            }
        }
    }

    /// The ratio, for the ratio samplers.
    pub(crate) fn ratio(self) -> Option<f64> {
        match self {
            Sampler::TraceIdRatio(r) | Sampler::ParentBasedTraceIdRatio(r) => Some(r),
            _ => None,
        }
    }
}

/// The trace id's low 63 bits against the ratio, as the OpenTelemetry SDKs compare them, so
/// that services sampling the same trace at the same ratio agree.
fn by_ratio(ratio: f64, trace_id: TraceId) -> bool {
    let bound = (ratio.clamp(0.0, 1.0) * (1u64 << 63) as f64) as u64;
    let low = trace_id.as_u128() as u64;
    (low >> 1) < bound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ids::new_trace_id;

    #[test]
    fn parent_based_follows_the_parent() {
        let id = new_trace_id();
        for sampler in [
            Sampler::ParentBasedAlwaysOn,
            Sampler::ParentBasedAlwaysOff,
            Sampler::ParentBasedTraceIdRatio(0.5),
        ] {
            assert!(sampler.sample(Some(true), id));
            assert!(!sampler.sample(Some(false), id));
        }
        assert!(Sampler::ParentBasedAlwaysOn.sample(None, id));
        assert!(!Sampler::ParentBasedAlwaysOff.sample(None, id));
        assert!(Sampler::AlwaysOn.sample(Some(false), id));
        assert!(!Sampler::AlwaysOff.sample(Some(true), id));
    }

    #[test]
    fn ratios_sample_about_their_share() {
        let sampled = |ratio: f64| {
            (0..20_000)
                .filter(|_| Sampler::TraceIdRatio(ratio).sample(None, new_trace_id()))
                .count()
        };
        assert_eq!(sampled(0.0), 0);
        assert_eq!(sampled(1.0), 20_000);
        let quarter = sampled(0.25);
        assert!((4_500..5_500).contains(&quarter), "{quarter}");
    }
}
