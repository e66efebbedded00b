//! `make bench`: a generated FOCUS export of about 1 GB (BENCH_BILL_BYTES) imported by
//! `pareto bills import` (the real release binary: read and check every row, COPY, totals,
//! supersession, allocation, commit), beside a raw `COPY` of the same rows, already in COPY's text
//! format on disk, into the same table, in the same run. Reports rows/s for both, their ratio, and
//! the importer's peak resident memory.

use std::io::{BufWriter, Read, Write};
use std::time::{Duration, Instant};

use pareto_tests::{binary, pareto, text, TestDb};
use sqlx::postgres::PgPoolOptions;

fn env_size(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

const HEADER: &str = "BillingAccountId,SubAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ServiceProviderName,ServiceName,ServiceCategory,ResourceId,ResourceName,RegionId,SkuId,ConsumedQuantity,ConsumedUnit,BilledCost,EffectiveCost,ListCost,BillingCurrency,Tags\n";

const SERVICES: [(&str, &str); 6] = [
    ("Amazon Elastic Compute Cloud", "Compute"),
    ("Amazon SageMaker", "AI and Machine Learning"),
    ("Amazon Simple Storage Service", "Storage"),
    ("AWS Data Transfer", "Networking"),
    ("Amazon Elastic Block Store", "Storage"),
    ("Amazon CloudWatch", "Management and Governance"),
];
const TEAMS: [&str; 5] = ["search", "fraud", "platform", "forecasting", "growth"];

/// One hourly charge of a big organization's AWS account, as a FOCUS export writes it.
fn row(i: u64, out: &mut impl Write) -> std::io::Result<()> {
    let account = 100_000_000_000 + (i % 3);
    let month = 9 + (i / 7) % 3;
    let day = 1 + (i / 21) % 28;
    let hour = (i / 588) % 24;
    let (service, category) = SERVICES[(i % 6) as usize];
    let host = i % 2_000;
    let team = TEAMS[(host % 5) as usize];
    let cost = (i * 7_919) % 9_000_000;
    writeln!(
        out,
        "{account},{account},2026-{month:02}-01T00:00:00Z,2026-{:02}-01T00:00:00Z,2026-{month:02}-{day:02}T{hour:02}:00:00Z,2026-{month:02}-{day:02}T{hour:02}:59:59Z,Usage,AWS,{service},{category},arn:aws:ec2:us-east-1:{account}:instance/i-{host:08x},gpu-node-{host},us-east-1,SKU{},1,Hours,{}.{:06},{}.{:06},{}.{:06},USD,\"{{\"\"team\"\":\"\"{team}\"\",\"\"deployment\"\":\"\"model-{}-v{}\"\"}}\"",
        month + 1,
        i % 97,
        cost / 1_000_000,
        cost % 1_000_000,
        cost * 9 / 10 / 1_000_000,
        cost * 9 / 10 % 1_000_000,
        cost * 12 / 10 / 1_000_000,
        cost * 12 / 10 % 1_000_000,
        host % 40,
        host % 3,
    )
}

/// Writes the FOCUS file until it is `bytes` long; answers its row count.
fn generate(path: &std::path::Path, bytes: u64) -> u64 {
    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("file"));
    file.write_all(HEADER.as_bytes()).expect("write");
    let mut written = HEADER.len() as u64;
    let mut line = Vec::with_capacity(512);
    let mut rows = 0;
    while written < bytes {
        line.clear();
        row(rows, &mut line).expect("row");
        file.write_all(&line).expect("write");
        written += line.len() as u64;
        rows += 1;
    }
    file.flush().expect("flush");
    rows
}

