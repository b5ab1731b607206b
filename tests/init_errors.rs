//! What `init` does when it cannot start: it installs nothing (a retry works), and its
//! error names the setting, where the setting came from, and the value; printed the way
//! `main` prints it (`Debug`), it reads like its `Display`. Each scenario runs in a child
//! process, since `init` is once per process.

mod reliability_common;

use std::net::TcpListener;
use std::time::Duration;

use observe::runtime::config::Config;
use reliability_common::*;

const LIMIT: Duration = Duration::from_secs(60);

/// Runs the child test `name` and asserts it passed.
fn child(name: &str, envs: &[(&str, String)]) -> std::collections::BTreeMap<String, String> {
    let (output, _) = run_child(name, envs, LIMIT);
    assert_success(name, &output);
    reports(&output)
}

#[test]
#[ignore = "child process of a_failed_init_can_be_retried"]
fn child_retry() {
    if !is_child("child_retry") {
        return;
    }
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    let err = Config::new()
        .metrics_addr(addr)
        .log_writer(std::io::sink())
        .init()
        .expect_err("the address is taken");
    let text = err.to_string();
    report("error", &text);
    assert!(text.contains(&addr.to_string()), "{text}");
    assert!(text.contains("(from Config::metrics_addr)"), "{text}");
    assert_eq!(format!("{err:?}"), text, "Debug reads like Display");
    // Nothing was installed: the same process can start observe now.
    let guard = Config::new()
        .metrics_addr("127.0.0.1:0")
        .log_writer(std::io::sink())
        .init()
        .expect("a retry after a failed init");
    tracing::info_span!("after", metric_name = "after").in_scope(|| {});
    assert!(
        guard
            .metrics_text()
            .contains(r#"after_total{result="ok"} 1"#)
    );
    assert!(
        observe::runtime::init().is_err(),
        "but only once it succeeded"
    );
}

#[test]
fn a_failed_init_can_be_retried() {
    let reports = child("child_retry", &[]);
    assert!(reports["error"].starts_with("cannot serve /metrics on 127.0.0.1:"));
}

#[test]
#[ignore = "child process of the bind error tests"]
fn child_bind() {
    if !is_child("child_bind") {
        return;
    }
    match observe::runtime::init() {
        Ok(guard) => report("bound", guard.metrics_addr().unwrap()),
        Err(err) => {
            report("error", &err);
            report("debug", format!("{err:?}"));
        }
    }
}

#[test]
fn a_bind_error_names_the_variable_and_the_address() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let reports = child("child_bind", &[("OBSERVE_METRICS_ADDR", addr.clone())]);
    let error = &reports["error"];
    assert!(
        error.starts_with(&format!(
            "cannot serve /metrics on {addr} (from OBSERVE_METRICS_ADDR): "
        )),
        "{error}"
    );
    assert_eq!(&reports["debug"], error);
}

#[test]
fn a_host_name_is_an_address() {
    let reports = child(
        "child_bind",
        &[("OBSERVE_METRICS_ADDR", "localhost:0".into())],
    );
    let bound = reports
        .get("bound")
        .unwrap_or_else(|| panic!("{reports:?}"));
    assert!(
        bound.starts_with("127.0.0.1:") || bound.starts_with("[::1]:"),
        "{bound}"
    );
}

#[test]
fn a_bad_variable_prints_as_its_message() {
    let reports = child("child_bind", &[("OTEL_TRACES_SAMPLER", "sometimes".into())]);
    let debug = &reports["debug"];
    assert!(
        debug.starts_with(r#"OTEL_TRACES_SAMPLER="sometimes": unknown sampler"#),
        "{debug}"
    );
    assert!(!debug.contains("ConfigError"), "no struct dump: {debug}");
}

#[test]
#[ignore = "child process of metrics_exporters_decide_whether_metrics_are_served"]
fn child_served() {
    if !is_child("child_served") {
        return;
    }
    let guard = observe::runtime::init().unwrap();
    report("served", guard.metrics_addr().is_some());
}

#[test]
fn metrics_exporters_decide_whether_metrics_are_served() {
    for (exporters, served) in [("prometheus", "true"), ("none", "false")] {
        let reports = child(
            "child_served",
            &[
                ("OBSERVE_METRICS_ADDR", "127.0.0.1:0".into()),
                ("OTEL_METRICS_EXPORTER", exporters.into()),
            ],
        );
        assert_eq!(
            reports["served"], served,
            "OTEL_METRICS_EXPORTER={exporters}"
        );
    }
}
