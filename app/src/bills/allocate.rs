//! Allocation in Postgres: the rules, and `bill_allocation`, rebuilt in the transaction that changes
//! the rules or imports a bill. A preview is the same change, rolled back.

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::rules::{
    JobProgress, MatchKind, Move, NewRule, Preview, RuleView, Sample, Split, TargetView,
};
use crate::audit::{self, Actor, Change};
use crate::error::AppError;
use crate::ordered::Ordered;
use crate::state::AllocationSettings;
use crate::teams::access::{self, Subject};

/// The columns of `bill_allocation` (and of `bill_allocation_next`, built beside it by a job).
const COLUMNS: &str =
    "bill_import_id, line_number, allocation_rule_id, team_id, model_id, deployment_id, share";
/// The same columns as the `allocated` CTE names them.
const COLUMNS_OF_ALLOCATED: &str =
    "bill_import_id, line_number, rule_id, team_id, model_id, deployment_id, share";

/// The allocation of the current ledger rows that `lines` (a condition on `l`) picks, from the
/// rules as they stand in this transaction, as the CTEs `lines` (each row with its rule) and
/// `allocated` (one row per target with its share). A row no rule takes has no allocated rows.
fn allocation(lines: &str) -> String {
    allocation_of("current_bill_line l", lines)
}

/// [`allocation`] of the rows `lines` picks from `source` (current ledger rows, as `l`).
fn allocation_of(source: &str, lines: &str) -> String {
    let matches = matches("r.match_kind", "r.match_key", "r.like_pattern");
    format!(
        r#"
-- Materialized, so that each row's rule is found once.
lines as materialized (
    select l.bill_import_id, l.line_number, l.charge_period_start, l.charge_period_end,
           l.billed_cost, l.currency,
           (select r.allocation_rule_id
              from allocation_rule r
             where {matches}
             order by r.position
             limit 1) as rule_id
      from {source}
     where {lines}
),
-- Each target once, with the team and model its deployment or model stands for.
targets as (
    select t.allocation_rule_id, t.deployment_id, r.split,
           count(*) over (partition by t.allocation_rule_id) as targets,
           coalesce(t.team_id,
                    (select m.owner_team_id from deployment d
                       join model_version v on v.model_version_id = d.model_version_id
                       join model m on m.model_id = v.model_id
                      where d.deployment_id = t.deployment_id),
                    (select m.owner_team_id from model m where m.model_id = t.model_id)) as team_id,
           coalesce(t.model_id,
                    (select v.model_id from deployment d
                       join model_version v on v.model_version_id = d.model_version_id
                      where d.deployment_id = t.deployment_id)) as model_id
      from allocation_target t
      join allocation_rule r using (allocation_rule_id)
),
matched as (
    select l.bill_import_id, l.line_number, l.rule_id, l.charge_period_start, l.charge_period_end,
           l.billed_cost, l.currency, t.team_id, t.model_id, t.deployment_id, t.split, t.targets
      from lines l
      join targets t on t.allocation_rule_id = l.rule_id
),
-- Only rows a rule splits need weights and a window over their targets.
shared as (
    select m.*, w.weight, sum(w.weight) over line as total
      from matched m
     cross join lateral (
           select case when m.split = 'gpu_hours' and m.deployment_id is not null then
                      coalesce((select sum(h.gpu_seconds)::numeric from telemetry_hourly h
                                 where h.deployment_id = m.deployment_id
                                   and h.hour >= m.charge_period_start and h.hour < m.charge_period_end), 0)
                  else 1 end as weight) w
     where m.targets > 1
    window line as (partition by m.bill_import_id, m.line_number)
),
allocated as (
    select bill_import_id, line_number, rule_id, team_id, model_id, deployment_id, 1::numeric as share,
           billed_cost, currency
      from matched
     where targets = 1
    union all
    select bill_import_id, line_number, rule_id, team_id, model_id, deployment_id,
           case when total > 0 then weight / total else 1.0 / targets end,
           billed_cost, currency
      from shared
)"#
    )
}

