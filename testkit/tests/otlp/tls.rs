//! TLS refusals: a client that trusts another CA fails the handshake, and a mutual-TLS
//! receiver refuses a client with no certificate or one signed by another CA. In each case
//! nothing is received, and the receiver records why.

use std::time::Duration;

use observe_testkit::otlp::{Counts, Receiver, TlsMode, Transport};

use crate::clients::{ClientTls, export_all};

const WAIT: Duration = Duration::from_secs(10);

/// Exports with `tls` and expects a refusal; returns the client's error and the receiver's
/// TLS errors.
async fn refused(
    transport: Transport,
    mode: TlsMode,
    tls: impl Fn(&Receiver) -> ClientTls,
) -> (String, Vec<String>) {
    let receiver = Receiver::builder(transport).tls(mode).start().unwrap();
    let client = tls(&receiver);
    let error = export_all(transport, &receiver.endpoint(), Some(&client))
        .await
        .expect_err("the export must fail");
    assert!(
        receiver.wait_until(WAIT, |r| r.counts().tls_handshake_failures > 0),
        "{transport:?} {mode:?}: the receiver saw no failed handshake; client said {error}"
    );
    let counts = receiver.counts();
    assert_eq!(
        Counts {
            tls_handshake_failures: 0,
            ..counts
        },
        Counts::default(),
        "{transport:?} {mode:?}: nothing may be received"
    );
    (error, receiver.tls_errors())
}

fn untrusted_ca(receiver: &Receiver) -> ClientTls {
    let files = receiver.tls_files().unwrap();
    ClientTls {
        trust: files.untrusted_ca_certificate().to_owned(),
        identity: None,
    }
}

fn no_client_certificate(receiver: &Receiver) -> ClientTls {
    ClientTls::trusting(receiver.tls_files().unwrap())
}

fn untrusted_client_certificate(receiver: &Receiver) -> ClientTls {
    let files = receiver.tls_files().unwrap();
    ClientTls {
        identity: Some((
            files.untrusted_client_certificate().to_owned(),
            files.untrusted_client_key().to_owned(),
        )),
        ..ClientTls::trusting(files)
    }
}

#[tokio::test]
async fn a_client_trusting_another_ca_fails_the_handshake() {
    for transport in [Transport::Grpc, Transport::HttpProtobuf] {
        let (client_error, server_errors) = refused(transport, TlsMode::Tls, untrusted_ca).await;
        assert!(
            client_error.contains("UnknownIssuer"),
            "{transport:?}: the client rejects the server certificate: {client_error}"
        );
        assert!(
            server_errors.iter().any(|e| e.contains("UnknownCA")),
            "{transport:?}: the server hears the client's alert: {server_errors:?}"
        );
    }
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_certificate() {
    for transport in [Transport::Grpc, Transport::HttpProtobuf] {
        let (client_error, server_errors) =
            refused(transport, TlsMode::MutualTls, no_client_certificate).await;
        assert!(
            server_errors.iter().any(|e| e.contains("no certificates")),
            "{transport:?}: {server_errors:?} (client said {client_error})"
        );
    }
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_certificate_from_another_ca() {
    for transport in [Transport::Grpc, Transport::HttpProtobuf] {
        let (client_error, server_errors) =
            refused(transport, TlsMode::MutualTls, untrusted_client_certificate).await;
        assert!(
            server_errors.iter().any(|e| e.contains("UnknownIssuer")),
            "{transport:?}: {server_errors:?} (client said {client_error})"
        );
    }
}

/// Server-only TLS asks for no certificate, so the same client is welcome there: the
/// refusal above is the mutual mode's doing.
#[tokio::test]
async fn server_tls_accepts_a_client_without_a_certificate() {
    for transport in [Transport::Grpc, Transport::HttpProtobuf] {
        let receiver = Receiver::builder(transport)
            .tls(TlsMode::Tls)
            .start()
            .unwrap();
        let tls = no_client_certificate(&receiver);
        export_all(transport, &receiver.endpoint(), Some(&tls))
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: {e}"));
        assert_eq!(receiver.counts().trace_requests, 1);
    }
}

#[tokio::test]
async fn a_plaintext_client_cannot_talk_to_a_tls_receiver() {
    for transport in [Transport::Grpc, Transport::HttpProtobuf] {
        let receiver = Receiver::builder(transport)
            .tls(TlsMode::Tls)
            .start()
            .unwrap();
        let plain = format!("http://{}", receiver.addr());
        assert!(
            export_all(transport, &plain, None).await.is_err(),
            "{transport:?}"
        );
        assert!(
            receiver.wait_until(WAIT, |r| r.counts().tls_handshake_failures > 0),
            "{transport:?}"
        );
        assert_eq!(receiver.counts().trace_requests, 0);
    }
}
