//! The song store: an in-memory table behind `#[observe]`d methods, standing in for the
//! article's database client.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use observe::observe;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct Song {
    pub title: String,
    pub artist: String,
}

/// What the store records: its kind becomes the `event_type` label.
pub(crate) struct Event<'a> {
    pub kind: EventKind,
    pub song: &'a Song,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum EventKind {
    SongCreated,
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventKind::SongCreated => "song_created",
        })
    }
}

#[derive(Debug)]
pub(crate) struct StorageError(String);

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage failed: {}", self.0)
    }
}

impl std::error::Error for StorageError {}

pub(crate) struct Repository {
    table: &'static str,
    songs: Mutex<HashMap<u64, Song>>,
    next_id: AtomicU64,
}

impl Repository {
    pub(crate) fn new(table: &'static str) -> Self {
        Repository {
            table,
            songs: Mutex::default(),
            next_id: AtomicU64::new(1),
        }
    }

    #[observe(
        metric = "db_event",
        labels(event_table = self.table, event_type = %event.kind),
        otel_kind = "client",
        skip(self, event),
        err
    )]
    pub(crate) async fn save_event(&self, event: &Event<'_>) -> Result<u64, StorageError> {
        // The stand-in for a constraint the real database would enforce.
        if event.song.title == "crash" {
            return Err(StorageError(format!(
                "title {:?} is rejected",
                event.song.title
            )));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        tracing::info!(song_id = id, "stored");
        self.songs
            .lock()
            .expect("songs lock")
            .insert(id, event.song.clone());
        Ok(id)
    }

    #[observe(
        metric = "db_event",
        labels(event_table = self.table, event_type = "select"),
        otel_kind = "client",
        skip(self)
    )]
    pub(crate) async fn find(&self, id: u64) -> Option<Song> {
        self.songs.lock().expect("songs lock").get(&id).cloned()
    }
}