/// Whether a ledger row `l` matches a rule of this kind, key and LIKE pattern (SQL expressions).
fn matches(kind: &str, key: &str, like: &str) -> String {
    format!(
        "case {kind}
           when 'tag' then (l.tags ->> {key}) like {like}
           when 'resource' then coalesce(l.resource_id, '') like {like}
           when 'account' then l.billing_account_id like {like}
                            or coalesce(l.sub_account_id, '') like {like}
           else l.service_name like {like}
         end"
    )
}

/// Writes the allocation of the rows `lines` picks into `table`.
fn insert(table: &str, lines: &str) -> String {
    format!(
        "insert into {table} ({COLUMNS}) with {} select {COLUMNS_OF_ALLOCATED} from allocated",
        allocation(lines)
    )
}

/// A ledger row's place in the order a job allocates in: (bill_import_id, line_number).
const ROW: &str = "(l.bill_import_id, l.line_number)";

/// Memory for the sorts and hashes of one allocation, so that a ledger of millions of rows is
/// allocated without spilling to disk. Local to the transaction.
async fn room(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("set local work_mem = '256MB'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How the ledger was re-allocated after a change to the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reallocation {
    /// In the change's own transaction: every figure shows the new rules once it commits.
    Done,
    /// A job re-allocates these many rows in the background; figures show the previous allocation
    /// until it has finished.
    Started { rows: i64 },
}

/// The re-allocation job as it stands.
pub async fn job(pool: &PgPool) -> Result<JobProgress, sqlx::Error> {
    sqlx::query_as!(
        JobProgress,
        r#"select running, rows_done, rows_total, started_by_label as started_by, started_at, finished_at
             from allocation_job"#
    )
    .fetch_one(pool)
    .await
}

/// Re-allocates every current row after a change to the rules, in the change's transaction (which
/// holds the rules, see [`begin`]): at once when the ledger has at most `inline_rows` current rows,
/// else by starting the job (a job already running starts over, from the rules as they stand now).
pub async fn reallocate(
    conn: &mut PgConnection,
    actor: &Actor,
    inline_rows: i64,
) -> Result<Reallocation, sqlx::Error> {
    let rows = ledger_rows(conn).await?;
    reallocate_rows(conn, actor, rows, inline_rows).await
}

/// The current rows of the ledger.
async fn ledger_rows(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "rows!" from current_bill_line"#)
        .fetch_one(conn)
        .await
}

/// [`reallocate`], for a ledger of `rows` current rows (counted in this transaction).
async fn reallocate_rows(
    conn: &mut PgConnection,
    actor: &Actor,
    rows: i64,
    inline_rows: i64,
) -> Result<Reallocation, sqlx::Error> {
    // The job's row first, then its table: the order an import takes them in.
    sqlx::query!("select running from allocation_job for update")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("truncate bill_allocation_next")
        .execute(&mut *conn)
        .await?;
    if rows <= inline_rows {
        sqlx::query!(
            "update allocation_job set running = false, finished_at = case when running then now() else finished_at end"
        )
        .execute(&mut *conn)
        .await?;
        room(conn).await?;
        sqlx::query("delete from bill_allocation")
            .execute(&mut *conn)
            .await?;
        sqlx::query(&insert("bill_allocation", "true"))
            .execute(&mut *conn)
            .await?;
        return Ok(Reallocation::Done);
    }
    sqlx::query!(
        "update allocation_job
            set running = true, cursor_import = '00000000-0000-0000-0000-000000000000',
                cursor_line = -1, rows_total = $1, rows_done = 0, started_by_label = $2,
                started_at = now(), finished_at = null",
        rows,
        actor.label()
    )
    .execute(&mut *conn)
    .await?;
    Ok(Reallocation::Started { rows })
}

/// What one step of the job did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// No job is running.
    Idle,
    /// One batch allocated; more follow.
    Batch { rows_done: i64, rows_total: i64 },
    /// The last batch: the new allocation has taken the place of the old one.
    Finished { rows: i64 },
}

