//! The W3C Trace Context cases: what a caller sends the service, and what its callee must
//! get. Each function is one `#[test]` in both binaries (see `trace_context_tests!`); the
//! checks common to every request, and the export checks, are in [`Exchange`].

use super::{Exchange, Harness};

const TRACE: &str = "7c3a0e1f5d2b4a6987f0e1d2c3b4a596";
const PARENT: &str = "a1b2c3d4e5f60718";

fn traceparent(version: &str, trace_id: &str, parent_id: &str, flags: &str) -> String {
    format!("{version}-{trace_id}-{parent_id}-{flags}")
}

/// The caller's valid, sampled `traceparent`.
fn valid() -> String {
    traceparent("00", TRACE, PARENT, "01")
}

/// Sends the valid `traceparent` and these `tracestate` fields; the trace must continue.
fn with_tracestate<'h>(harness: &'h Harness, fields: &[&str]) -> Exchange<'h> {
    let tp = valid();
    let mut all = vec![("traceparent", tp.as_str())];
    all.extend(fields.iter().map(|field| ("tracestate", *field)));
    let exchange = harness.send(&all, 1);
    exchange.continues(TRACE, PARENT, true);
    exchange
}

fn restarts_with(harness: &Harness, value: &str) {
    harness
        .send(&[("traceparent", value)], 1)
        .restarts(&[TRACE]);
}

pub(crate) fn a_valid_traceparent_is_continued(harness: &Harness) {
    let sampled = harness.send(&[("traceparent", &valid())], 1);
    sampled.continues(TRACE, PARENT, true);
    assert_eq!(sampled.tracestate(), None, "none came, none is sent");

    // The caller's decision is kept: an unsampled trace stays unsampled (and unexported).
    let unsampled = traceparent("00", TRACE, PARENT, "00");
    harness
        .send(&[("traceparent", &unsampled)], 1)
        .continues(TRACE, PARENT, false);
}

pub(crate) fn a_request_without_trace_context_starts_a_trace(harness: &Harness) {
    let first = harness.send(&[], 1);
    first.restarts(&[TRACE]);
    let second = harness.send(&[], 1);
    second.restarts(&[TRACE]);
    assert_ne!(
        first.trace_id(),
        second.trace_id(),
        "each request its own trace"
    );
}

pub(crate) fn traceparent_fields_of_the_wrong_length_start_a_new_trace(harness: &Harness) {
    for value in [
        // version
        traceparent("0", TRACE, PARENT, "01"),
        traceparent("000", TRACE, PARENT, "01"),
        traceparent("0000", TRACE, PARENT, "01"),
        // trace id
        traceparent("00", &TRACE[..31], PARENT, "01"),
        traceparent("00", &format!("{TRACE}7"), PARENT, "01"),
        traceparent("00", &TRACE[..16], PARENT, "01"),
        // parent id
        traceparent("00", TRACE, &PARENT[..15], "01"),
        traceparent("00", TRACE, &format!("{PARENT}9"), "01"),
        // flags
        traceparent("00", TRACE, PARENT, "1"),
        traceparent("00", TRACE, PARENT, "001"),
        // fields missing
        format!("00-{TRACE}-{PARENT}"),
        format!("00-{TRACE}-01"),
        "00".to_owned(),
        String::new(),
    ] {
        restarts_with(harness, &value);
    }
}

