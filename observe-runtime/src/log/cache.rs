//! What the log signal keeps in a span's record between its lines: the encoding of the
//! span's own fields (written with the open line, copied into the close line) and of the
//! context its events inherit (made at the first event, copied by the next ones).

/// Names an [`EncodedContext`] holds at most (more are not cached).
pub(crate) const CONTEXT_NAMES: usize = 8;

/// Bytes of encoded fields a record keeps (longer encodings are not kept).
pub(crate) const ENCODED_FIELDS: usize = 118;

/// The log signal's part of a span record.
#[derive(Debug, Default)]
pub(crate) struct SpanLogCache {
    pub(crate) encoded_fields: EncodedFields,
    pub(crate) event_context: Option<Box<EncodedContext>>,
}

impl SpanLogCache {
    /// A field of the span changed: its encoding is stale.
    #[inline]
    pub(crate) fn fields_changed(&mut self) {
        self.encoded_fields.format = 0;
    }
}

/// A span's event context as one log format encodes it.
#[derive(Debug)]
pub(crate) struct EncodedContext {
    pub(crate) format: u8,
    /// The [`fields_generation`](crate::context::fields_generation) it was made at.
    pub(crate) generation: u64,
    /// The field names written, so that an event with a field of the same name (which
    /// must win) is told apart.
    pub(crate) names: [&'static str; CONTEXT_NAMES],
    pub(crate) name_count: usize,
    pub(crate) bytes: Box<[u8]>,
}

impl EncodedContext {
    /// The field names written.
    pub(crate) fn names(&self) -> &[&'static str] {
        &self.names[..self.name_count]
    }
}

/// A span's own fields as one log format encodes them.
#[derive(Debug)]
pub(crate) struct EncodedFields {
    /// Which format wrote `bytes`; 0: none (nothing kept, or a field changed since).
    pub(crate) format: u8,
    pub(crate) len: u8,
    pub(crate) bytes: [u8; ENCODED_FIELDS],
}

impl Default for EncodedFields {
    fn default() -> Self {
        EncodedFields {
            format: 0,
            len: 0,
            bytes: [0; ENCODED_FIELDS],
        }
    }
}

impl EncodedFields {
    /// The bytes `format` wrote, if these are they.
    #[inline]
    pub(crate) fn get(&self, format: u8) -> Option<&[u8]> {
        (self.format == format && format != 0).then(|| &self.bytes[..usize::from(self.len)])
    }

    /// Keeps `bytes` as `format`'s encoding, when they fit.
    #[inline]
    pub(crate) fn set(&mut self, format: u8, bytes: &[u8]) {
        if let Some(dest) = self.bytes.get_mut(..bytes.len()) {
            dest.copy_from_slice(bytes);
            self.len = bytes.len() as u8;
            self.format = format;
        }
    }
}