/// Allocates the next `batch_rows` current rows into `bill_allocation_next`, and when none are
/// left, puts it in the place of `bill_allocation` in the same transaction. Each step holds the
/// rules still; a change to them waits for the step, then starts the job over. Any replica may run
/// steps: they take turns on the job's row.
pub async fn step(pool: &PgPool, batch_rows: i64) -> Result<Step, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("lock table allocation_rule in share mode")
        .execute(&mut *tx)
        .await?;
    let job = sqlx::query!(
        "select running, cursor_import, cursor_line, rows_done, rows_total from allocation_job for update"
    )
    .fetch_one(&mut *tx)
    .await?;
    if !job.running {
        return Ok(Step::Idle);
    }
    room(&mut tx).await?;
    let end = sqlx::query!(
        r#"select l.bill_import_id as "bill_import_id!", l.line_number as "line_number!"
             from current_bill_line l
            where (l.bill_import_id, l.line_number) > ($1, $2)
            order by l.bill_import_id, l.line_number
           offset $3 limit 1"#,
        job.cursor_import,
        job.cursor_line,
        (batch_rows - 1).max(0)
    )
    .fetch_optional(&mut *tx)
    .await?;
    let after = format!("{ROW} > ($1, $2)");
    let outcome = match end {
        Some(end) => {
            sqlx::query(&insert(
                "bill_allocation_next",
                &format!("{after} and {ROW} <= ($3, $4)"),
            ))
            .bind(job.cursor_import)
            .bind(job.cursor_line)
            .bind(end.bill_import_id)
            .bind(end.line_number)
            .execute(&mut *tx)
            .await?;
            let rows_done = job.rows_done + batch_rows.max(1);
            sqlx::query!(
                "update allocation_job set cursor_import = $1, cursor_line = $2, rows_done = $3,
                        rows_total = greatest(rows_total, $3)",
                end.bill_import_id,
                end.line_number,
                rows_done
            )
            .execute(&mut *tx)
            .await?;
            Step::Batch {
                rows_done,
                rows_total: job.rows_total.max(rows_done),
            }
        }
        None => {
            sqlx::query(&insert("bill_allocation_next", &after))
                .bind(job.cursor_import)
                .bind(job.cursor_line)
                .execute(&mut *tx)
                .await?;
            // The switch: pages read the new allocation from this commit on.
            for statement in [
                "alter table bill_allocation rename to bill_allocation_previous",
                "alter table bill_allocation_next rename to bill_allocation",
                "alter table bill_allocation_previous rename to bill_allocation_next",
                "truncate bill_allocation_next",
            ] {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            let rows = ledger_rows(&mut tx).await?;
            sqlx::query!(
                "update allocation_job
                    set running = false, finished_at = now(), rows_total = $1, rows_done = $1",
                rows
            )
            .execute(&mut *tx)
            .await?;
            Step::Finished { rows }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Runs the job to its end, or until a step fails.
pub async fn run_job(pool: &PgPool, batch_rows: i64) -> Result<Option<i64>, sqlx::Error> {
    loop {
        match step(pool, batch_rows).await? {
            Step::Idle => return Ok(None),
            Step::Batch { .. } => {}
            Step::Finished { rows } => return Ok(Some(rows)),
        }
    }
}

/// Allocates the rows of a new import, and drops the allocation of the rows it superseded. While
/// the job runs, the rows it has passed are allocated into its table too.
pub async fn allocate_import(conn: &mut PgConnection, import_id: Uuid) -> Result<(), sqlx::Error> {
    // The job's row before its tables, as a step and a change take them.
    let job =
        sqlx::query!("select running, cursor_import, cursor_line from allocation_job for update")
            .fetch_one(&mut *conn)
            .await?;
    room(conn).await?;
    // The rows of the accounts and periods this import superseded are no longer current.
    for table in ["bill_allocation", "bill_allocation_next"] {
        sqlx::query(&format!(
            "delete from {table} a
              using bill_scope s, bill_line l
              where s.superseded_by = $1
                and l.bill_import_id = s.bill_import_id
                and l.billing_account_id = s.billing_account_id
                and l.billing_period_start = s.billing_period_start
                and a.bill_import_id = l.bill_import_id and a.line_number = l.line_number"
        ))
        .bind(import_id)
        .execute(&mut *conn)
        .await?;
    }
    // Without rules every row is unallocated: nothing to write, and no need to read the import's
    // rows again.
    let any_rule =
        sqlx::query_scalar!(r#"select exists (select 1 from allocation_rule) as "any!""#)
            .fetch_one(&mut *conn)
            .await?;
    if !any_rule {
        return Ok(());
    }
    sqlx::query(&insert("bill_allocation", "l.bill_import_id = $1"))
        .bind(import_id)
        .execute(&mut *conn)
        .await?;
    if job.running {
        sqlx::query(&insert(
            "bill_allocation_next",
            &format!("l.bill_import_id = $1 and {ROW} <= ($2, $3)"),
        ))
        .bind(import_id)
        .bind(job.cursor_import)
        .bind(job.cursor_line)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn list(pool: &PgPool) -> Result<Vec<RuleView>, sqlx::Error> {
    let rules = sqlx::query!(
        r#"select r.allocation_rule_id, r.position, r.name, r.match_kind, r.match_key, r.match_pattern, r.split,
                  (select count(*) from bill_allocation a where a.allocation_rule_id = r.allocation_rule_id)
                    / greatest((select count(*) from allocation_target t
                                 where t.allocation_rule_id = r.allocation_rule_id), 1) as "rows!"
             from allocation_rule r order by r.position"#
    )
    .fetch_all(pool)
    .await?;
    let targets = sqlx::query!(
        "select t.allocation_rule_id, tm.name as \"team?\", m.name as \"model?\", d.key as \"deployment?\"
           from allocation_target t
           left join team tm on tm.team_id = t.team_id
           left join model m on m.model_id = t.model_id
           left join deployment d on d.deployment_id = t.deployment_id
          order by t.allocation_rule_id, t.position"
    )
    .fetch_all(pool)
    .await?;
    Ok(rules
        .into_iter()
        .map(|r| RuleView {
            allocation_rule_id: r.allocation_rule_id,
            position: r.position,
            name: r.name,
            kind: MatchKind::parse(&r.match_kind).unwrap_or(MatchKind::Tag),
            key: r.match_key,
            pattern: r.match_pattern,
            split: Split::parse(&r.split).unwrap_or(Split::Equal),
            targets: targets
                .iter()
                .filter(|t| t.allocation_rule_id == r.allocation_rule_id)
                .map(|t| TargetView {
                    team: t.team.clone(),
                    model: t.model.clone(),
                    deployment: t.deployment.clone(),
                })
                .collect(),
            rows: r.rows,
        })
        .collect())
}

/// What the rule form chooses from: teams, models and deployments, by name.
pub async fn options(pool: &PgPool) -> Result<super::RuleOptions, sqlx::Error> {
    let teams = sqlx::query!("select team_id, name from team order by name")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.team_id, r.name))
        .collect();
    let models = sqlx::query!("select model_id, name from model order by name")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.model_id, r.name))
        .collect();
    let deployments = sqlx::query!("select deployment_id, key from deployment order by key")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.deployment_id, r.key))
        .collect();
    Ok(super::RuleOptions {
        teams,
        models,
        deployments,
    })
}

