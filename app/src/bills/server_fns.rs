use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ImportRecord;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::store;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// How many imports the history lists.
pub const IMPORTS_SHOWN: i64 = 200;

#[server]
pub async fn list_imports() -> Result<Vec<ImportRecord>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let state = guard::state()?;
        let mut conn = state.pool.acquire().await?;
        Ok(store::list(&mut conn, IMPORTS_SHOWN).await?)
    })
    .await
}

/// An import in progress on this server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadProgress {
    pub bytes: u64,
    pub rows: u64,
    pub saving: bool,
}

/// The progress of the upload the page started with this id; `None` once it is over (or when
/// another server took it).
#[server]
pub async fn import_progress(id: Uuid) -> Result<Option<UploadProgress>, AppError> {
    use std::sync::atomic::Ordering;
    guard::respond(async {
        guard::require(Role::Lead)?;
        Ok(guard::state()?.imports.get(id).map(|p| UploadProgress {
            bytes: p.bytes.load(Ordering::Relaxed),
            rows: p.rows.load(Ordering::Relaxed),
            saving: p.saving.load(Ordering::Relaxed),
        }))
    })
    .await
}
