//! Importing one billing export: read and check it row by row on a blocking thread, stream the rows
//! into `bill_line` with COPY in one transaction, and commit only when every row was understood.
//! Memory stays bounded whatever the file's size: rows travel in 1 MiB chunks through a channel
//! of four.

use std::collections::BTreeMap;
use std::io::{Read, Write as _};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bills::{BillReader, FileError, Format, LedgerRow, Limits, LineError};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{store, ImportOutcome, ERRORS_SHOWN};
use crate::audit::{self, Actor, Change};
use crate::progress::Progress;

const CHUNK_BYTES: usize = 1 << 20;

/// Counts the bytes read from the file as it arrives.
pub struct Counting<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R> Counting<R> {
    pub fn new(inner: R, progress: Arc<Progress>) -> Self {
        Counting { inner, progress }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.progress
            .bytes
            .fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file name must be 1 to 255 characters")]
    FileName,
    #[error("{0}")]
    File(#[from] FileError),
    /// Rows that could not be understood: the first [`ERRORS_SHOWN`], and whether there are more.
    #[error("{} rows could not be read; nothing was imported", errors.len())]
    Rows { errors: Vec<LineError>, more: bool },
    #[error("the file has a header but no rows")]
    NoRows,
    /// The reading thread stopped without an answer (it panicked, or the database side went away
    /// first and says why); nothing was stored.
    #[error("the import was interrupted")]
    Interrupted,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What the reading thread learned about the file.
struct Reading {
    format: Format,
    headers: Vec<String>,
    rows: u64,
    bytes: u64,
    digest: [u8; 32],
    totals: BTreeMap<String, (Decimal, Decimal, i64)>,
    scopes: BTreeMap<(String, DateTime<Utc>), i64>,
}

const COPY_LINES: &str = "copy bill_line (bill_import_id, line_number, billing_account_id, sub_account_id, \
     billing_period_start, billing_period_end, charge_period_start, charge_period_end, charge_category, \
     provider, service_name, service_category, resource_id, resource_name, region, sku_id, \
     consumed_quantity, consumed_unit, billed_cost, effective_cost, list_cost, currency, tags, original) \
     from stdin";

/// Imports `input` (a billing export, plain or gzip) whole, or answers why not and stores nothing.
/// The same file imported again answers `duplicate` and stores nothing.
pub async fn import(
    pool: &PgPool,
    actor: &Actor,
    file_name: &str,
    chosen: Option<Format>,
    limits: Limits,
    input: impl Read + Send + 'static,
    progress: Arc<Progress>,
) -> Result<ImportOutcome, ImportError> {
    let file_name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if file_name.is_empty() || file_name.chars().count() > 255 {
        return Err(ImportError::FileName);
    }
    let import_id = Uuid::new_v4();
    let (sender, mut receiver) = mpsc::channel::<Vec<u8>>(4);
    let reading = {
        let progress = progress.clone();
        let input = Counting::new(input, progress.clone());
        tokio::task::spawn_blocking(move || {
            read(input, chosen, limits, import_id, &sender, &progress)
        })
    };

    let started = std::time::Instant::now();
    // The transaction (and its connection) waits for the first rows: a slow or refused upload
    // holds nothing meanwhile.
    let first = receiver.recv().await;
    let mut tx = pool.begin().await?;
    let mut copy = tx.copy_in_raw(COPY_LINES).await?;
    let mut next = first;
    while let Some(chunk) = next.take() {
        if let Err(error) = copy.send(chunk).await {
            // Dropping the receiver stops the reading thread at its next chunk.
            drop(receiver);
            return Err(error.into());
        }
        next = receiver.recv().await;
    }
    let reading = match reading.await {
        Ok(Ok(reading)) => reading,
        Ok(Err(error)) => {
            let _ = copy.abort("the file was refused").await;
            return Err(error);
        }
        Err(join) => {
            tracing::error!(%join, "the bill reader stopped");
            let _ = copy.abort("the reader stopped").await;
            return Err(ImportError::Interrupted);
        }
    };
    copy.finish().await?;
    progress.saving.store(true, Ordering::Relaxed);
    let copied = started.elapsed();

    if let Some(existing) = store::import_by_hash(&mut tx, &reading.digest).await? {
        tx.rollback().await?;
        return Ok(ImportOutcome {
            duplicate: true,
            superseded: Vec::new(),
            import: existing,
        });
    }
    // One import at a time per account and period, in a fixed order, so two exports of the same
    // period imported at once supersede in the order they commit.
    for (account, period) in reading.scopes.keys() {
        sqlx::query!(
            "select pg_advisory_xact_lock(hashtextextended($1 || '|' || $2::timestamptz::text, 17))",
            account,
            period
        )
        .execute(&mut *tx)
        .await?;
    }
    let inserted = sqlx::query!(
        "insert into bill_import (bill_import_id, content_hash, file_name, format, header, row_count,
                                  byte_count, imported_by_user_id, imported_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (content_hash) do nothing",
        import_id,
        &reading.digest[..],
        file_name,
        reading.format.key(),
        json!(reading.headers),
        i64::try_from(reading.rows).unwrap_or(i64::MAX),
        i64::try_from(reading.bytes).unwrap_or(i64::MAX),
        actor.user_id(),
        actor.label(),
    )
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        // The same file, imported at the same moment by someone else, committed first.
        tx.rollback().await?;
        let existing = store::import_by_hash(&mut *pool.acquire().await?, &reading.digest).await?;
        return existing
            .map(|import| ImportOutcome {
                duplicate: true,
                superseded: Vec::new(),
                import,
            })
            .ok_or(ImportError::Database(sqlx::Error::RowNotFound));
    }
    for (currency, (billed, effective, rows)) in &reading.totals {
        sqlx::query!(
            "insert into bill_import_total (bill_import_id, currency, billed_cost, effective_cost, row_count)
             values ($1, $2, $3, $4, $5)",
            import_id,
            currency,
            billed,
            effective,
            rows
        )
        .execute(&mut *tx)
        .await?;
    }
    let mut superseded = Vec::new();
    for ((account, period), rows) in &reading.scopes {
        let older = sqlx::query_scalar!(
            "update bill_scope set superseded_by = $1
              where billing_account_id = $2 and billing_period_start = $3 and superseded_by is null
              returning bill_import_id",
            import_id,
            account,
            period
        )
        .fetch_all(&mut *tx)
        .await?;
        superseded.extend(older);
        sqlx::query!(
            "insert into bill_scope (bill_import_id, billing_account_id, billing_period_start, row_count)
             values ($1, $2, $3, $4)",
            import_id,
            account,
            period,
            rows
        )
        .execute(&mut *tx)
        .await?;
    }
    superseded.sort();
    superseded.dedup();
    let allocating = std::time::Instant::now();
    super::allocate::allocate_import(&mut tx, import_id).await?;
    let allocated = allocating.elapsed();
    let totals: Vec<String> = reading
        .totals
        .iter()
        .map(|(currency, (billed, _, _))| format!("{billed} {currency}"))
        .collect();
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "bill.import",
            entity_type: "bill_import",
            entity_id: import_id.to_string(),
            summary: format!(
                "Imported {file_name} ({}, {} rows, {})",
                reading.format.label(),
                reading.rows,
                totals.join(", ")
            ),
            detail: json!({ "file_name": file_name, "format": reading.format.key(),
                            "rows": reading.rows, "superseded": superseded }),
        },
    )
    .await?;
    let import = store::import_by_id(&mut tx, import_id)
        .await?
        .ok_or(ImportError::Database(sqlx::Error::RowNotFound))?;
    tx.commit().await?;
    tracing::debug!(
        file_name,
        rows = reading.rows,
        read_and_copied_ms = copied.as_millis() as u64,
        allocated_ms = allocated.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "imported a bill"
    );
    Ok(ImportOutcome {
        duplicate: false,
        superseded,
        import,
    })
}