pub(crate) fn traceparent_characters_other_than_lowercase_hex_start_a_new_trace(harness: &Harness) {
    let upper_trace = TRACE.to_uppercase();
    let upper_parent = PARENT.to_uppercase();
    for value in [
        // version
        traceparent(".0", TRACE, PARENT, "01"),
        traceparent("0g", TRACE, PARENT, "01"),
        traceparent("0A", TRACE, PARENT, "01"),
        // trace id: first, last, uppercase
        traceparent("00", &format!(".{}", &TRACE[1..]), PARENT, "01"),
        traceparent("00", &format!("{}z", &TRACE[..31]), PARENT, "01"),
        traceparent("00", &upper_trace, PARENT, "01"),
        // parent id
        traceparent("00", TRACE, &format!(".{}", &PARENT[1..]), "01"),
        traceparent("00", TRACE, &format!("{}-", &PARENT[..15]), "01"),
        traceparent("00", TRACE, &upper_parent, "01"),
        // flags
        traceparent("00", TRACE, PARENT, ".1"),
        traceparent("00", TRACE, PARENT, "0x"),
        traceparent("00", TRACE, PARENT, "0B"),
        // separators
        format!("00_{TRACE}-{PARENT}-01"),
        format!("00-{TRACE}_{PARENT}-01"),
        format!("00-{TRACE}-{PARENT}_01"),
        format!("00 {TRACE} {PARENT} 01"),
        // 55 bytes, but not 55 ASCII characters
        traceparent("00", &format!("{}é", &TRACE[..30]), PARENT, "01"),
    ] {
        restarts_with(harness, &value);
    }
}

pub(crate) fn version_ff_starts_a_new_trace(harness: &Harness) {
    restarts_with(harness, &traceparent("ff", TRACE, PARENT, "01"));
    restarts_with(harness, &format!("ff-{TRACE}-{PARENT}-01-more"));
}

pub(crate) fn version_00_with_trailing_data_starts_a_new_trace(harness: &Harness) {
    for tail in [".", "-", "-more-fields", "0", " x"] {
        restarts_with(harness, &format!("{}{tail}", valid()));
    }
}

pub(crate) fn a_later_version_is_read_by_its_version_00_prefix(harness: &Harness) {
    // Version 00 is what the service writes, whatever version it read (checked on every call).
    for value in [
        traceparent("cc", TRACE, PARENT, "01"),
        traceparent("fe", TRACE, PARENT, "01"),
        format!("cc-{TRACE}-{PARENT}-01-a-field-of-the-future"),
        format!("cc-{TRACE}-{PARENT}-01-"),
    ] {
        harness
            .send(&[("traceparent", &value)], 1)
            .continues(TRACE, PARENT, true);
    }
    harness
        .send(&[("traceparent", &format!("cc-{TRACE}-{PARENT}-00-x"))], 1)
        .continues(TRACE, PARENT, false);
    for value in [
        // the field after the prefix must start with a `-`
        format!("cc-{TRACE}-{PARENT}-01.a-field-of-the-future"),
        format!("cc-{TRACE}-{PARENT}-01a"),
        // the prefix is still held to version 00's rules
        traceparent("cc", &TRACE.to_uppercase(), PARENT, "01"),
        traceparent("cc", &"0".repeat(32), PARENT, "01"),
        traceparent("cc", &TRACE[..31], PARENT, "01"),
    ] {
        restarts_with(harness, &value);
    }
}

pub(crate) fn all_zero_ids_start_a_new_trace(harness: &Harness) {
    let zero_trace = "0".repeat(32);
    harness
        .send(
            &[("traceparent", &traceparent("00", &zero_trace, PARENT, "01"))],
            1,
        )
        .restarts(&[&zero_trace, TRACE]);
    restarts_with(harness, &traceparent("00", TRACE, &"0".repeat(16), "01"));
    restarts_with(
        harness,
        &traceparent("00", &zero_trace, &"0".repeat(16), "01"),
    );
}

pub(crate) fn blanks_around_traceparent_are_ignored(harness: &Harness) {
    // The whole stack: hyper already strips blanks around a field value, so observe's own
    // trimming (for values that come another way) is held by its unit tests.
    let tp = valid();
    for value in [
        format!(" {tp}"),
        format!("\t{tp}"),
        format!("{tp} "),
        format!("{tp}\t"),
        format!("\t {tp} \t"),
        format!("   {tp}   "),
    ] {
        harness
            .send(&[("traceparent", &value)], 1)
            .continues(TRACE, PARENT, true);
    }
}

