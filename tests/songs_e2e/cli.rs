//! The command line: `--help` and `-h` print the usage and exit 0; a bad argument says what
//! is wrong, prints the usage and exits 2.

use std::process::Output;

use crate::support::songs;

fn run(args: &[&str]) -> Output {
    songs().args(args).output().expect("songs runs")
}

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn help_prints_the_usage() {
    let help = run(&["--help"]);
    assert!(help.status.success(), "{help:?}");
    assert!(help.stderr.is_empty(), "{help:?}");
    let usage = String::from_utf8(help.stdout).unwrap();
    for option in [
        "usage: songs",
        "--addr ADDR",
        "--demo",
        "--shutdown-timeout SECONDS",
        "-h, --help",
    ] {
        assert!(usage.contains(option), "{option} in:\n{usage}");
    }
    let short = run(&["-h"]);
    assert!(short.status.success(), "{short:?}");
    assert_eq!(String::from_utf8(short.stdout).unwrap(), usage);
    // Help wins over whatever else is on the line, and does not start the service.
    let late = run(&["--demo", "--help"]);
    assert!(late.status.success(), "{late:?}");
    assert_eq!(String::from_utf8(late.stdout).unwrap(), usage);
}

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn bad_arguments_are_named_and_exit_2() {
    for (args, message) in [
        (&["--bogus"][..], r#"songs: unknown argument "--bogus""#),
        (&["--addr"], "songs: --addr needs an address"),
        (&["--addr", "localhost"], r#"songs: --addr "localhost": "#),
        (
            &["--shutdown-timeout", "-1"],
            r#"songs: --shutdown-timeout "-1": expected seconds"#,
        ),
    ] {
        let out = run(args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: songs"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
