//! Bill imports in Postgres: the history, and one import by id or by content.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{CurrencyTotal, ImportRecord, ImportScope};

/// The newest imports first, with their totals and what superseded them.
pub async fn list(conn: &mut PgConnection, limit: i64) -> Result<Vec<ImportRecord>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        "select bill_import_id from bill_import order by imported_at desc, file_name limit $1",
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    records(conn, &ids).await
}

pub async fn import_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ImportRecord>, sqlx::Error> {
    Ok(records(conn, &[id]).await?.pop())
}

pub async fn import_by_hash(
    conn: &mut PgConnection,
    digest: &[u8],
) -> Result<Option<ImportRecord>, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "select bill_import_id from bill_import where content_hash = $1",
        digest
    )
    .fetch_optional(&mut *conn)
    .await?;
    match id {
        Some(id) => import_by_id(conn, id).await,
        None => Ok(None),
    }
}

/// The imports with these ids, in the order given.
async fn records(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<ImportRecord>, sqlx::Error> {
    let imports = sqlx::query!(
        "select bill_import_id, file_name, format, row_count, byte_count, imported_by, imported_at
           from bill_import where bill_import_id = any($1)",
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let totals = sqlx::query!(
        "select bill_import_id, currency, billed_cost, effective_cost, row_count
           from bill_import_total where bill_import_id = any($1) order by currency",
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let scopes = sqlx::query!(
        "select bill_import_id, billing_account_id, billing_period_start, row_count, superseded_by
           from bill_scope where bill_import_id = any($1)
          order by billing_period_start, billing_account_id",
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut records: Vec<ImportRecord> = imports
        .into_iter()
        .map(|row| ImportRecord {
            bill_import_id: row.bill_import_id,
            file_name: row.file_name,
            format: row.format,
            rows: row.row_count,
            bytes: row.byte_count,
            imported_by: row.imported_by,
            imported_at: row.imported_at,
            totals: totals
                .iter()
                .filter(|t| t.bill_import_id == row.bill_import_id)
                .map(|t| CurrencyTotal {
                    currency: t.currency.clone(),
                    billed_cost: t.billed_cost,
                    effective_cost: t.effective_cost,
                    rows: t.row_count,
                })
                .collect(),
            scopes: scopes
                .iter()
                .filter(|s| s.bill_import_id == row.bill_import_id)
                .map(|s| ImportScope {
                    billing_account_id: s.billing_account_id.clone(),
                    billing_period_start: s.billing_period_start,
                    rows: s.row_count,
                    superseded_by: s.superseded_by,
                })
                .collect(),
        })
        .collect();
    records.sort_by_key(|r| ids.iter().position(|id| *id == r.bill_import_id));
    Ok(records)
}