/// Reads every row, sends the good ones on as COPY text while none has failed, and gathers the
/// first [`ERRORS_SHOWN`] problems.
fn read(
    input: impl Read + Send + 'static,
    chosen: Option<Format>,
    limits: Limits,
    import_id: Uuid,
    sender: &mpsc::Sender<Vec<u8>>,
    progress: &Progress,
) -> Result<Reading, ImportError> {
    let mut reader = BillReader::open_limited(input, chosen, limits)?;
    let id = import_id.to_string();
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
    let mut scratch = Vec::new();
    let mut errors: Vec<LineError> = Vec::new();
    let mut more = false;
    let mut rows = 0u64;
    let mut totals: BTreeMap<String, (Decimal, Decimal, i64)> = BTreeMap::new();
    let mut scopes: BTreeMap<String, BTreeMap<DateTime<Utc>, i64>> = BTreeMap::new();
    while let Some(next) = reader.next_row() {
        match next {
            Ok(row) => {
                rows += 1;
                progress.rows.store(rows, Ordering::Relaxed);
                if !errors.is_empty() {
                    continue;
                }
                // Looked up before inserting, so that a row clones no key it does not add.
                match totals.get_mut(row.currency.as_str()) {
                    Some(total) => {
                        total.0 += row.billed_cost;
                        total.1 += row.effective_cost;
                        total.2 += 1;
                    }
                    None => {
                        totals.insert(
                            row.currency.clone(),
                            (row.billed_cost, row.effective_cost, 1),
                        );
                    }
                }
                match scopes.get_mut(row.billing_account_id.as_str()) {
                    Some(periods) => *periods.entry(row.billing_period_start).or_default() += 1,
                    None => {
                        scopes.insert(
                            row.billing_account_id.clone(),
                            BTreeMap::from([(row.billing_period_start, 1)]),
                        );
                    }
                }
                encode(
                    &mut chunk,
                    &mut scratch,
                    &id,
                    reader.line(),
                    &row,
                    reader.original(),
                );
                if chunk.len() >= CHUNK_BYTES {
                    let full =
                        std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES + (64 << 10)));
                    if sender.blocking_send(full).is_err() {
                        // The database side stopped; it reports why.
                        return Err(ImportError::Interrupted);
                    }
                }
            }
            Err(found) => {
                for error in found {
                    if errors.len() == ERRORS_SHOWN {
                        more = true;
                        break;
                    }
                    errors.push(error);
                }
                if more {
                    break;
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows { errors, more });
    }
    if rows == 0 {
        return Err(ImportError::NoRows);
    }
    if !chunk.is_empty() && sender.blocking_send(chunk).is_err() {
        return Err(ImportError::Interrupted);
    }
    Ok(Reading {
        format: reader.format(),
        headers: reader.headers().to_vec(),
        rows,
        bytes: reader.position(),
        digest: reader.digest(),
        totals,
        scopes: scopes
            .into_iter()
            .flat_map(|(account, periods)| {
                periods
                    .into_iter()
                    .map(move |(period, rows)| ((account.clone(), period), rows))
            })
            .collect(),
    })
}

