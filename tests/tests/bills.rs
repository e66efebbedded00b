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
        &["token", "create", "--name", "finance", "--scope", "write"],
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
    // On the first day of a month there is no preliminary export yet.
    assert!(superseded <= 1);
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
