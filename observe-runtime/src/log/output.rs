//! [`LogOutput`]: where the log signal writes, in which format, and which span lines.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use tracing_core::Event;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::json::JsonEncoder;
use super::line::{event_line, format_tag, span_line};
use super::logfmt::LogfmtEncoder;
use super::writer::LineSink;
use crate::context::SpanRecord;

/// How log lines are encoded (`OBSERVE_LOG_FORMAT`).
///
/// ```
/// use observe_runtime::log::LogFormat;
///
/// assert_eq!(LogFormat::default(), LogFormat::Logfmt);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs, the default.
    #[default]
    Logfmt,
    /// One JSON object per line, same keys in the same order.
    Json,
}

/// Which span lines are written (`OBSERVE_SPAN_LINES`); event lines always are.
///
/// ```
/// use observe_runtime::log::SpanLines;
///
/// assert_eq!(SpanLines::default(), SpanLines::OpenClose);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpanLines {
    /// A `new_span` line when a span opens and a `close_span` line when it closes.
    #[default]
    OpenClose,
    /// Only the `close_span` line, which carries every field the open line would have, and
    /// the latency: half the volume.
    Close,
    /// No span lines: events only.
    Off,
}

/// Where log lines go, and how they are written: a [`LineSink`] (usually the non-blocking
/// stdout writer), a [`LogFormat`] and the [`SpanLines`] choice. Give it to
/// [`Signals::builder`](crate::Signals::builder).
///
/// ```
/// use observe_runtime::log::{LogFormat, LogOutput, SpanLines, writer::MemorySink};
///
/// let sink = MemorySink::new();
/// let output = LogOutput::new(sink.clone())
///     .with_format(LogFormat::Json)
///     .with_span_lines(SpanLines::Close);
/// # drop(output);
/// ```
pub struct LogOutput {
    /// Lines, and their format; `None` when the log signal only sends OTLP records.
    lines: Option<(Arc<dyn LineSink>, LogFormat)>,
    /// OTLP log records, when they are exported.
    #[cfg(feature = "otlp")]
    records: Option<super::records::LogRecordSink>,
    span_lines: SpanLines,
}

impl fmt::Debug for LogOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogOutput")
            .field("format", &self.lines.as_ref().map(|(_, format)| format))
            .field("span_lines", &self.span_lines)
            .finish_non_exhaustive()
    }
}

impl LogOutput {
    /// Logfmt lines, open and close lines for every span, written to `sink`.
    pub fn new(sink: impl LineSink) -> Self {
        LogOutput {
            lines: Some((Arc::new(sink), LogFormat::Logfmt)),
            #[cfg(feature = "otlp")]
            records: None,
            span_lines: SpanLines::OpenClose,
        }
    }

    /// No lines, only OTLP log records into `sink` (from
    /// [`LogExport::sink`](super::LogExport::sink)): what `OBSERVE_LOG_FORMAT=off` with
    /// `OTEL_LOGS_EXPORTER=otlp` gives.
    #[cfg(feature = "otlp")]
    pub fn records_only(sink: super::records::LogRecordSink) -> Self {
        LogOutput {
            lines: None,
            records: Some(sink),
            span_lines: SpanLines::OpenClose,
        }
    }

    /// Also sends every line as an OTLP log record into `sink`.
    #[cfg(feature = "otlp")]
    pub fn with_records(mut self, sink: super::records::LogRecordSink) -> Self {
        self.records = Some(sink);
        self
    }

    /// Chooses the line format.
    pub fn with_format(mut self, format: LogFormat) -> Self {
        if let Some((_, current)) = &mut self.lines {
            *current = format;
        }
        self
    }

    /// Chooses which span lines are written.
    pub fn with_span_lines(mut self, span_lines: SpanLines) -> Self {
        self.span_lines = span_lines;
        self
    }

    /// Builds one line in the thread's reused buffer and hands it to the sink.
    fn emit(sink: &dyn LineSink, build: impl FnOnce(&mut Vec<u8>)) {
        // One buffer per thread, reused; a value whose Debug impl logs re-enters here
        // and gets a fresh buffer rather than a panic.
        BUFFER.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => {
                buffer.clear();
                build(&mut buffer);
                sink.write_line(&buffer);
            }
            Err(_) => {
                let mut buffer = Vec::with_capacity(256);
                build(&mut buffer);
                sink.write_line(&buffer);
            }
        });
    }

    /// The `new_span` line, if open lines are written; keeps the encoding of the span's own
    /// fields in its record for the close line. `span` gives the ancestors; `record` is the
    /// span's own (not yet in its extensions).
    pub(crate) fn open_line<'a, R: LookupSpan<'a>>(
        &self,
        span: &SpanRef<'a, R>,
        record: &mut SpanRecord,
    ) {
        if self.span_lines != SpanLines::OpenClose {
            return;
        }
        fn open<'a, F: super::encode::Format, R: LookupSpan<'a>>(
            out: &mut Vec<u8>,
            span: &SpanRef<'a, R>,
            record: &mut SpanRecord,
        ) {
            let own = span_line::<F, R>(out, span, record, false);
            record.log.encoded_fields.set(format_tag::<F>(), &out[own]);
        }
        #[cfg(feature = "otlp")]
        if let Some(records) = &self.records {
            records.span_line(span, record, false);
        }
        match &self.lines {
            Some((sink, LogFormat::Logfmt)) => {
                Self::emit(&**sink, |out| open::<LogfmtEncoder, R>(out, span, record))
            }
            Some((sink, LogFormat::Json)) => {
                Self::emit(&**sink, |out| open::<JsonEncoder, R>(out, span, record))
            }
            None => {}
        }
    }

    /// The `close_span` line, if close lines are written.
    #[inline] // as `event_line`
    pub(crate) fn close_line<'a, R: LookupSpan<'a>>(
        &self,
        span: &SpanRef<'a, R>,
        record: &SpanRecord,
    ) {
        if self.span_lines == SpanLines::Off {
            return;
        }
        #[cfg(feature = "otlp")]
        if let Some(records) = &self.records {
            records.span_line(span, record, true);
        }
        match &self.lines {
            Some((sink, LogFormat::Logfmt)) => Self::emit(&**sink, |out| {
                span_line::<LogfmtEncoder, R>(out, span, record, true);
            }),
            Some((sink, LogFormat::Json)) => Self::emit(&**sink, |out| {
                span_line::<JsonEncoder, R>(out, span, record, true);
            }),
            None => {}
        }
    }

    /// An event's line, with the context of `span` (the event's span) when it has one.
    // Inlined into the layer's `on_event` (40 instructions an event less than a call); left
    // to LLVM's heuristics it is or is not, depending on how the crate falls into codegen
    // units.
    #[inline]
    pub(crate) fn event_line<'a, R: LookupSpan<'a>>(
        &self,
        event: &Event<'_>,
        span: Option<&SpanRef<'a, R>>,
    ) {
        #[cfg(feature = "otlp")]
        if let Some(records) = &self.records {
            records.event(event, span);
        }
        match &self.lines {
            Some((sink, LogFormat::Logfmt)) => Self::emit(&**sink, |out| {
                event_line::<LogfmtEncoder, R>(out, event, span)
            }),
            Some((sink, LogFormat::Json)) => Self::emit(&**sink, |out| {
                event_line::<JsonEncoder, R>(out, event, span)
            }),
            None => {}
        }
    }
}

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}