pub(crate) fn a_repeated_traceparent_starts_a_new_trace(harness: &Harness) {
    let tp = valid();
    let other_trace = "1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60";
    let other = traceparent("00", other_trace, PARENT, "01");
    let invalid = traceparent("00", &TRACE[..31], PARENT, "01");
    for fields in [
        vec![("traceparent", tp.as_str()), ("traceparent", tp.as_str())],
        vec![
            ("traceparent", tp.as_str()),
            ("traceparent", other.as_str()),
        ],
        vec![
            ("traceparent", tp.as_str()),
            ("traceparent", invalid.as_str()),
        ],
        vec![
            ("traceparent", invalid.as_str()),
            ("traceparent", tp.as_str()),
        ],
        // Field names are case-insensitive: this is the same field twice.
        vec![("traceparent", tp.as_str()), ("TraceParent", tp.as_str())],
        // Apart, with another field between them; the `tracestate` goes with the trace.
        vec![
            ("traceparent", tp.as_str()),
            ("tracestate", "k=v"),
            ("traceparent", other.as_str()),
        ],
    ] {
        harness.send(&fields, 1).restarts(&[TRACE, other_trace]);
    }
    // Two values in one field, as a proxy that joins repeated fields would send them.
    restarts_with(harness, &format!("{tp}, {other}"));
    restarts_with(harness, &format!("{tp},{tp}"));
}

pub(crate) fn header_names_are_case_insensitive(harness: &Harness) {
    let tp = valid();
    for name in ["TraceParent", "TRACEPARENT", "tRACEpARENT"] {
        harness
            .send(&[(name, &tp)], 1)
            .continues(TRACE, PARENT, true);
    }
    for name in ["TraceState", "TRACESTATE", "tRaCeStAtE"] {
        let exchange = harness.send(&[("traceparent", &tp), (name, "k=v")], 1);
        exchange.continues(TRACE, PARENT, true);
        assert_eq!(exchange.tracestate(), Some("k=v"), "{name}");
    }
}

pub(crate) fn other_header_names_are_not_read(harness: &Harness) {
    let tp = valid();
    for name in [
        "trace-parent",
        "trace_parent",
        "trace.parent",
        "traceparents",
        "x-traceparent",
    ] {
        harness.send(&[(name, &tp)], 1).restarts(&[TRACE]);
    }
    for name in ["trace-state", "trace_state", "trace.state", "tracestates"] {
        let exchange = harness.send(&[("traceparent", &tp), (name, "k=v")], 1);
        exchange.continues(TRACE, PARENT, true);
        assert_eq!(exchange.tracestate(), None, "{name}");
    }
}

pub(crate) fn tracestate_is_passed_on_with_the_trace(harness: &Harness) {
    let list = "shop=9f2,ledger@acme=x:1/y,z=  spaced value";
    let exchange = with_tracestate(harness, &[list]);
    assert_eq!(exchange.tracestate(), Some(list));
    // Exported whole too (with export on, `continues` held the exported spans to this).
    assert_eq!(exchange.exported_tracestate(), list);

    // With an unsampled trace too.
    let exchange = harness.send(
        &[
            ("traceparent", &traceparent("00", TRACE, PARENT, "00")),
            ("tracestate", "shop=9f2"),
        ],
        1,
    );
    exchange.continues(TRACE, PARENT, false);
    assert_eq!(exchange.tracestate(), Some("shop=9f2"));
}

pub(crate) fn tracestate_without_a_valid_traceparent_is_dropped(harness: &Harness) {
    let tp = valid();
    let invalid = traceparent("00", TRACE, PARENT, "1");
    for fields in [
        vec![("tracestate", "k=v")],
        vec![("tracestate", "k=v,j=w")],
        vec![("trace-parent", tp.as_str()), ("tracestate", "k=v")],
        vec![("traceparent", invalid.as_str()), ("tracestate", "k=v")],
    ] {
        harness.send(&fields, 1).restarts(&[TRACE]);
    }
}