/// One row in COPY's text format: tab-separated, `\N` for no value, backslash escapes. Public for
/// the benchmark, whose raw `COPY` baseline sends the same text.
pub fn encode(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    import_id: &str,
    line: u64,
    row: &LedgerRow,
    original: &csv::StringRecord,
) {
    fn text(out: &mut Vec<u8>, value: &str) {
        for byte in value.bytes() {
            match byte {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                other => out.push(other),
            }
        }
    }
    fn optional(out: &mut Vec<u8>, value: Option<&str>) {
        match value {
            Some(value) => text(out, value),
            None => out.extend_from_slice(b"\\N"),
        }
    }
    /// `2026-09-01T00:00:00Z`, written digit by digit (chrono's formatter costs several times
    /// more, four times a row).
    fn time(out: &mut Vec<u8>, at: &DateTime<Utc>) {
        use chrono::{Datelike, Timelike};
        fn digits(out: &mut Vec<u8>, value: u32, width: usize) {
            let mut buffer = [b'0'; 10];
            let mut rest = value;
            for slot in buffer[..width].iter_mut().rev() {
                *slot = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            out.extend_from_slice(&buffer[..width]);
        }
        let year = at.year();
        if !(0..=9999).contains(&year) {
            out.extend_from_slice(at.to_rfc3339_opts(SecondsFormat::AutoSi, true).as_bytes());
            return;
        }
        digits(out, year as u32, 4);
        out.push(b'-');
        digits(out, at.month(), 2);
        out.push(b'-');
        digits(out, at.day(), 2);
        out.push(b'T');
        digits(out, at.hour(), 2);
        out.push(b':');
        digits(out, at.minute(), 2);
        out.push(b':');
        digits(out, at.second(), 2);
        let nanos = at.nanosecond();
        if nanos > 0 {
            out.push(b'.');
            digits(out, nanos, 9);
        }
        out.push(b'Z');
    }
    fn amount(out: &mut Vec<u8>, value: Option<&Decimal>) {
        match value {
            Some(value) => {
                let _ = write!(out, "{value}");
            }
            None => out.extend_from_slice(b"\\N"),
        }
    }
    let tab = |out: &mut Vec<u8>| out.push(b'\t');
    out.extend_from_slice(import_id.as_bytes());
    tab(out);
    let _ = write!(out, "{line}");
    tab(out);
    text(out, &row.billing_account_id);
    tab(out);
    optional(out, row.sub_account_id.as_deref());
    tab(out);
    time(out, &row.billing_period_start);
    tab(out);
    time(out, &row.billing_period_end);
    tab(out);
    time(out, &row.charge_period_start);
    tab(out);
    time(out, &row.charge_period_end);
    tab(out);
    text(out, row.charge_category.as_str());
    tab(out);
    text(out, &row.provider);
    tab(out);
    text(out, &row.service_name);
    tab(out);
    for value in [
        &row.service_category,
        &row.resource_id,
        &row.resource_name,
        &row.region,
        &row.sku_id,
    ] {
        optional(out, value.as_deref());
        tab(out);
    }
    amount(out, row.consumed_quantity.as_ref());
    tab(out);
    optional(out, row.consumed_unit.as_deref());
    tab(out);
    amount(out, Some(&row.billed_cost));
    tab(out);
    amount(out, Some(&row.effective_cost));
    tab(out);
    amount(out, row.list_cost.as_ref());
    tab(out);
    text(out, &row.currency);
    tab(out);
    scratch.clear();
    let _ = serde_json::to_writer(&mut *scratch, &row.tags);
    text(out, std::str::from_utf8(scratch).unwrap_or("{}"));
    tab(out);
    scratch.clear();
    let cells: Vec<&str> = original.iter().collect();
    let _ = serde_json::to_writer(&mut *scratch, &cells);
    text(out, std::str::from_utf8(scratch).unwrap_or("[]"));
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_as_syntax() {
        let mut reader = BillReader::open(
            std::io::Cursor::new(
                "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,\
                 ChargeCategory,ProviderName,ServiceName,BilledCost,BillingCurrency,Tags\n\
                 \"a\tb\\c\",2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,\"EC2\nx\",1.5,USD,\"{\"\"k\"\":\"\"v\\\\\"\"}\"\n"
                    .as_bytes()
                    .to_vec(),
            ),
            None,
        )
        .expect("opens");
        let row = reader.next_row().expect("a row").expect("valid");
        let mut out = Vec::new();
        encode(&mut out, &mut Vec::new(), "id", 2, &row, reader.original());
        let text = String::from_utf8(out).expect("utf-8");
        let fields: Vec<&str> = text.trim_end_matches('\n').split('\t').collect();
        assert_eq!(fields.len(), 24, "{text}");
        assert_eq!(fields[2], "a\\tb\\\\c");
        assert_eq!(fields[3], "\\N");
        assert_eq!(fields[10], "EC2\\nx");
        assert_eq!(fields[18], "1.5");
        assert_eq!(fields[22], "{\"k\":\"v\\\\\"}".replace('\\', "\\\\"));
        assert!(!text.trim_end_matches('\n').contains('\n'));
    }
}