/// A deployment key as the rule form writes it, or an error naming it.
pub async fn deployment_ids(pool: &PgPool, keys: &str) -> Result<Vec<Uuid>, AppError> {
    let mut ids = Vec::new();
    for key in keys.lines().map(str::trim).filter(|k| !k.is_empty()) {
        let id = sqlx::query_scalar!("select deployment_id from deployment where key = $1", key)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| {
                AppError::field(
                    "split_deployments",
                    format!("No deployment has the key {key}."),
                )
            })?;
        ids.push(id);
    }
    Ok(ids)
}

/// The change a rule makes (new when `rule_id` is `None`): applied, and committed when `save`
/// (the ledger then re-allocated, see [`reallocate`]); otherwise rolled back after measuring what
/// it moves (see [`measure`]), which writes no allocation. A save measures too, unless the job
/// re-allocates.
pub async fn change(
    pool: &PgPool,
    actor: &Actor,
    rule_id: Option<Uuid>,
    rule: NewRule,
    save: bool,
    settings: &AllocationSettings,
) -> Result<(Uuid, Preview), AppError> {
    let mut tx = begin(pool).await?;
    if let Some(id) = rule_id {
        require_rule(&mut tx, actor, id).await?;
    }
    for target in &rule.targets {
        require_target(
            &mut tx,
            actor,
            target.team_id,
            target.model_id,
            target.deployment_id,
        )
        .await?;
    }
    let like = bills::glob_to_like(&rule.pattern);
    let id = match rule_id {
        Some(id) => {
            let updated = sqlx::query!(
                "update allocation_rule set name = $2, match_kind = $3, match_key = $4, match_pattern = $5,
                        like_pattern = $6, split = $7, updated_at = now()
                  where allocation_rule_id = $1",
                id,
                rule.name,
                rule.kind.as_str(),
                rule.key,
                rule.pattern,
                like,
                rule.split.as_str()
            )
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(AppError::NotFound(ALLOCATION_RULES.missing.into()));
            }
            sqlx::query!("delete from allocation_target where allocation_rule_id = $1", id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => sqlx::query_scalar!(
            "insert into allocation_rule (position, name, match_kind, match_key, match_pattern, like_pattern, split)
             values ($1, $2, $3, $4, $5, $6, $7)
             returning allocation_rule_id",
            ALLOCATION_RULES.next_position(&mut tx).await?,
            rule.name,
            rule.kind.as_str(),
            rule.key,
            rule.pattern,
            like,
            rule.split.as_str()
        )
        .fetch_one(&mut *tx)
        .await?,
    };
    for (position, target) in rule.targets.iter().enumerate() {
        sqlx::query!(
            "insert into allocation_target (allocation_rule_id, position, team_id, model_id, deployment_id)
             values ($1, $2, $3, $4, $5)",
            id,
            i32::try_from(position).unwrap_or(i32::MAX),
            target.team_id,
            target.model_id,
            target.deployment_id
        )
        .execute(&mut *tx)
        .await?;
    }
    let ledger = ledger_rows(&mut tx).await?;
    // A save over a ledger the job re-allocates answers at once; the list shows what the rule
    // takes once the job has finished.
    let mut preview = if save && ledger > settings.inline_rows {
        Preview {
            rows: None,
            moves: Vec::new(),
            sample: None,
            reallocating: None,
        }
    } else {
        measure(&mut tx, id, &rule, settings.preview_rows).await?
    };
    if save {
        if let Reallocation::Started { rows } =
            reallocate_rows(&mut tx, actor, ledger, settings.inline_rows).await?
        {
            preview.reallocating = Some(rows);
        }
        commit(
            tx,
            actor,
            Change {
                action: if rule_id.is_some() {
                    "allocation_rule.update"
                } else {
                    "allocation_rule.create"
                },
                entity_type: "allocation_rule",
                entity_id: id.to_string(),
                summary: match preview.rows {
                    Some(rows) => format!("Saved allocation rule {} ({rows} rows)", rule.name),
                    None => format!(
                        "Saved allocation rule {} (re-allocating {ledger} rows)",
                        rule.name
                    ),
                },
                detail: json!({ "name": rule.name, "kind": rule.kind.as_str(), "key": rule.key,
                                "pattern": rule.pattern, "split": rule.split.as_str() }),
            },
        )
        .await?;
    } else {
        tx.rollback().await?;
    }
    Ok((id, preview))
}

/// Refuses a change to a rule unless `actor` may act for every team its targets belong to.
async fn require_rule(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    rule_id: Uuid,
) -> Result<(), AppError> {
    let targets = sqlx::query!(
        "select team_id, model_id, deployment_id from allocation_target
          where allocation_rule_id = $1 order by position",
        rule_id
    )
    .fetch_all(&mut *tx)
    .await?;
    for target in targets {
        require_target(
            tx,
            actor,
            target.team_id,
            target.model_id,
            target.deployment_id,
        )
        .await?;
    }
    Ok(())
}

/// Refuses a rule that sends cost to a team, model or deployment `actor` may not act for.
async fn require_target(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    team_id: Option<Uuid>,
    model_id: Option<Uuid>,
    deployment_id: Option<Uuid>,
) -> Result<(), AppError> {
    let subject = match (team_id, model_id, deployment_id) {
        (Some(id), _, _) => Subject::Team(id),
        (None, Some(id), _) => Subject::Model(id),
        (None, None, Some(id)) => {
            // An unlinked deployment's cost reaches no team's figures: anyone may send it there.
            return match access::owner(tx, Subject::Deployment(id)).await? {
                Some(owner) => access::require_owner(tx, actor, "deployment", Some(&owner)).await,
                None => Ok(()),
            };
        }
        (None, None, None) => return Ok(()),
    };
    access::require(tx, actor, subject).await
}

/// The allocation rules, in the order they apply.
const ALLOCATION_RULES: Ordered = Ordered {
    table: "allocation_rule",
    id: "allocation_rule_id",
    missing: "No allocation rule has this id.",
};

/// A transaction that holds the rules still: one change to them, and its re-allocation, at a time.
async fn begin(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    ALLOCATION_RULES.lock(&mut tx).await?;
    Ok(tx)
}

/// Audits a change to the rules (already re-allocated) and commits it.
async fn commit(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    actor: &Actor,
    change: Change<'_>,
) -> Result<(), AppError> {
    audit::record(&mut *tx, actor, change).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    rule_id: Uuid,
    inline_rows: i64,
) -> Result<Reallocation, AppError> {
    let mut tx = begin(pool).await?;
    require_rule(&mut tx, actor, rule_id).await?;
    let name = sqlx::query_scalar!(
        "delete from allocation_rule where allocation_rule_id = $1 returning name",
        rule_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(ALLOCATION_RULES.missing.into()))?;
    ALLOCATION_RULES.close_gap(&mut tx).await?;
    let reallocation = reallocate(&mut tx, actor, inline_rows).await?;
    commit(
        tx,
        actor,
        Change {
            action: "allocation_rule.delete",
            entity_type: "allocation_rule",
            entity_id: rule_id.to_string(),
            summary: format!("Deleted allocation rule {name}"),
            detail: json!({ "name": name }),
        },
    )
    .await?;
    Ok(reallocation)
}

/// Moves a rule one place earlier (it then wins over the one it passed) or later.
pub async fn reorder(
    pool: &PgPool,
    actor: &Actor,
    rule_id: Uuid,
    earlier: bool,
    inline_rows: i64,
) -> Result<Reallocation, AppError> {
    let mut tx = begin(pool).await?;
    let planned = ALLOCATION_RULES
        .plan_move(&mut tx, rule_id, earlier)
        .await?;
    // Passing a rule takes rows from it: both rules must be the caller's to change.
    require_rule(&mut tx, actor, rule_id).await?;
    if let Some(passed) = planned.passed {
        require_rule(&mut tx, actor, passed).await?;
    }
    if !ALLOCATION_RULES.make_move(&mut tx, &planned).await? {
        // Already first or last.
        return Ok(Reallocation::Done);
    }
    let (name, other) = (&planned.rule.name, planned.to);
    let reallocation = reallocate(&mut tx, actor, inline_rows).await?;
    commit(
        tx,
        actor,
        Change {
            action: "allocation_rule.reorder",
            entity_type: "allocation_rule",
            entity_id: rule_id.to_string(),
            summary: format!("Moved allocation rule {name} to position {other}"),
            detail: json!({ "position": other }),
        },
    )
    .await?;
    Ok(reallocation)
}

type Totals = Vec<(Option<String>, Option<String>, String, Decimal)>;

/// What the rule `rule_id` (as it stands in this transaction, with `rule`'s match) moves. Only the
/// rows it matches and the rows it took before can change, so only those are allocated again.
/// A ledger of more than `limit` rows is not read whole: the figures, now and after, come from a
/// sample of its pages (`tablesample system`, the same pages every time), scaled up. Nothing is
/// written.
async fn measure(
    conn: &mut PgConnection,
    rule_id: Uuid,
    rule: &NewRule,
    limit: i64,
) -> Result<Preview, sqlx::Error> {
    room(conn).await?;
    let could_change = format!(
        "(({}) or (l.bill_import_id, l.line_number) in
            (select bill_import_id, line_number from bill_allocation where allocation_rule_id = $1))",
        matches("$2::text", "$3::text", "$4::text")
    );
    let percent = sample_percent(conn, limit).await?;
    let (source, sampled) = match percent {
        None => ("current_bill_line l".to_string(), String::new()),
        Some(_) => (
            "sampled l".to_string(),
            // The current rows on the sampled pages.
            "sampled as materialized (
                 select l.* from bill_line l tablesample system ($5) repeatable (1)
                   join bill_scope s on s.bill_import_id = l.bill_import_id
                                    and s.billing_account_id = l.billing_account_id
                                    and s.billing_period_start = l.billing_period_start
                  where s.superseded_by is null
             ),"
            .to_string(),
        ),
    };
    // The amounts as pages show them now: over the sample, or (read whole) from `totals`.
    let now = if percent.is_some() {
        "select a.team_id, a.model_id, l.currency, sum(l.billed_cost * coalesce(a.share, 1)) as amount
           from sampled l
           left join bill_allocation a using (bill_import_id, line_number)
          group by 1, 2, 3"
    } else {
        "select null::uuid, null::uuid, null::text, null::numeric where false"
    };
    let sql = format!(
        r#"with {sampled} {},
           -- Each row's cost travels with its allocation, so nothing is joined back to the ledger;
           -- a row no rule takes is unallocated. Its allocation as pages show it now is subtracted.
           changes as (
               select team_id, model_id, currency, sum(billed_cost * share) as amount
                 from allocated
                group by 1, 2, 3
               union all
               select null, null, currency, sum(billed_cost)
                 from lines
                where rule_id is null
                group by 3
               union all
               select a.team_id, a.model_id, l.currency, -sum(l.billed_cost * coalesce(a.share, 1))
                 from lines l
                 left join bill_allocation a using (bill_import_id, line_number)
                group by 1, 2, 3
           ),
           now (team_id, model_id, currency, amount) as ({now}),
           sums as (
               select team_id, model_id, currency, amount as now, 0::numeric as change from now
               union all
               select team_id, model_id, currency, 0, amount from changes
           )
           select tm.name, m.name, s.currency, sum(s.now), sum(s.change),
                  (select count(*) from lines where rule_id = $1),
                  {read}
             from sums s
             left join team tm on tm.team_id = s.team_id
             left join model m on m.model_id = s.model_id
            group by s.team_id, s.model_id, tm.name, m.name, s.currency"#,
        allocation_of(&source, &could_change),
        read = if percent.is_some() {
            "(select count(*) from sampled)"
        } else {
            "0::int8"
        },
    );
    /// (team, model, currency, now, change, the rows the rule takes, the rows sampled)
    type Row = (
        Option<String>,
        Option<String>,
        String,
        Option<Decimal>,
        Option<Decimal>,
        i64,
        i64,
    );
    let mut query = sqlx::query_as::<_, Row>(&sql)
        .bind(rule_id)
        .bind(rule.kind.as_str())
        .bind(&rule.key)
        .bind(bills::glob_to_like(&rule.pattern));
    if let Some(percent) = percent {
        query = query.bind(percent);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let (taken, read) = rows.first().map_or((0, 0), |row| (row.5, row.6));
    // A sample of `percent` of the pages stands for the whole ledger.
    let scale = |value: Decimal| match percent {
        Some(percent) => Decimal::try_from(100.0 / percent)
            .ok()
            .and_then(|factor| value.checked_mul(factor))
            .map_or(value, |scaled| scaled.round_dp(6)),
        None => value,
    };
    let scale_count = |count: i64| match percent {
        Some(percent) => (count as f64 * 100.0 / percent).round() as i64,
        None => count,
    };
    let mut before = match percent {
        Some(_) => Vec::new(),
        None => totals(conn).await?,
    };
    let mut after = before.clone();
    for (team, model, currency, now, change, _, _) in rows {
        if let Some(now) = now.filter(|_| percent.is_some()) {
            before.push((team.clone(), model.clone(), currency.clone(), scale(now)));
            after.push((team.clone(), model.clone(), currency.clone(), scale(now)));
        }
        after.push((team, model, currency, scale(change.unwrap_or_default())));
    }
    Ok(Preview {
        rows: Some(scale_count(taken)),
        moves: moves(before, after),
        sample: percent.map(|_| Sample {
            rows: read,
            of: scale_count(read),
        }),
        reallocating: None,
    })
}