/// The same rows in COPY's text format, as the importer encodes them.
fn copy_text(csv: &std::path::Path, out: &std::path::Path) {
    let input = std::fs::File::open(csv).expect("csv");
    let mut reader = bills::BillReader::open(input, None).expect("header");
    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(out).expect("file"));
    let id = uuid::Uuid::new_v4().to_string();
    let mut line = Vec::with_capacity(1024);
    let mut scratch = Vec::new();
    while let Some(row) = reader.next_row() {
        let row = row.expect("generated rows are valid");
        line.clear();
        app::bills::import::encode(
            &mut line,
            &mut scratch,
            &id,
            reader.line(),
            &row,
            reader.original(),
        );
        file.write_all(&line).expect("write");
    }
    file.flush().expect("flush");
}

/// Sends the COPY text file to `bill_line` in one transaction, then empties the table again.
async fn raw_copy(pool: &sqlx::PgPool, copy: &std::path::Path, rows: u64) -> Duration {
    let started = Instant::now();
    let mut tx = pool.begin().await.expect("transaction");
    let mut sink = tx
        .copy_in_raw(
            "copy bill_line (bill_import_id, line_number, billing_account_id, sub_account_id, \
             billing_period_start, billing_period_end, charge_period_start, charge_period_end, charge_category, \
             provider, service_name, service_category, resource_id, resource_name, region, sku_id, \
             consumed_quantity, consumed_unit, billed_cost, effective_cost, list_cost, currency, tags, original) \
             from stdin",
        )
        .await
        .expect("copy");
    let mut file = std::fs::File::open(copy).expect("copy text");
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).expect("read");
        if read == 0 {
            break;
        }
        sink.send(&buffer[..read]).await.expect("send");
    }
    let copied = sink.finish().await.expect("finish");
    tx.commit().await.expect("commit");
    let elapsed = started.elapsed();
    assert_eq!(copied, rows);
    sqlx::query("truncate bill_line")
        .execute(pool)
        .await
        .expect("truncate");
    sqlx::query("vacuum bill_line")
        .execute(pool)
        .await
        .expect("vacuum");
    elapsed
}

