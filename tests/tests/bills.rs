//! Bills through the real `pareto` binary: `pareto bills import` on the command line (a refused
//! file, a first import, the same file again, a newer export), the API with a token, and the demo's
//! three months of bills.

use pareto_tests::{client, pareto, text, Scratch, Server, TestDb};

const HEADER: &str = "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,BilledCost,EffectiveCost,BillingCurrency,Tags\n";

async fn lines(db: &TestDb, query: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let count = sqlx::query_scalar(query)
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    count
}

#[tokio::test]
async fn the_command_line_imports_whole_refuses_whole_and_says_when_a_file_was_seen() {
    let db = TestDb::new().await;
    let scratch = Scratch::new("bills");
    let bad = scratch.0.join("october-bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{HEADER}acct,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,EC2,10.00,10.00,USD,\n\
             acct,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,EC2,ten,10.00,USD,\n"
        ),
    )
    .expect("file");
    let refused = pareto(&db, &["bills", "import", bad.to_str().expect("path")], "");
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("line 3, BilledCost: `ten` is not an amount"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert_eq!(lines(&db, "select count(*) from bill_line").await, 0);

    let good = scratch.0.join("october.csv");
    std::fs::write(
        &good,
        format!("{HEADER}acct,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,EC2,\"$1,000.00\",1000,USD,\n"),
    )
    .expect("file");
    let imported = pareto(&db, &["bills", "import", good.to_str().expect("path")], "");
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        text(&imported.stdout).contains("Imported october.csv (FOCUS): 1 rows, 1,000.00 USD."),
        "{}",
        text(&imported.stdout)
    );
    let again = pareto(
        &db,
        &[
            "bills",
            "import",
            good.to_str().expect("path"),
            "--format",
            "focus",
        ],
        "",
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("october.csv was imported before"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(lines(&db, "select count(*) from bill_import").await, 1);

    // A newer export of the same account and month, through the API.
    let created = pareto(
        &db,
        &["token", "create", "--name", "finance", "--scope", "bills"],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    let server = Server::start(&db).await;
    let answer = client()
        .post(server.url("/api/v1/bills/import?file_name=october-final.csv"))
        .bearer_auth(&token)
        .body(format!("{HEADER}acct,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,EC2,990.00,990.00,USD,\n"))
        .send()
        .await
        .expect("import");
    assert_eq!(answer.status(), 201);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["superseded"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        lines(&db, "select count(*) from current_bill_line").await,
        1
    );
    assert_eq!(
        lines(&db, "select count(*) from bill_line").await,
        2,
        "the ledger keeps both"
    );
    let wrong = pareto(
        &db,
        &[
            "bills",
            "import",
            good.to_str().expect("path"),
            "--format",
            "oracle",
        ],
        "",
    );
    assert!(!wrong.status.success());
    assert!(
        text(&wrong.stderr).contains("`oracle` is not a bill format"),
        "{}",
        text(&wrong.stderr)
    );
}

#[tokio::test]
async fn the_demo_bills_are_allocated_and_one_preliminary_export_is_superseded() {
    let db = TestDb::new().await;
    let demo = pareto(&db, &["demo", "--password", "demo-password-2026"], "");
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    assert!(
        text(&demo.stdout).contains("three months of AWS and GCP bills"),
        "{}",
        text(&demo.stdout)
    );
    let superseded = lines(
        &db,
        "select count(*) from bill_scope where superseded_by is not null",
    )
    .await;
    // The newest month's preliminary export, whatever the day (on a month's first day, last month's).
    assert_eq!(superseded, 1);
    let unallocated = lines(
        &db,
        "select count(*) from current_bill_line l
          where l.charge_category = 'Usage' and l.service_name like '%Compute%'
            and not exists (select 1 from bill_allocation a
                             where a.bill_import_id = l.bill_import_id and a.line_number = l.line_number)",
    )
    .await;
    assert_eq!(unallocated, 0, "every GPU host's charge is allocated");
}

#[tokio::test]
async fn slow_export_readers_leave_pages_agents_and_probes_their_connections() {
    let db = TestDb::new().await;
    let scratch = Scratch::new("bills-slow");
    // About 20 MiB of ledger: more than socket buffers and the export's queue hold.
    let mut text = String::from(HEADER);
    for i in 0..120_000 {
        text.push_str(&format!(
            "acct,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,Amazon EC2 instance {i:06} of the inference fleet,10.00,10.00,USD,\"{{\"\"team\"\":\"\"fraud\"\",\"\"host\"\":\"\"gpu-node-{i}\"\"}}\"\n"
        ));
    }
    let file = scratch.0.join("october.csv");
    std::fs::write(&file, text).expect("file");
    let imported = pareto(&db, &["bills", "import", file.to_str().expect("path")], "");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let token = |scope: &str| {
        let created = pareto(
            &db,
            &[
                "token",
                "create",
                "--name",
                &format!("t-{scope}"),
                "--scope",
                scope,
            ],
            "",
        );
        String::from_utf8_lossy(&created.stdout).trim().to_owned()
    };
    let (reader, agent) = (token("read"), token("ingest"));
    // Four connections: one for streams, the rest for everything else.
    let server = Server::start_with(
        &db,
        "127.0.0.1:0",
        &[
            ("PARETO_DATABASE_MAX_CONNECTIONS", "4"),
            ("PARETO_STREAM_IDLE_TIMEOUT", "5s"),
        ],
    )
    .await;
    let http = client();
    let export = || {
        http.get(server.url("/api/v1/bills/export"))
            .bearer_auth(&reader)
            .send()
    };

    // A dozen clients ask for the ledger and read nothing.
    let mut slow = Vec::new();
    for _ in 0..12 {
        slow.push(export().await.expect("an answer"));
    }
    let statuses: Vec<u16> = slow.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        11,
        "{statuses:?}"
    );
    let busy = slow.iter().find(|r| r.status() == 503).expect("a refusal");
    assert_eq!(busy.headers()["retry-after"], "30");

    // Meanwhile probes, agents and pages answer.
    let ready = http
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let batch = serde_json::json!({
        "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-17",
        "samples": [{ "ts": app::clock::now().to_rfc3339(), "deployment": "fraud-lgbm-v3",
                      "gpu_uuid": "GPU-1", "gpu_index": 0, "gpu_model": "NVIDIA H100 80GB HBM3",
                      "interval_s": 10, "utilization_pct": 50, "memory_used_mib": 1000,
                      "power_watts": 300, "requests": 100 }]
    });
    let ingested = http
        .post(server.url("/api/v1/telemetry"))
        .bearer_auth(&agent)
        .json(&batch)
        .send()
        .await
        .expect("ingest");
    assert_eq!(ingested.status(), 202);
    let page = http.get(server.url("/setup")).send().await.expect("page");
    assert_eq!(page.status(), 200);

    // The one that never reads is given up on after its idle time, and its place taken anew.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let next = export().await.expect("an answer");
        if next.status() == 200 {
            let body = next.bytes().await.expect("the whole ledger");
            assert!(body.len() > 10 << 20, "{} bytes", body.len());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the stuck export kept its place"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    drop(slow);
    drop(server);
    db.drop().await;
}
