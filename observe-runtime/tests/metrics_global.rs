//! The process-global recorder: one test binary of its own, since there can be one per process.

use observe_runtime::metrics::{Metrics, MetricsConfig};

#[test]
fn install_global_routes_app_metrics_and_refuses_a_second_install() {
    let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    metrics.install_global().expect("first install");
    metrics::counter!("orders_total", "shop" => "main").increment(3);
    metrics::histogram!("payment_seconds").record(0.02);

    let other = Metrics::new(MetricsConfig::default()).unwrap();
    let err = other
        .install_global()
        .expect_err("a second global recorder");
    assert!(err.to_string().contains("already installed"), "{err}");
    assert!(
        metrics.install_global().is_err(),
        "not even the same one twice"
    );

    let text = metrics.render();
    assert!(text.contains("orders_total{shop=\"main\"} 3\n"), "{text}");
    assert!(
        text.contains("payment_seconds_bucket{le=\"0.015\"} 0\n")
            && text.contains("payment_seconds_bucket{le=\"0.022\"} 1\n"),
        "app histograms get the same buckets:\n{text}"
    );
    assert!(!other.render().contains("orders_total"));
}
