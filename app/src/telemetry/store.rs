//! Telemetry in Postgres: a batch, its samples and its hourly sums are written in one transaction,
//! so a batch is stored whole or not at all and the sums never drift from the samples.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

use super::ingest::{capacity_rollup, rollup, Batch, Sample};

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Stored {
        samples: usize,
        /// Deployment keys seen for the first time, now waiting to be linked to a model version.
        new_deployments: Vec<String>,
    },
    /// This batch_id was stored before with the same content; nothing was written.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("batch {0} was already stored with different content")]
    Conflict(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn partition_name(day: NaiveDate) -> String {
    format!("telemetry_sample_p{}", day.format("%Y%m%d"))
}

/// Creates the daily partitions for `days` that do not exist yet.
pub async fn ensure_partitions(
    pool: &PgPool,
    days: &BTreeSet<NaiveDate>,
) -> Result<(), sqlx::Error> {
    let names: Vec<String> = days.iter().map(|day| partition_name(*day)).collect();
    let missing = sqlx::query_scalar!(
        r#"select name as "name!" from unnest($1::text[]) as name where to_regclass(name) is null"#,
        &names
    )
    .fetch_all(pool)
    .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    // One creator at a time; the others find the partition there when they get the lock.
    sqlx::query!("select pg_advisory_xact_lock(hashtext('telemetry_sample partitions'))")
        .execute(&mut *tx)
        .await?;
    for day in days {
        let name = partition_name(*day);
        if !missing.contains(&name) {
            continue;
        }
        let next = day.succ_opt().unwrap_or(*day);
        // The name and bounds come from dates, never from input text.
        let ddl = format!(
            "create table if not exists {name} partition of telemetry_sample \
             for values from ('{day}T00:00:00Z') to ('{next}T00:00:00Z')"
        );
        sqlx::query(&ddl).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Stores a validated batch exactly once.
pub async fn ingest(
    pool: &PgPool,
    batch: &Batch,
    content_hash: &[u8],
    api_token_id: Option<Uuid>,
) -> Result<Outcome, IngestError> {
    let days: BTreeSet<NaiveDate> = batch.samples.iter().map(|s| s.ts.date_naive()).collect();
    ensure_partitions(pool, &days).await?;

    let mut tx = pool.begin().await?;
    let claimed = sqlx::query_scalar!(
        "insert into telemetry_batch (batch_id, content_hash, host, sample_count, api_token_id)
         values ($1, $2, $3, $4, $5)
         on conflict (batch_id) do nothing
         returning batch_id",
        batch.batch_id,
        content_hash,
        batch.host,
        i32::try_from(batch.samples.len()).unwrap_or(i32::MAX),
        api_token_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        let stored = sqlx::query_scalar!(
            "select content_hash from telemetry_batch where batch_id = $1",
            batch.batch_id
        )
        .fetch_one(&mut *tx)
        .await?;
        return if stored == content_hash {
            Ok(Outcome::Duplicate)
        } else {
            Err(IngestError::Conflict(batch.batch_id))
        };
    }

    let latest = latest_by_deployment(&batch.samples);
    let deployments = register_deployments(&mut tx, &latest).await?;
    let new_deployments = deployments
        .iter()
        .filter(|(_, (_, new))| *new)
        .map(|(key, _)| key.clone())
        .collect();
    let ids: BTreeMap<&str, Uuid> = deployments
        .iter()
        .map(|(k, (id, _))| (k.as_str(), *id))
        .collect();
    insert_samples(&mut tx, batch, &ids).await?;
    // Rows other batches also write (deployments, hourly sums, devices) are locked only from here
    // to the commit, so that concurrent batches copy their samples in parallel.
    mark_seen(&mut tx, &latest).await?;
    add_to_rollups(&mut tx, &batch.samples, &ids).await?;
    add_to_capacity(&mut tx, batch).await?;
    record_devices(&mut tx, batch, &ids).await?;
    tx.commit().await?;
    Ok(Outcome::Stored {
        samples: batch.samples.len(),
        new_deployments,
    })
}

/// The latest sample time of each deployment key, in key order.
fn latest_by_deployment(samples: &[Sample]) -> BTreeMap<&str, DateTime<Utc>> {
    let mut latest: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for sample in samples {
        let Some(deployment) = &sample.deployment else {
            continue;
        };
        let seen = latest.entry(deployment.as_str()).or_insert(sample.ts);
        *seen = (*seen).max(sample.ts);
    }
    latest
}

/// The id of every deployment key in the batch, and whether it is new. A key seen before is only
/// read, not locked; `mark_seen` moves its last-seen time at the end of the transaction.
pub(crate) async fn register_deployments(
    tx: &mut sqlx::PgConnection,
    latest: &BTreeMap<&str, DateTime<Utc>>,
) -> Result<BTreeMap<String, (Uuid, bool)>, sqlx::Error> {
    let keys: Vec<String> = latest.keys().map(|k| (*k).to_owned()).collect();
    let seen: Vec<DateTime<Utc>> = latest.values().copied().collect();
    // The statement's snapshot does not see the rows its own insert adds, so the two halves of
    // the union never overlap.
    let rows = sqlx::query!(
        r#"with added as (
               insert into deployment (key, first_seen_at, last_seen_at)
               select key, seen, seen from unnest($1::text[], $2::timestamptz[]) as t(key, seen)
               on conflict (key) do nothing
               returning deployment_id, key
           )
           select deployment_id as "deployment_id!", key as "key!", true as "new!" from added
           union all
           select deployment_id, key, false from deployment where key = any($1)"#,
        &keys,
        &seen,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut ids = BTreeMap::new();
    for row in rows {
        let entry = ids.entry(row.key).or_insert((row.deployment_id, row.new));
        entry.1 |= row.new;
    }
    // A key that a concurrent batch added after this statement's snapshot was taken: the insert
    // waited for that batch to commit, so a new statement sees the row.
    let missing: Vec<String> = keys
        .into_iter()
        .filter(|key| !ids.contains_key(key))
        .collect();
    if !missing.is_empty() {
        let rows = sqlx::query!(
            "select deployment_id, key from deployment where key = any($1)",
            &missing
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            ids.insert(row.key, (row.deployment_id, false));
        }
    }
    Ok(ids)
}

/// Moves each deployment's last-seen time forward, in key order so that concurrent batches lock
/// the rows in the same order.
async fn mark_seen(
    tx: &mut sqlx::PgConnection,
    latest: &BTreeMap<&str, DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    let keys: Vec<String> = latest.keys().map(|k| (*k).to_owned()).collect();
    let seen: Vec<DateTime<Utc>> = latest.values().copied().collect();
    sqlx::query!(
        "insert into deployment as d (key, last_seen_at)
         select key, seen from unnest($1::text[], $2::timestamptz[]) as t(key, seen)
         on conflict (key) do update
            set last_seen_at = excluded.last_seen_at
          where d.last_seen_at < excluded.last_seen_at",
        &keys,
        &seen,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The batch's samples in `COPY ... (format binary)`: Postgres reads each value as it is stored,
/// where text would have it parse every timestamp, id and number (a third of COPY's time). The
/// format is Postgres's own ("COPY", "Binary Format"): a signature, then per row the field count
/// and each field's length and big-endian bytes (-1 for NULL), then -1.
pub fn samples_binary(batch: &Batch, ids: &BTreeMap<&str, Uuid>) -> Vec<u8> {
    /// Microseconds from the Unix epoch to Postgres's, 2000-01-01T00:00:00Z.
    const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
    const FIELDS: i16 = 22;
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        // Each text was checked to be short at validation.
        out.extend_from_slice(&i32::try_from(bytes.len()).unwrap_or(i32::MAX).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    fn float(out: &mut Vec<u8>, value: Option<f64>) {
        match value {
            Some(value) => field(out, &value.to_be_bytes()),
            None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
        }
    }
    fn count(out: &mut Vec<u8>, value: Option<i64>) {
        match value {
            Some(value) => field(out, &value.to_be_bytes()),
            None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
        }
    }
    let mut out = Vec::with_capacity(19 + batch.samples.len() * 220);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0_i32.to_be_bytes()); // flags
    out.extend_from_slice(&0_i32.to_be_bytes()); // header extension length
    for s in &batch.samples {
        let deployment_id = s.deployment.as_deref().and_then(|key| ids.get(key));
        let micros = s.ts.timestamp_micros() - POSTGRES_EPOCH_MICROS;
        out.extend_from_slice(&FIELDS.to_be_bytes());
        field(&mut out, &micros.to_be_bytes());
        match deployment_id {
            Some(id) => field(&mut out, id.as_bytes()),
            None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
        }
        field(&mut out, batch.batch_id.as_bytes());
        field(&mut out, batch.host.as_bytes());
        field(&mut out, s.gpu_uuid.as_bytes());
        field(&mut out, &s.gpu_index.to_be_bytes());
        field(&mut out, s.gpu_model.as_bytes());
        float(&mut out, Some(s.interval_s));
        float(&mut out, Some(s.utilization_pct));
        float(&mut out, Some(s.memory_used_mib));
        float(&mut out, Some(s.power_watts));
        field(&mut out, &s.requests.to_be_bytes());
        let latency = s.latency.as_ref();
        float(&mut out, latency.and_then(|l| l.p50));
        float(&mut out, latency.and_then(|l| l.p95));
        float(&mut out, latency.and_then(|l| l.p99));
        count(&mut out, s.tokens.map(|t| t.input));
        count(&mut out, s.tokens.map(|t| t.output));
        count(&mut out, s.tokens.map(|t| t.cached_input));
        let ttft = s.ttft.as_ref();
        float(&mut out, ttft.and_then(|l| l.p50));
        float(&mut out, ttft.and_then(|l| l.p95));
        float(&mut out, ttft.and_then(|l| l.p99));
        float(&mut out, s.slice.as_ref().map(|slice| slice.share));
    }
    out.extend_from_slice(&(-1_i16).to_be_bytes());
    out
}

/// The COPY that takes `samples_binary`'s rows, its columns in their order.
pub const SAMPLES_COPY: &str =
    "copy telemetry_sample (ts, deployment_id, batch_id, host, gpu_uuid, gpu_index, gpu_model, \
     interval_s, utilization_pct, memory_used_mib, power_watts, requests, latency_p50_ms, \
     latency_p95_ms, latency_p99_ms, input_tokens, output_tokens, cached_input_tokens, \
     ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, gpu_share) from stdin with (format binary)";

/// Samples go in with COPY, the fastest way into Postgres, inside the batch's transaction.
async fn insert_samples(
    tx: &mut sqlx::PgConnection,
    batch: &Batch,
    ids: &BTreeMap<&str, Uuid>,
) -> Result<(), sqlx::Error> {
    let rows = samples_binary(batch, ids);
    let mut copy = tx.copy_in_raw(SAMPLES_COPY).await?;
    copy.send(rows).await?;
    copy.finish().await?;
    Ok(())
}

async fn add_to_rollups(
    tx: &mut sqlx::PgConnection,
    samples: &[Sample],
    ids: &BTreeMap<&str, Uuid>,
) -> Result<(), sqlx::Error> {
    let sums = rollup(samples);
    let mut deployment_ids = Vec::new();
    let mut gpu_models = Vec::new();
    let mut hours = Vec::new();
    let mut counts = Vec::new();
    let mut gpu_seconds = Vec::new();
    let mut busy = Vec::new();
    let mut idle = Vec::new();
    let mut energy = Vec::new();
    let mut memory = Vec::new();
    let mut requests = Vec::new();
    let mut latency_weighted = Vec::new();
    let mut latency_requests = Vec::new();
    let mut latency_max: Vec<Option<f64>> = Vec::new();
    let mut input_tokens = Vec::new();
    let mut output_tokens = Vec::new();
    let mut cached_input_tokens = Vec::new();
    let mut ttft_weighted = Vec::new();
    let mut ttft_requests = Vec::new();
    let mut token_requests = Vec::new();
    for ((key, gpu_model, hour), sum) in &sums {
        deployment_ids.push(ids.get(key.as_str()).copied().unwrap_or_default());
        gpu_models.push(gpu_model.clone());
        hours.push(*hour);
        counts.push(sum.sample_count);
        gpu_seconds.push(sum.gpu_seconds);
        busy.push(sum.busy_gpu_seconds);
        idle.push(sum.idle_gpu_seconds);
        energy.push(sum.energy_joules);
        memory.push(sum.memory_mib_seconds);
        requests.push(sum.requests);
        latency_weighted.push(sum.latency_p95_weighted);
        latency_requests.push(sum.latency_requests);
        latency_max.push(sum.latency_p95_max_ms);
        input_tokens.push(sum.input_tokens);
        output_tokens.push(sum.output_tokens);
        cached_input_tokens.push(sum.cached_input_tokens);
        ttft_weighted.push(sum.ttft_p95_weighted);
        ttft_requests.push(sum.ttft_requests);
        token_requests.push(sum.token_requests);
    }
    sqlx::query!(
        "insert into telemetry_hourly as h
            (deployment_id, gpu_model, hour, sample_count, gpu_seconds, busy_gpu_seconds,
             idle_gpu_seconds, energy_joules, memory_mib_seconds, requests, latency_p95_weighted,
             latency_requests, latency_p95_max_ms, input_tokens, output_tokens,
             cached_input_tokens, ttft_p95_weighted, ttft_requests, token_requests)
         select * from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int8[], $5::float8[],
                              $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::int8[],
                              $11::float8[], $12::int8[], $13::float8[], $14::int8[], $15::int8[],
                              $16::int8[], $17::float8[], $18::int8[], $19::int8[])
         on conflict (deployment_id, hour, gpu_model) do update set
            sample_count = h.sample_count + excluded.sample_count,
            gpu_seconds = h.gpu_seconds + excluded.gpu_seconds,
            busy_gpu_seconds = h.busy_gpu_seconds + excluded.busy_gpu_seconds,
            idle_gpu_seconds = h.idle_gpu_seconds + excluded.idle_gpu_seconds,
            energy_joules = h.energy_joules + excluded.energy_joules,
            memory_mib_seconds = h.memory_mib_seconds + excluded.memory_mib_seconds,
            requests = least(h.requests::numeric + excluded.requests, 9223372036854775807)::int8,
            latency_p95_weighted = h.latency_p95_weighted + excluded.latency_p95_weighted,
            latency_requests = least(h.latency_requests::numeric + excluded.latency_requests,
                                     9223372036854775807)::int8,
            latency_p95_max_ms = greatest(h.latency_p95_max_ms, excluded.latency_p95_max_ms),
            input_tokens = least(h.input_tokens::numeric + excluded.input_tokens,
                                 9223372036854775807)::int8,
            output_tokens = least(h.output_tokens::numeric + excluded.output_tokens,
                                  9223372036854775807)::int8,
            cached_input_tokens = least(h.cached_input_tokens::numeric + excluded.cached_input_tokens,
                                        9223372036854775807)::int8,
            ttft_p95_weighted = h.ttft_p95_weighted + excluded.ttft_p95_weighted,
            ttft_requests = least(h.ttft_requests::numeric + excluded.ttft_requests,
                                  9223372036854775807)::int8,
            token_requests = least(h.token_requests::numeric + excluded.token_requests,
                                   9223372036854775807)::int8",
        &deployment_ids,
        &gpu_models,
        &hours,
        &counts,
        &gpu_seconds,
        &busy,
        &idle,
        &energy,
        &memory,
        &requests,
        &latency_weighted,
        &latency_requests,
        &latency_max as &[Option<f64>],
        &input_tokens,
        &output_tokens,
        &cached_input_tokens,
        &ttft_weighted,
        &ttft_requests,
        &token_requests,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Remembers what each GPU last reported, for the fleet overview.
async fn record_devices(
    tx: &mut sqlx::PgConnection,
    batch: &Batch,
    ids: &BTreeMap<&str, Uuid>,
) -> Result<(), sqlx::Error> {
    let mut latest: BTreeMap<&str, &Sample> = BTreeMap::new();
    for sample in &batch.samples {
        let entry = latest.entry(sample.gpu_uuid.as_str()).or_insert(sample);
        if sample.ts >= entry.ts {
            *entry = sample;
        }
    }
    let uuids: Vec<String> = latest.keys().map(|k| (*k).to_owned()).collect();
    let indexes: Vec<i32> = latest.values().map(|s| s.gpu_index).collect();
    let models: Vec<String> = latest.values().map(|s| s.gpu_model.clone()).collect();
    let deployments: Vec<Option<Uuid>> = latest
        .values()
        .map(|s| {
            s.deployment
                .as_deref()
                .and_then(|key| ids.get(key))
                .copied()
        })
        .collect();
    let pods: Vec<Option<String>> = latest.values().map(|s| s.pod.clone()).collect();
    let cores: Vec<Option<f64>> = latest.values().map(|s| s.cpu_cores).collect();
    let utilization: Vec<f64> = latest.values().map(|s| s.utilization_pct).collect();
    let power: Vec<f64> = latest.values().map(|s| s.power_watts).collect();
    let seen: Vec<DateTime<Utc>> = latest.values().map(|s| s.ts).collect();
    let parents: Vec<Option<String>> = latest
        .values()
        .map(|s| s.slice.as_ref().and_then(|slice| slice.parent_uuid.clone()))
        .collect();
    let profiles: Vec<Option<String>> = latest
        .values()
        .map(|s| s.slice.as_ref().and_then(|slice| slice.mig_profile.clone()))
        .collect();
    let shares: Vec<f64> = latest.values().map(|s| s.share()).collect();
    sqlx::query!(
        "insert into gpu_device as d
            (gpu_uuid, host, gpu_index, gpu_model, deployment_id, last_utilization_pct,
             last_power_watts, last_seen_at, parent_gpu_uuid, mig_profile, gpu_share, pod,
             cpu_cores)
         select gpu_uuid, $2, gpu_index, gpu_model, deployment_id, utilization, power, seen,
                parent, profile, share, pod, cores
           from unnest($1::text[], $3::int[], $4::text[], $5::uuid[], $6::float8[], $7::float8[],
                       $8::timestamptz[], $9::text[], $10::text[], $11::float8[], $12::text[],
                       $13::float8[])
             as t(gpu_uuid, gpu_index, gpu_model, deployment_id, utilization, power, seen, parent,
                  profile, share, pod, cores)
         on conflict (gpu_uuid) do update set
            host = excluded.host, gpu_index = excluded.gpu_index, gpu_model = excluded.gpu_model,
            deployment_id = excluded.deployment_id,
            last_utilization_pct = excluded.last_utilization_pct,
            last_power_watts = excluded.last_power_watts, last_seen_at = excluded.last_seen_at,
            parent_gpu_uuid = excluded.parent_gpu_uuid, mig_profile = excluded.mig_profile,
            gpu_share = excluded.gpu_share, pod = excluded.pod, cpu_cores = excluded.cpu_cores
         where d.last_seen_at <= excluded.last_seen_at",
        &uuids,
        batch.host,
        &indexes,
        &models,
        &deployments as &[Option<Uuid>],
        &utilization,
        &power,
        &seen,
        &parents as &[Option<String>],
        &profiles as &[Option<String>],
        &shares,
        &pods as &[Option<String>],
        &cores as &[Option<f64>],
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Adds the batch's GPUs without a deployment to its host's idle capacity.
async fn add_to_capacity(tx: &mut sqlx::PgConnection, batch: &Batch) -> Result<(), sqlx::Error> {
    let sums = capacity_rollup(&batch.samples);
    if sums.is_empty() {
        return Ok(());
    }
    let models: Vec<String> = sums.keys().map(|(model, _)| model.clone()).collect();
    let hours: Vec<DateTime<Utc>> = sums.keys().map(|(_, hour)| *hour).collect();
    let counts: Vec<i64> = sums.values().map(|s| s.sample_count).collect();
    let gpu_seconds: Vec<f64> = sums.values().map(|s| s.gpu_seconds).collect();
    let busy: Vec<f64> = sums.values().map(|s| s.busy_gpu_seconds).collect();
    let energy: Vec<f64> = sums.values().map(|s| s.energy_joules).collect();
    sqlx::query!(
        "insert into host_capacity_hourly as h
            (host, gpu_model, hour, sample_count, gpu_seconds, busy_gpu_seconds, energy_joules)
         select $1, * from unnest($2::text[], $3::timestamptz[], $4::int8[], $5::float8[],
                                  $6::float8[], $7::float8[])
         on conflict (host, hour, gpu_model) do update set
            sample_count = h.sample_count + excluded.sample_count,
            gpu_seconds = h.gpu_seconds + excluded.gpu_seconds,
            busy_gpu_seconds = h.busy_gpu_seconds + excluded.busy_gpu_seconds,
            energy_joules = h.energy_joules + excluded.energy_joules",
        batch.host,
        &models,
        &hours,
        &counts,
        &gpu_seconds,
        &busy,
        &energy,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Creates the partitions for today and the next `days_ahead` days, so ingest rarely has to.
pub async fn create_partitions_ahead(pool: &PgPool, days_ahead: u32) -> Result<(), sqlx::Error> {
    let today = crate::clock::now().date_naive();
    let days: BTreeSet<NaiveDate> = (0..=days_ahead)
        .filter_map(|offset| today.checked_add_days(chrono::Days::new(u64::from(offset))))
        .collect();
    ensure_partitions(pool, &days).await
}

/// The day a raw partition holds, from its name.
fn partition_day(name: &str) -> Option<NaiveDate> {
    let digits = name.strip_prefix("telemetry_sample_p")?;
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

/// Drops raw partitions whose whole day is older than `retention_days`; the hourly rollups stay.
/// Returns the names of the partitions dropped.
pub async fn drop_expired_partitions(
    pool: &PgPool,
    retention_days: u32,
) -> Result<Vec<String>, sqlx::Error> {
    let Some(oldest_kept) = crate::clock::now()
        .date_naive()
        .checked_sub_days(chrono::Days::new(u64::from(retention_days)))
    else {
        return Ok(Vec::new());
    };
    let partitions = sqlx::query_scalar!(
        r#"select c.relname::text as "name!"
             from pg_inherits i
             join pg_class c on c.oid = i.inhrelid
             join pg_class p on p.oid = i.inhparent
            where p.relname = 'telemetry_sample'"#
    )
    .fetch_all(pool)
    .await?;
    let mut dropped = Vec::new();
    for name in partitions {
        if partition_day(&name).is_some_and(|day| day < oldest_kept) {
            // The name was just read from the catalog and matched the partition pattern.
            sqlx::query(&format!("drop table if exists {name}"))
                .execute(pool)
                .await?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one field of a binary COPY row: its bytes, or `None` for NULL.
    fn next_field<'a>(rows: &mut &'a [u8]) -> Option<&'a [u8]> {
        let (length, rest) = rows.split_at(4);
        let length = i32::from_be_bytes(length.try_into().expect("4 bytes"));
        *rows = rest;
        let length = usize::try_from(length).ok()?;
        let (field, rest) = rows.split_at(length);
        *rows = rest;
        Some(field)
    }

    #[test]
    fn copy_rows_are_postgres_binary_with_null_for_missing_latency() {
        let sample = Sample {
            ts: DateTime::parse_from_rfc3339("2026-11-28T09:00:00.000250Z")
                .expect("ts")
                .with_timezone(&Utc),
            deployment: Some("d".into()),
            pod: None,
            cpu_cores: None,
            gpu_uuid: "GPU-\"1\"".into(),
            gpu_index: 3,
            gpu_model: "NVIDIA H100, 80GB".into(),
            interval_s: 10.0,
            utilization_pct: 87.5,
            memory_used_mib: 1.0,
            power_watts: 612.3,
            requests: 5,
            latency: Some(crate::telemetry::ingest::Latency {
                p50: None,
                p95: Some(40.2),
                p99: None,
            }),
            tokens: Some(crate::telemetry::ingest::Tokens {
                input: 1_200,
                output: 300,
                cached_input: 0,
            }),
            ttft: None,
            slice: Some(crate::telemetry::ingest::GpuSlice {
                share: 0.5,
                parent_uuid: None,
                mig_profile: None,
            }),
        };
        let deployment = Uuid::from_u128(7);
        let batch = Batch {
            batch_id: Uuid::from_u128(9),
            host: "h".into(),
            samples: vec![sample],
        };
        let ids = BTreeMap::from([("d", deployment)]);
        let out = samples_binary(&batch, &ids);
        let (signature, rest) = out.split_at(19);
        assert_eq!(signature, b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0");
        let (count, mut rows) = rest.split_at(2);
        assert_eq!(i16::from_be_bytes(count.try_into().expect("2 bytes")), 22);
        // 2026-11-28T09:00:00.000250Z in microseconds since 2000-01-01T00:00:00Z.
        let since_2000 = (9_828 * 86_400 + 9 * 3_600) * 1_000_000_i64 + 250;
        let field = |rows: &mut &[u8]| next_field(rows).map(<[u8]>::to_vec);
        assert_eq!(field(&mut rows), Some(since_2000.to_be_bytes().to_vec()));
        assert_eq!(field(&mut rows), Some(deployment.as_bytes().to_vec()));
        assert_eq!(
            field(&mut rows),
            Some(Uuid::from_u128(9).as_bytes().to_vec())
        );
        assert_eq!(field(&mut rows), Some(b"h".to_vec()));
        assert_eq!(field(&mut rows), Some(b"GPU-\"1\"".to_vec()));
        assert_eq!(field(&mut rows), Some(3_i32.to_be_bytes().to_vec()));
        assert_eq!(field(&mut rows), Some(b"NVIDIA H100, 80GB".to_vec()));
        for value in [10.0, 87.5, 1.0, 612.3] {
            assert_eq!(field(&mut rows), Some(f64::to_be_bytes(value).to_vec()));
        }
        assert_eq!(field(&mut rows), Some(5_i64.to_be_bytes().to_vec()));
        assert_eq!(field(&mut rows), None, "no p50");
        assert_eq!(field(&mut rows), Some(40.2_f64.to_be_bytes().to_vec()));
        assert_eq!(field(&mut rows), None, "no p99");
        for tokens in [1_200_i64, 300, 0] {
            assert_eq!(field(&mut rows), Some(tokens.to_be_bytes().to_vec()));
        }
        for _ in 0..3 {
            assert_eq!(field(&mut rows), None, "no time to first token");
        }
        assert_eq!(
            field(&mut rows),
            Some(0.5_f64.to_be_bytes().to_vec()),
            "the share"
        );
        assert_eq!(
            rows,
            (-1_i16).to_be_bytes(),
            "the trailer, and nothing after it"
        );
    }

    #[test]
    fn partition_names_carry_their_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        assert_eq!(partition_name(day), "telemetry_sample_p20261128");
        assert_eq!(partition_day("telemetry_sample_p20261128"), Some(day));
        assert_eq!(partition_day("telemetry_sample"), None);
        assert_eq!(partition_day("telemetry_sample_p2026"), None);
    }
}