pub(crate) fn tracestate_fields_are_combined_in_order(harness: &Harness) {
    let exchange = with_tracestate(harness, &["a=1,b=2", "c=3,d=4", "e=5"]);
    assert_eq!(exchange.tracestate(), Some("a=1,b=2,c=3,d=4,e=5"));

    // Fields named in different casing are one field, repeated.
    let tp = valid();
    let exchange = harness.send(
        &[
            ("TraceState", "z=1"),
            ("traceparent", &tp),
            ("tracestate", "y=2"),
            ("TRACESTATE", "x=3"),
        ],
        1,
    );
    exchange.continues(TRACE, PARENT, true);
    assert_eq!(exchange.tracestate(), Some("z=1,y=2,x=3"));
}

pub(crate) fn every_allowed_tracestate_character_passes(harness: &Harness) {
    let key: String = ('a'..='z')
        .chain('0'..='9')
        .chain(['_', '-', '*', '/'])
        .collect();
    // Printable ASCII but `,` and `=`; a space anywhere but at the end.
    let value: String = (0x20u8..=0x7e)
        .filter(|&b| b != b',' && b != b'=')
        .map(char::from)
        .collect();
    for member in [
        format!("{key}={value}"),
        format!("{key}@vendor_-*/09={value}"),
        format!("first=1,{key}={value},last=2"),
    ] {
        assert_eq!(
            with_tracestate(harness, &[&member]).tracestate(),
            Some(member.as_str())
        );
    }
}

pub(crate) fn blanks_and_empty_members_in_tracestate_are_dropped(harness: &Harness) {
    for field in [
        "a=1 ,b=2",
        "a=1, b=2",
        "a=1 \t , \t b=2",
        "a=1\t,\tb=2",
        " \ta=1,b=2\t ",
        "a=1,,b=2",
        "a=1, ,b=2",
        ",a=1,b=2,",
    ] {
        assert_eq!(
            with_tracestate(harness, &[field]).tracestate(),
            Some("a=1,b=2"),
            "{field:?}"
        );
    }
}

pub(crate) fn vendor_keys_pass_and_a_key_starting_with_at_drops_the_list(harness: &Harness) {
    for key in [
        "tenant@system",
        "t@s",
        "acme1@ops_-*/2",
        "ab@",
        "ab@@cd",
        "ab@cd@ef",
    ] {
        let list = format!("{key}=1,other=2");
        assert_eq!(
            with_tracestate(harness, &[&list]).tracestate(),
            Some(list.as_str())
        );
    }
    for list in ["@system=1,other=2", "other=2,@=1"] {
        assert_eq!(
            with_tracestate(harness, &[list]).tracestate(),
            None,
            "{list}"
        );
    }
}

pub(crate) fn tracestate_key_and_value_length_limits(harness: &Harness) {
    let key_256 = "k".repeat(256);
    let vendor_key_256 = format!("{}@{}", "t".repeat(241), "s".repeat(14));
    let value_256 = "v".repeat(256);
    for member in [
        format!("{key_256}=1"),
        format!("{vendor_key_256}=1"),
        format!("k={value_256}"),
    ] {
        let exchange = with_tracestate(harness, &["first=1", &member]);
        assert_eq!(
            exchange.tracestate(),
            Some(format!("first=1,{member}").as_str())
        );
    }
    for member in [
        format!("k{key_256}=1"),
        format!("t{vendor_key_256}=1"),
        format!("k=v{value_256}"),
    ] {
        let exchange = with_tracestate(harness, &["first=1", &member]);
        assert_eq!(exchange.tracestate(), None, "{:.20}…", member);
    }
}

pub(crate) fn thirty_two_members_pass_and_thirty_three_drop_the_list(harness: &Harness) {
    let members: Vec<String> = (1..=33).map(|i| format!("m{i}={i}")).collect();
    // In four fields, as 10 + 10 + 10 + the rest.
    let fields = |n: usize| -> Vec<String> {
        members[..n]
            .chunks(10)
            .map(|chunk| chunk.join(","))
            .collect()
    };
    let thirty_two = fields(32);
    let thirty_two: Vec<&str> = thirty_two.iter().map(String::as_str).collect();
    assert_eq!(
        with_tracestate(harness, &thirty_two).tracestate(),
        Some(members[..32].join(",").as_str())
    );
    let thirty_three = fields(33);
    let thirty_three: Vec<&str> = thirty_three.iter().map(String::as_str).collect();
    assert_eq!(with_tracestate(harness, &thirty_three).tracestate(), None);
}

