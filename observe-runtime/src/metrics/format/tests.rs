use super::bound_text;

/// What Go's `strconv.FormatFloat(f, 'g', -1, 64)` writes, plus `.0` for a whole number:
/// what Prometheus 3 turns every `le` into (`formatOpenMetricsFloat`).
#[test]
fn bounds_read_as_prometheus_normalises_them() {
    let cases = [
        (0.0, "0.0"),
        (1.0, "1.0"),
        (10.0, "10.0"),
        (0.25, "0.25"),
        (0.005, "0.005"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (0.000015, "1.5e-05"),
        (123_456.0, "123456.0"),
        (1_000_000.0, "1e+06"),
        (1_234_567.0, "1.234567e+06"),
        (2.5e300, "2.5e+300"),
        (-0.5, "-0.5"),
        (-3.0, "-3.0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (f64::INFINITY, "+Inf"),
    ];
    for (value, text) in cases {
        assert_eq!(bound_text(value), text, "{value:?}");
    }
}

#[test]
fn every_bound_reads_back_as_itself() {
    for value in crate::metrics::DEFAULT_BUCKETS
        .iter()
        .chain(&crate::metrics::HTTP_BUCKETS)
    {
        assert_eq!(bound_text(*value).parse::<f64>().unwrap(), *value);
    }
}
