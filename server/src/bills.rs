//! Bill imports over HTTP. The browser's upload (`POST /bills/upload`, a lead's session) and the
//! API (`POST /api/v1/bills/import`, scope `bills`) stream the request body into the same importer:
//! the file is never held in memory.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use tokio_util::io::{StreamReader, SyncIoBridge};
use uuid::Uuid;

use crate::api::auth::ApiCaller;
use crate::api::error::{ApiError, InvalidField};
use app::audit::Actor;
use app::auth::session::ActiveSession;
use app::auth::Role;
use app::bills::import::{self, ImportError};
use app::bills::{ImportOutcome, UploadAnswer};
use app::progress::{self, Progress};
use app::state::AppState;
use app::tokens::Scope;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ImportQuery {
    /// The file's name, as the history shows it.
    file_name: Option<String>,
    /// `focus`, `aws-cur`, `aws-cur2`, `gcp` or `azure`; told from the header row when absent.
    format: Option<String>,
    /// An id the browser chose, to poll the import's progress with.
    progress: Option<Uuid>,
}

/// The request body as a blocking reader, for the importer's reading thread. A client that sends
/// nothing for `idle` ends the import (nothing is stored), so it cannot hold a connection for good.
fn body_reader(body: Body, idle: Duration) -> impl Read + Send + 'static {
    let stream =
        futures_util::stream::unfold(body.into_data_stream(), move |mut data| async move {
            match tokio::time::timeout(idle, data.next()).await {
                Ok(Some(chunk)) => Some((chunk.map_err(std::io::Error::other), data)),
                Ok(None) => None,
                Err(_) => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the upload sent nothing for {} s", idle.as_secs()),
                    )),
                    data,
                )),
            }
        });
    SyncIoBridge::new(StreamReader::new(Box::pin(stream)))
}

fn chosen_format(query: &ImportQuery) -> Result<Option<bills::Format>, String> {
    query
        .format
        .as_deref()
        .filter(|f| !f.trim().is_empty() && *f != "auto")
        .map(str::parse)
        .transpose()
}

/// `POST /api/v1/bills/import?file_name=…&format=…` with the export as the body.
#[tracing::instrument(skip_all)]
pub async fn api_import(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Result<(StatusCode, Json<ImportOutcome>), ApiError> {
    caller.require(Scope::Bills)?;
    let _stream = state.streams.try_start().ok_or(ApiError::StreamsBusy)?;
    let format = chosen_format(&query).map_err(|message| {
        ApiError::Validation(vec![InvalidField {
            path: "format".into(),
            message,
        }])
    })?;
    let file_name = query.file_name.as_deref().unwrap_or("upload.csv");
    let actor = caller.0.actor();
    let outcome = import::import(
        &state.pool,
        &actor,
        file_name,
        format,
        state.bill_limits,
        body_reader(body, state.streams.idle_timeout),
        Arc::new(Progress::default()),
    )
    .await
    .map_err(|error| match refusal(error) {
        Ok((message, errors, _)) => ApiError::Refused(
            message,
            errors
                .into_iter()
                .map(|e| InvalidField {
                    path: if e.column.is_empty() {
                        format!("line {}", e.line)
                    } else {
                        format!("line {}, {}", e.line, e.column)
                    },
                    message: if e.value.is_empty() {
                        e.message
                    } else {
                        format!("`{}` {}", e.value, e.message)
                    },
                })
                .collect(),
        ),
        Err(()) => ApiError::Internal,
    })?;
    let status = if outcome.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(outcome)))
}

/// `POST /bills/upload?file_name=…&format=…&progress=…` from the bills page.
#[tracing::instrument(skip_all)]
pub async fn upload(
    State(state): State<AppState>,
    session: Option<Extension<ActiveSession>>,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Response {
    let Some(Extension(session)) = session else {
        return (
            StatusCode::UNAUTHORIZED,
            "Your session has ended. Sign in again.",
        )
            .into_response();
    };
    if !session.user.can(Role::Lead) {
        return (StatusCode::FORBIDDEN, "Only leads and admins import bills.").into_response();
    }
    let Some(_stream) = state.streams.try_start() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "30")],
            Json(UploadAnswer::Refused {
                message: "As many exports and imports as this server runs at once are running; \
                          try again in a minute. Nothing was imported."
                    .into(),
                errors: Vec::new(),
                more: false,
            }),
        )
            .into_response();
    };
    let format = match chosen_format(&query) {
        Ok(format) => format,
        Err(message) => return refused(message, Vec::new(), false),
    };
    let progress = match query.progress {
        Some(id) => state.imports.start(id),
        None => Arc::new(Progress::default()),
    };
    // Forgets the progress when the upload ends, however it ends (a browser that goes away drops
    // this handler's future).
    let _registered = query
        .progress
        .map(|id| Registered(state.imports.clone(), id));
    let result = import::import(
        &state.pool,
        &Actor::User(session.user.clone()),
        query.file_name.as_deref().unwrap_or("upload.csv"),
        format,
        state.bill_limits,
        body_reader(body, state.streams.idle_timeout),
        progress,
    )
    .await;
    match result {
        Ok(outcome) => Json(UploadAnswer::Imported(outcome)).into_response(),
        Err(error) => match refusal(error) {
            Ok((message, errors, more)) => refused(message, errors, more),
            Err(()) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(UploadAnswer::Refused {
                    message: "Something went wrong on the server. It has been logged; try again."
                        .into(),
                    errors: Vec::new(),
                    more: false,
                }),
            )
                .into_response(),
        },
    }
}

