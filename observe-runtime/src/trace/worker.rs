//! The export thread: takes batches from the [`Queue`], turns records into OpenTelemetry
//! spans and hands them to the exporter, on the pipeline's own tokio runtime.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanExporter;

use super::convert::span_data;
use crate::config::SpanLimits;
use crate::losses::ExportFailures;
use crate::otlp::queue::Queue;

/// How the worker batches and times exports (`OTEL_BSP_*`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    /// Longest wait before a partial batch is exported (`OTEL_BSP_SCHEDULE_DELAY`).
    pub(crate) delay: Duration,
    /// Longest one export may take (`OTEL_BSP_EXPORT_TIMEOUT`).
    pub(crate) export_timeout: Duration,
}

pub(crate) struct Worker<E> {
    pub(crate) queue: Arc<Queue<crate::context::SpanRecord>>,
    pub(crate) exporter: E,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) schedule: Schedule,
    pub(crate) limits: SpanLimits,
    pub(crate) scope: InstrumentationScope,
    pub(crate) failures: Arc<ExportFailures>,
}

impl<E: SpanExporter> Worker<E> {
    /// Exports until the queue is closed and empty, then shuts the exporter down; returns
    /// how many spans the exports after closing lost (the ones shutdown was waiting for).
    pub(crate) fn run(self) -> u64 {
        let mut lost_at_close = 0;
        let mut taken = Vec::with_capacity(self.queue.batch);
        loop {
            let closing = self.queue.closing.load(Ordering::Acquire);
            if !closing && self.queue.len() < self.queue.batch {
                thread::park_timeout(self.schedule.delay);
            }
            let flush = self.queue.flush_requests();
            let closing = self.queue.closing.load(Ordering::Acquire);
            self.queue.take_batches(&mut taken, |batch| {
                let lost = self.export(batch);
                if closing {
                    lost_at_close += lost;
                }
            });
            self.queue.flushed(flush);
            if closing && self.queue.len() == 0 {
                break;
            }
        }
        let _ = self
            .exporter
            .shutdown_with_timeout(self.schedule.export_timeout);
        self.runtime.shutdown_timeout(Duration::from_secs(1));
        lost_at_close
    }

    /// Exports one batch; returns how many spans were lost (all of them, when it failed).
    fn export(&self, records: Vec<crate::context::SpanRecord>) -> u64 {
        let count = records.len();
        let batch = records
            .into_iter()
            .map(|record| span_data(record, &self.scope, &self.limits))
            .collect();
        let timeout = self.schedule.export_timeout;
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, self.exporter.export(batch)).await });
        match result {
            Ok(Ok(())) => {
                self.failures.succeeded();
                return 0;
            }
            Ok(Err(error)) => self.failures.failed(count, &error),
            Err(_) => self.failures.failed(
                count,
                &format_args!("no answer within {timeout:?} (OTEL_BSP_EXPORT_TIMEOUT)"),
            ),
        }
        count as u64
    }
}
