//! The traffic the scenarios drive through songs: created songs, failed stores, found and
//! missing songs, and one request that continues a caller's trace; and what it must count.

use std::net::SocketAddr;

use crate::support::http;

/// The caller's trace that the first `POST /songs` continues.
pub(crate) const INCOMING_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub(crate) const INCOMING_PARENT: &str = "00f067aa0ba902b7";

/// `(http.route, method, status, requests)` once [`mixed`] ran and every vendor look-up it
/// spawned finished: two look-ups (two calls to the vendor route) per created song.
pub(crate) const REQUESTS: [(&str, &str, &str, u64); 5] = [
    ("/songs", "POST", "201", 5),
    ("/songs", "POST", "500", 2),
    ("/songs/{id}", "GET", "200", 3),
    ("/songs/{id}", "GET", "404", 4),
    ("/vendors/{vendor}/offers", "GET", "200", 10),
];

/// The vendor look-ups [`mixed`] spawns: two per created song.
pub(crate) const LOOKUPS: u64 = 10;

/// Sends the traffic of [`REQUESTS`], asserting each answer; the first song continues
/// [`INCOMING_TRACE`].
pub(crate) fn mixed(app: SocketAddr) {
    let json = [("content-type", "application/json")];
    let traceparent = format!("00-{INCOMING_TRACE}-{INCOMING_PARENT}-01");
    let traced = [
        ("content-type", "application/json"),
        ("traceparent", traceparent.as_str()),
    ];
    let blue = r#"{"title":"Blue","artist":"Joni"}"#;
    assert_eq!(http(app, "POST", "/songs", &traced, blue).0, 201);
    for title in ["Hejira", "Amelia", "Coyote", "Refuge"] {
        let body = format!(r#"{{"title":"{title}","artist":"Joni"}}"#);
        assert_eq!(http(app, "POST", "/songs", &json, &body).0, 201);
    }
    let crash = r#"{"title":"crash","artist":"x"}"#;
    for _ in 0..2 {
        assert_eq!(http(app, "POST", "/songs", &json, crash).0, 500);
    }
    for id in [1, 2, 3] {
        assert_eq!(http(app, "GET", &format!("/songs/{id}"), &[], "").0, 200);
    }
    for id in [404, 405, 406, 407] {
        assert_eq!(http(app, "GET", &format!("/songs/{id}"), &[], "").0, 404);
    }
}