/// Peak resident memory of a process, in MiB, while it lives.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::main]
async fn main() {
    let bytes = env_size("BENCH_BILL_BYTES", 1_000_000_000);
    let dir = std::env::temp_dir().join(format!("pareto-bench-bills-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let csv = dir.join("focus-export.csv");
    let copy = dir.join("focus-export.copy");
    let started = Instant::now();
    let rows = generate(&csv, bytes);
    let size = std::fs::metadata(&csv).expect("file").len();
    copy_text(&csv, &copy);
    println!(
        "generated {rows} rows ({:.2} GB FOCUS CSV) and their COPY text in {:.0} s",
        size as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );

    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&db.url())
        .await
        .expect("database");

    // Baseline: the rows straight from disk into the table, in one transaction; run before and
    // after the import, to show the machine's noise.
    let baseline = raw_copy(&pool, &copy, rows).await;

    // The importer, as an operator runs it.
    let started = Instant::now();
    let mut child = std::process::Command::new(binary())
        .args(["bills", "import", csv.to_str().expect("path")])
        .env("DATABASE_URL", db.url())
        .env("PARETO_LOG", "warn,app::bills=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pareto bills import");
    let pid = child.id();
    let mut peak: f64 = 0.0;
    while child.try_wait().expect("wait").is_none() {
        if let Some(rss) = peak_rss_mib(pid) {
            peak = peak.max(rss);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    let import = started.elapsed();
    if let Some(line) = text(&output.stderr)
        .lines()
        .find(|l| l.contains("imported a bill"))
    {
        println!("the importer's own log: {}", line.trim());
    }
    assert!(
        output.status.success(),
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from bill_line")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored as u64, rows, "{}", text(&output.stdout));

    // Re-allocation of every row by one tag rule that takes them all.
    let team = app::teams::store::create(&pool, &app::audit::Actor::System, "Everyone", "")
        .await
        .expect("team");
    let rule = |name: &str| {
        app::bills::rules::RuleInput {
            name: name.into(),
            kind: "tag".into(),
            key: "team".into(),
            pattern: "*".into(),
            team_id: team.to_string(),
            split: "equal".into(),
            ..Default::default()
        }
        .parse(&[])
        .expect("rule")
    };
    let actor = app::audit::Actor::System;
    let settings = app::state::AllocationSettings::default();
    let change = |name: &'static str, save: bool, inline_rows: i64| {
        let (pool, actor, rule) = (pool.clone(), actor.clone(), rule(name));
        let settings = app::state::AllocationSettings {
            inline_rows,
            ..settings.clone()
        };
        async move {
            let started = Instant::now();
            let (_, preview) =
                app::bills::allocate::change(&pool, &actor, None, rule, save, &settings)
                    .await
                    .expect("allocated");
            (started.elapsed(), preview)
        }
    };
    // What the rules page's preview costs, as Pareto reads it (a sample of a large ledger) and
    // every row read (the baseline): measured, nothing written.
    let (previewed, preview) = change("All teams", false, settings.inline_rows).await;
    let estimate = preview.rows.expect("measured");
    let sample = preview.sample.map_or(rows as i64, |sample| sample.rows);
    let previewed_whole = {
        let settings = app::state::AllocationSettings {
            preview_rows: i64::MAX,
            ..settings.clone()
        };
        let started = Instant::now();
        app::bills::allocate::change(&pool, &actor, None, rule("All teams"), false, &settings)
            .await
            .expect("previewed");
        started.elapsed()
    };
    // The baseline: saving and re-allocating every row in one transaction.
    let (inline, preview) = change("All teams", true, i64::MAX).await;
    assert_eq!(preview.reallocating, None);
    // As Pareto does it: the save answers, and the job re-allocates in batches.
    let (saved, preview) = change("All teams, again", true, settings.inline_rows).await;
    assert_eq!(preview.reallocating, Some(rows as i64));
    let started = Instant::now();
    let mut longest_step = Duration::ZERO;
    loop {
        let step_started = Instant::now();
        let step = app::bills::allocate::step(&pool, settings.batch_rows)
            .await
            .expect("step");
        longest_step = longest_step.max(step_started.elapsed());
        if !matches!(step, app::bills::allocate::Step::Batch { .. }) {
            break;
        }
    }
    let job = started.elapsed();

    sqlx::query("truncate bill_line, bill_allocation")
        .execute(&pool)
        .await
        .expect("truncate");
    sqlx::query("vacuum bill_line")
        .execute(&pool)
        .await
        .expect("vacuum");
    let baseline_after = raw_copy(&pool, &copy, rows).await;

    let per_second = |d: Duration| rows as f64 / d.as_secs_f64();
    println!(
        "raw COPY of the same rows: {:.1} s before the import, {:.1} s after ({:.0} and {:.0} rows/s)",
        baseline.as_secs_f64(),
        baseline_after.as_secs_f64(),
        per_second(baseline),
        per_second(baseline_after)
    );
    println!(
        "pareto bills import: {:.1} s, {:.0} rows/s ({:.0} MB/s of CSV), peak resident memory {peak:.0} MiB",
        import.as_secs_f64(),
        per_second(import),
        size as f64 / 1e6 / import.as_secs_f64()
    );
    let slower_baseline = baseline.max(baseline_after);
    let faster_baseline = baseline.min(baseline_after);
    println!(
        "import / COPY: {:.0}% to {:.0}% (target: at least 50%; memory target: under 300 MB)",
        per_second(import) / per_second(faster_baseline) * 100.0,
        per_second(import) / per_second(slower_baseline) * 100.0
    );
    println!(
        "a rule that takes every one of {rows} rows: preview {:.1} s (from a sample of {sample} rows, estimating {estimate}; reading every row: {:.1} s); save {:.1} s, then the job re-allocates in {:.1} s ({} rows a step, the longest {:.1} s); all in one transaction (the baseline): {:.1} s",
        previewed.as_secs_f64(),
        previewed_whole.as_secs_f64(),
        saved.as_secs_f64(),
        job.as_secs_f64(),
        settings.batch_rows,
        longest_step.as_secs_f64(),
        inline.as_secs_f64()
    );
    drop(pool);
    db.drop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
