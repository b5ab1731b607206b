//! OTLP/gRPC: `TraceService`, `MetricsService` and `LogsService` on one tonic server.

use std::io;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_stream::Stream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::http::header_pairs;
use super::store::{Signal, Store};

/// Serves the three export services on every connection `incoming` yields, until the
/// stream ends or the task is dropped.
pub(crate) async fn serve<S, IO>(store: Arc<Store>, incoming: S)
where
    S: Stream<Item = Result<IO, io::Error>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    let export = Export(store);
    // tonic's default 4 MiB message limit stays: it is the collector's default too.
    // An error here means the incoming stream failed; the receiver's thread ends with it and
    // the test sees its exports go unanswered.
    let _ = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(export.clone()))
        .add_service(MetricsServiceServer::new(export.clone()))
        .add_service(LogsServiceServer::new(export))
        .serve_with_incoming(incoming)
        .await;
}

#[derive(Clone)]
struct Export(Arc<Store>);

impl Export {
    fn receive<R: Signal>(&self, request: Request<R>) -> Response<R::Response> {
        let headers = header_pairs(request.metadata().as_ref());
        self.0.push(headers, request.into_inner());
        Response::new(R::Response::default())
    }
}

#[tonic::async_trait]
impl TraceService for Export {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        Ok(self.receive(request))
    }
}

#[tonic::async_trait]
impl MetricsService for Export {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        Ok(self.receive(request))
    }
}

#[tonic::async_trait]
impl LogsService for Export {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        Ok(self.receive(request))
    }
}