pub(crate) fn an_invalid_member_drops_the_whole_tracestate(harness: &Harness) {
    for member in [
        "Upper=1",
        "k =1",
        "k.x=1",
        "1k!=1",
        "k=v=w",
        "k=",
        "k",
        "=v",
        "k=tab\tinside",
        "k=é",
    ] {
        // Alone, after a valid member in the same field, and in a field of its own.
        assert_eq!(
            with_tracestate(harness, &[member]).tracestate(),
            None,
            "{member:?}"
        );
        assert_eq!(
            with_tracestate(harness, &[&format!("ok=1,{member}")]).tracestate(),
            None,
            "{member:?}"
        );
        assert_eq!(
            with_tracestate(harness, &["ok=1", member]).tracestate(),
            None,
            "{member:?}"
        );
    }
}

pub(crate) fn a_repeated_tracestate_key_keeps_its_first_member(harness: &Harness) {
    for (fields, passed) in [
        (&["k=1,k=2"][..], "k=1"),
        (&["k=1,k=1"][..], "k=1"),
        (&["k=1", "k=2"][..], "k=1"),
        (&["k=1,j=2", "j=3,k=4,i=5"][..], "k=1,j=2,i=5"),
    ] {
        assert_eq!(
            with_tracestate(harness, fields).tracestate(),
            Some(passed),
            "{fields:?}"
        );
    }
}

pub(crate) fn an_empty_tracestate_is_never_sent(harness: &Harness) {
    for (fields, passed) in [
        (&[""][..], None),
        (&[" "][..], None),
        (&[","][..], None),
        (&[" , \t, "][..], None),
        (&["", ""][..], None),
        (&["", "a=1"][..], Some("a=1")),
        (&["a=1", ""][..], Some("a=1")),
        (&["a=1", "", "b=2"][..], Some("a=1,b=2")),
    ] {
        // `check_calls` holds every call to no empty `tracestate` field.
        assert_eq!(
            with_tracestate(harness, fields).tracestate(),
            passed,
            "{fields:?}"
        );
    }
}

pub(crate) fn several_calls_share_one_trace_with_distinct_parents(harness: &Harness) {
    // `check_calls` holds each call to the request's trace and to its own parent id.
    let distinct = |exchange: &Exchange<'_>| {
        let mut ids = exchange.parent_ids();
        ids.sort();
        ids.dedup();
        ids.len()
    };

    let tp = valid();
    let continued = harness.send(&[("traceparent", &tp), ("tracestate", "k=v")], 3);
    continued.continues(TRACE, PARENT, true);
    assert_eq!(distinct(&continued), 3);
    assert_eq!(continued.tracestate(), Some("k=v"));

    let fresh = harness.send(&[], 3);
    fresh.restarts(&[TRACE]);
    assert_eq!(distinct(&fresh), 3);

    let zero_trace = "0".repeat(32);
    let refused = harness.send(
        &[("traceparent", &traceparent("00", &zero_trace, PARENT, "01"))],
        3,
    );
    refused.restarts(&[&zero_trace]);
    assert_eq!(distinct(&refused), 3);
}

/// Trace Context Level 2: a caller's `random-trace-id` flag goes on with its trace id,
/// and only then (the W3C suite's `test_propagates_random_flag`).
pub(crate) fn the_random_flag_is_kept(harness: &Harness) {
    for (sent, kept) in [("02", "02"), ("03", "03"), ("01", "01"), ("00", "00")] {
        let tp = traceparent("00", TRACE, PARENT, sent);
        let exchange = harness.send(&[("traceparent", tp.as_str())], 1);
        exchange.continues(TRACE, PARENT, sent.ends_with(['1', '3']));
        assert_eq!(exchange.traceparent(0).flags, kept, "{tp}");
    }
}
