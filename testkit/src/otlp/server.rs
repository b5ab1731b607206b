//! The receiver's thread: its own tokio runtime, an accept loop that makes each TCP
//! connection plaintext or TLS, and the gRPC or HTTP server fed from it.
//!
//! The accept loop is ours, not tonic's or axum's, so both transports share one TLS setup
//! (and one record of failed handshakes): handshakes run in their own tasks and finished
//! connections reach the server through a channel.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use super::Transport;
use super::store::Store;
use super::{grpc, http};

/// A client that opens a connection and never finishes its handshake gives up its slot
/// after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The receiver's running thread and the way to stop it.
pub(crate) struct Running {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops the server and joins its thread; open connections are dropped.
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts serving `transport` on `listener` in a new thread.
pub(crate) fn spawn(
    listener: std::net::TcpListener,
    transport: Transport,
    tls: Option<Arc<ServerConfig>>,
    store: Arc<Store>,
) -> io::Result<Running> {
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("otlp-receiver-{}", local.port()))
        .spawn(move || {
            // The receiver's own h2/hyper/tonic/rustls telemetry must not reach the
            // application's (global) subscriber under test.
            let _quiet = tracing::dispatcher::set_default(&tracing::Dispatch::none());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                let serving = async move {
                    match tls {
                        None => run(listener, Plain, transport, store).await,
                        Some(config) => {
                            run(listener, TlsAcceptor::from(config), transport, store).await
                        }
                    }
                };
                tokio::select! {
                    _ = serving => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime drops every connection and handshake task still open.
        })?;
    Ok(Running {
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// Turns an accepted TCP stream into the stream the server reads.
trait Handshake: Clone + Send + Sync + 'static {
    type Io: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static;
    fn handshake(&self, tcp: TcpStream) -> impl Future<Output = io::Result<Self::Io>> + Send;
}

#[derive(Clone)]
struct Plain;

impl Handshake for Plain {
    type Io = TcpStream;
    async fn handshake(&self, tcp: TcpStream) -> io::Result<TcpStream> {
        Ok(tcp)
    }
}

impl Handshake for TlsAcceptor {
    type Io = TlsStream<TcpStream>;
    async fn handshake(&self, tcp: TcpStream) -> io::Result<TlsStream<TcpStream>> {
        self.accept(tcp).await
    }
}

async fn run<H: Handshake>(
    listener: TcpListener,
    handshake: H,
    transport: Transport,
    store: Arc<Store>,
) {
    let local = listener
        .local_addr()
        .expect("bound listener has an address");
    let (connections, incoming) = mpsc::channel(64);
    let accepting = accept(listener, handshake, connections, store.clone());
    let serving = async move {
        match transport {
            Transport::Grpc => {
                let incoming = ReceiverStream::new(incoming).map(|(io, _peer)| Ok(io));
                grpc::serve(store, incoming).await
            }
            Transport::HttpProtobuf => http::serve(store, Accepted { incoming, local }).await,
        }
    };
    tokio::join!(accepting, serving);
}

async fn accept<H: Handshake>(
    listener: TcpListener,
    handshake: H,
    connections: mpsc::Sender<(H::Io, SocketAddr)>,
    store: Arc<Store>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: a later accept may succeed, and retrying
            // at once would spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // OTLP requests are small writes answered at once; Nagle would hold them back.
        let _ = tcp.set_nodelay(true);
        let handshake = handshake.clone();
        let connections = connections.clone();
        let store = store.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake.handshake(tcp)).await {
                Ok(Ok(io)) => {
                    // Fails only when the server is gone, i.e. the receiver is stopping.
                    let _ = connections.send((io, peer)).await;
                }
                Ok(Err(error)) => store.tls_failure(format!("{peer}: {error}")),
                Err(_) => {
                    store.tls_failure(format!("{peer}: no handshake within {HANDSHAKE_TIMEOUT:?}"))
                }
            }
        });
    }
}

/// The finished connections, as an axum listener.
struct Accepted<Io> {
    incoming: mpsc::Receiver<(Io, SocketAddr)>,
    local: SocketAddr,
}

impl<Io> axum::serve::Listener for Accepted<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Io = Io;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Io, SocketAddr) {
        match self.incoming.recv().await {
            Some(connection) => connection,
            // The accept loop never ends before the server does; if it did, wait for stop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