struct Registered(progress::Registry, Uuid);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.finish(self.1);
    }
}

fn refused(message: String, errors: Vec<bills::LineError>, more: bool) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(UploadAnswer::Refused {
            message,
            errors,
            more,
        }),
    )
        .into_response()
}

/// A refused file as a sentence and its problems; `Err` for a server fault (logged here).
fn refusal(error: ImportError) -> Result<(String, Vec<bills::LineError>, bool), ()> {
    match error {
        ImportError::Rows { errors, more } => {
            let lines = {
                let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
                lines.dedup();
                lines.len()
            };
            let message = if more {
                format!(
                    "Rows could not be read; the first {} problems are listed. Nothing was imported.",
                    errors.len()
                )
            } else if lines == 1 {
                "1 row could not be read. Nothing was imported.".to_string()
            } else {
                format!("{lines} rows could not be read. Nothing was imported.")
            };
            Ok((message, errors, more))
        }
        ImportError::Database(error) => {
            tracing::error!(%error, "a bill import failed");
            Err(())
        }
        ImportError::Interrupted => {
            tracing::error!("a bill import was interrupted");
            Err(())
        }
        other => Ok((
            format!("{}. Nothing was imported.", capitalize(&other.to_string())),
            Vec::new(),
            false,
        )),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `GET /bills/export.csv` (signed in) and `GET /api/v1/bills/export` (scope `read`): the current
/// ledger, allocated, as FOCUS CSV with `x_Team`, `x_Model` and `x_Deployment`. A row split across
/// several targets comes once per target, its amounts multiplied by the target's share. Streamed.
pub async fn export(State(state): State<AppState>) -> Response {
    match state.streams.try_start() {
        Some(permit) => export_response(state, permit),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "30")],
            "As many exports and imports as this server runs at once are running; try again in a minute.",
        )
            .into_response(),
    }
}

pub async fn api_export(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let permit = state.streams.try_start().ok_or(ApiError::StreamsBusy)?;
    Ok(export_response(state, permit))
}

/// The export, written by a task that holds one of the streams' places (`permit`) until it ends.
fn export_response(state: AppState, permit: tokio::sync::OwnedSemaphorePermit) -> Response {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
    tokio::spawn(async move {
        let _permit = permit;
        let idle = state.streams.idle_timeout;
        if let Err(error) = write_export(&state.pool, &sender, idle).await {
            tracing::error!(%error, "the ledger export failed");
            let _ = sender
                .send(Err(std::io::Error::other("the export failed")))
                .await;
        }
    });
    // Fused: the compression layer may ask again after the end, which an unfold would not survive.
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .fuse();
    let file_name = format!("pareto-ledger-{}.csv", app::clock::now().format("%Y-%m-%d"));
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// A buffer the CSV writer fills and the sender empties.
#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

/// Streams the ledger into `sender`. A client that takes nothing for `idle` is given up on, and the
/// database connection goes back to the pool.
async fn write_export(
    pool: &sqlx::PgPool,
    sender: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    idle: Duration,
) -> anyhow::Result<()> {
    let buffer = Shared::default();
    let mut writer = bills::FocusWriter::new(buffer.clone())?;
    let mut rows = app::bills::store::allocated_ledger(pool);
    while let Some((ledger, allocation)) = rows.try_next().await? {
        writer.write(&ledger, &allocation)?;
        writer.flush()?;
        let chunk_size = buffer.0.lock().map(|b| b.len()).unwrap_or_default();
        if chunk_size >= 256 << 10 {
            match tokio::time::timeout(idle, sender.send(Ok(buffer.take()))).await {
                Ok(Ok(())) => {}
                // The client went away.
                Ok(Err(_)) => return Ok(()),
                Err(_) => {
                    tracing::warn!(
                        idle_s = idle.as_secs(),
                        "a ledger export's client stopped reading; given up"
                    );
                    return Ok(());
                }
            }
        }
    }
    writer.flush()?;
    let rest = buffer.take();
    if !rest.is_empty() {
        let _ = tokio::time::timeout(idle, sender.send(Ok(rest))).await;
    }
    Ok(())
}

/// Runs the re-allocation job whenever a change to the allocation rules starts it (`wake`), and
/// every 30 seconds, so that a job another replica started, or one a stopped server left half
/// done, goes on here. Every replica may run it: its steps take turns on the job's row.
pub fn spawn_allocation_job(state: AppState) {
    tokio::spawn(async move {
        let settings = state.allocation.clone();
        loop {
            match app::bills::allocate::run_job(&state.pool, settings.batch_rows).await {
                Ok(Some(rows)) => tracing::info!(rows, "re-allocated the ledger by the new rules"),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "the re-allocation job stopped; it goes on at the next round")
                }
            }
            tokio::select! {
                () = settings.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(30)) => {}
            }
        }
    });
}
