//! Long work in progress on this server (a bill being imported), by the id its page chose, so
//! that the page can poll how far it has come. Shared state: below the features that use it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// How far one piece of work has come, for a progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes of the file read (as sent: compressed when it is gzip).
    pub bytes: AtomicU64,
    pub rows: AtomicU64,
    /// Every row is read; the import is being committed.
    pub saving: AtomicBool,
}

/// Work in progress on this server, by the id the page chose, so that the page can poll it.
#[derive(Clone, Debug, Default)]
pub struct Registry(Arc<Mutex<BTreeMap<Uuid, Arc<Progress>>>>);

impl Registry {
    pub fn start(&self, id: Uuid) -> Arc<Progress> {
        let progress = Arc::new(Progress::default());
        if let Ok(mut map) = self.0.lock() {
            map.insert(id, progress.clone());
        }
        progress
    }

    pub fn get(&self, id: Uuid) -> Option<Arc<Progress>> {
        self.0.lock().ok()?.get(&id).cloned()
    }

    pub fn finish(&self, id: Uuid) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&id);
        }
    }
}