/// The share of the ledger's pages a preview reads (in percent), or `None` when it reads the whole
/// ledger: Postgres's own count of `bill_line` (from its last analysis; else its size at 400 bytes a
/// row) against `limit`.
async fn sample_percent(conn: &mut PgConnection, limit: i64) -> Result<Option<f64>, sqlx::Error> {
    let (tuples, bytes): (f64, i64) = sqlx::query_as(
        "select reltuples::float8, pg_relation_size(oid) from pg_class where oid = 'bill_line'::regclass",
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = if tuples > 0.0 {
        tuples
    } else {
        bytes as f64 / 400.0
    };
    Ok((rows > limit as f64).then(|| (limit as f64 * 100.0 / rows).clamp(0.001, 100.0)))
}

async fn totals(conn: &mut PgConnection) -> Result<Totals, sqlx::Error> {
    let rows = sqlx::query!(
        r#"with sums as (
               select a.team_id, a.model_id, l.currency, sum(l.billed_cost * coalesce(a.share, 1)) as amount
                 from current_bill_line l
                 left join bill_allocation a using (bill_import_id, line_number)
                group by 1, 2, 3
           )
           select tm.name as "team?", m.name as "model?", s.currency as "currency!", s.amount as "amount!"
             from sums s
             left join team tm on tm.team_id = s.team_id
             left join model m on m.model_id = s.model_id"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.team, r.model, r.currency, r.amount))
        .collect())
}

fn moves(before: Totals, after: Totals) -> Vec<Move> {
    // (team, model, currency) -> (before, after)
    type Key = (Option<String>, Option<String>, String);
    let mut all: std::collections::BTreeMap<Key, (Decimal, Decimal)> = Default::default();
    for (team, model, currency, amount) in before {
        all.entry((team, model, currency)).or_default().0 += amount;
    }
    for (team, model, currency, amount) in after {
        all.entry((team, model, currency)).or_default().1 += amount;
    }
    let mut moves: Vec<Move> = all
        .into_iter()
        .filter(|(_, (before, after))| (*before - *after).abs() >= Decimal::new(1, 4))
        .map(|((team, model, currency), (before, after))| Move {
            team,
            model,
            currency,
            before: before.round_dp(2),
            after: after.round_dp(2),
        })
        .collect();
    // The largest change first; where two are equal, named targets before "unallocated".
    moves.sort_by(|a, b| {
        (b.after - b.before)
            .abs()
            .cmp(&(a.after - a.before).abs())
            .then_with(|| a.team.is_none().cmp(&b.team.is_none()))
    });
    moves
}
