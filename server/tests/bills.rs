//! Bill imports through the real router: the API and the browser's upload run the same importer;
//! a refused file stores nothing, the same file twice is one import, a newer export supersedes.

use std::io::Write;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sqlx::PgPool;

use crate::common::*;
use app::audit::Actor;
use app::auth::Role;
use app::tokens::Scope;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../bills/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("compresses");
    encoder.finish().expect("compresses")
}

async fn api_import(router: &axum::Router, token: &str, query: &str, body: Vec<u8>) -> Reply {
    let request = Request::post(format!("/api/v1/bills/import?{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

async fn upload(
    router: &axum::Router,
    cookie: &str,
    fetch_site: &str,
    query: &str,
    body: Vec<u8>,
) -> Reply {
    let request = Request::post(format!("/bills/upload?{query}"))
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", fetch_site)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

const FOCUS_HEADER: &str = "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,BilledCost,EffectiveCost,BillingCurrency,Tags\n";

fn focus(rows: &[&str]) -> Vec<u8> {
    let mut text = FOCUS_HEADER.to_string();
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text.into_bytes()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_export_is_imported_whole_and_the_same_file_again_changes_nothing(pool: PgPool) {
    let router = router(pool.clone());
    let (_, secret) = token(&pool, "finance-pipeline", &[Scope::Bills]).await;
    let reply = api_import(
        &router,
        &secret,
        "file_name=focus.csv",
        fixture("focus_1_0.csv"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["duplicate"], false);
    assert_eq!(body["import"]["rows"], 3);
    assert_eq!(body["import"]["format"], "focus");
    assert_eq!(body["import"]["imported_by"], "API token finance-pipeline");
    assert_eq!(body["import"]["totals"][0]["currency"], "USD");
    assert_eq!(body["import"]["totals"][0]["billed_cost"], "1182.7726");
    assert_eq!(count(&pool, "bill_line").await, 3);
    let original: serde_json::Value =
        sqlx::query_scalar("select original::jsonb from bill_line where line_number = 2")
            .fetch_one(&pool)
            .await
            .expect("the first row");
    assert_eq!(
        original[9], "p4d.24xlarge, On Demand\nLinux",
        "the cells as written are kept"
    );

    // The same text, gzip-compressed, is the same file.
    let again = api_import(
        &router,
        &secret,
        "file_name=focus.csv.gz",
        gzip(&fixture("focus_1_0.csv")),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(again.json()["import"]["file_name"], "focus.csv");
    assert_eq!(count(&pool, "bill_line").await, 3);
    assert_eq!(count(&pool, "bill_import").await, 1);

    // A Content-Encoding: gzip body is read like any other.
    let request = Request::post("/api/v1/bills/import?file_name=gcp.csv")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gzip(&fixture("gcp.csv"))))
        .expect("request");
    let reply = send(&router, request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["import"]["format"], "gcp");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'bill.import'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 2);
}

/// A 422 whose body says `text`.
fn refused_with(reply: &Reply, text: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains(text), "{}", reply.body);
}

#[sqlx::test(migrations = "../migrations")]
async fn what_a_file_expands_to_is_bounded_and_a_refused_one_stores_nothing(pool: PgPool) {
    let router = router_configured(pool.clone(), |config| {
        config.bill_limit_bytes = 4 << 20;
        config.bill_record_limit_bytes = 64 << 10;
    });
    let (_, secret) = token(&pool, "finance-pipeline", &[Scope::Bills]).await;

    // 16 MiB of rows, about 60 KiB once gzipped: under the body limit, over it decompressed.
    let row = "acct,2026-09-01,2026-10-01,2026-09-01T00:00:00Z,2026-09-02T00:00:00Z,Usage,AWS,Amazon EC2,1.00,1.00,USD,\n";
    let mut big = FOCUS_HEADER.to_string();
    while big.len() < 16 << 20 {
        big.push_str(row);
    }
    let bomb = gzip(big.as_bytes());
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let reply = api_import(&router, &secret, "file_name=bomb.csv.gz", bomb.clone()).await;
    refused_with(&reply, "larger than 4 MiB once decompressed");

    // Sent as Content-Encoding: gzip, the same file is a gzip inside a gzip: one layer is opened,
    // and what is inside is not an export.
    let request = Request::post("/api/v1/bills/import?file_name=bomb.csv.gz")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gzip(&bomb)))
        .expect("request");
    let reply = send(&router, request).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );

    // One record of 3 MiB with no line break: refused at its line.
    let mut long = FOCUS_HEADER.to_string();
    long.push_str("acct,\"");
    long.push_str(&"x".repeat(3 << 20));
    let reply = api_import(
        &router,
        &secret,
        "file_name=long.csv",
        gzip(long.as_bytes()),
    )
    .await;
    refused_with(&reply, "a row is longer than 64 KiB");
    assert_eq!(
        reply.json()["errors"][0]["path"],
        "line 2",
        "{}",
        reply.body
    );
    // The header itself, endless.
    let reply = api_import(
        &router,
        &secret,
        "file_name=header.csv",
        "x".repeat(3 << 20).into_bytes(),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("longer than 64 KiB"), "{}", reply.body);

    assert_eq!(count(&pool, "bill_line").await, 0);
    assert_eq!(count(&pool, "bill_import").await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_file_with_a_bad_row_is_refused_whole_with_each_line_column_and_value(pool: PgPool) {
    let router = router(pool.clone());
    let (_, secret) = token(&pool, "finance-pipeline", &[Scope::Bills]).await;
    let file = focus(&[
        "acct,2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,EC2,1.00,1.00,USD,",
        "acct,2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,EC2,12;50,1.00,USD,",
        "acct,2026-09-01,2026-10-01,someday,2026-09-03,Usage,AWS,EC2,1.00,1.00,USD,",
    ]);
    let reply = api_import(&router, &secret, "file_name=bad.csv", file.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let body = reply.json();
    assert_eq!(
        body["detail"],
        "2 rows could not be read. Nothing was imported."
    );
    assert_eq!(body["errors"][0]["path"], "line 3, BilledCost");
    assert_eq!(body["errors"][0]["message"], "`12;50` is not an amount");
    assert_eq!(body["errors"][1]["path"], "line 4, ChargePeriodStart");
    for table in [
        "bill_line",
        "bill_import",
        "bill_scope",
        "bill_import_total",
    ] {
        assert_eq!(count(&pool, table).await, 0, "{table} holds nothing");
    }

    // The browser's upload answers the same problems for its table.
    let lead = signed_in(&pool, Role::Lead).await;
    let reply = upload(&router, &lead, "same-origin", "file_name=bad.csv", file).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let body = reply.json();
    assert_eq!(body["result"], "refused");
    assert_eq!(body["errors"][0]["line"], 3);
    assert_eq!(body["errors"][0]["column"], "BilledCost");
    assert_eq!(body["errors"][0]["value"], "12;50");
    assert_eq!(count(&pool, "bill_line").await, 0);

    // A header no format fits, a wrong chosen format, an empty body.
    let reply = api_import(
        &router,
        &secret,
        "file_name=x.csv",
        b"date,amount\n1,2\n".to_vec(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("starts with date, amount"),
        "{}",
        reply.body
    );
    let reply = api_import(
        &router,
        &secret,
        "file_name=x.csv&format=azure",
        fixture("gcp.csv"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Azure cost details"), "{}", reply.body);
    let reply = api_import(
        &router,
        &secret,
        "file_name=x.csv&format=oracle",
        fixture("gcp.csv"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["errors"][0]["path"], "format");
    let reply = api_import(&router, &secret, "file_name=x.csv", Vec::new()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json()["detail"],
        "The file is empty. Nothing was imported."
    );
    assert_eq!(count(&pool, "bill_import").await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_newer_export_of_the_same_account_and_period_supersedes_the_older(pool: PgPool) {
    let router = router(pool.clone());
    let (_, secret) = token(&pool, "finance-pipeline", &[Scope::Bills]).await;
    let first = focus(&[
        "acct-1,2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,EC2,100.00,100.00,USD,",
        "acct-2,2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,EC2,7.00,7.00,USD,",
    ]);
    let reply = api_import(&router, &secret, "file_name=sep-1.csv", first).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let first_id = reply.json()["import"]["bill_import_id"].clone();
    // A later export of acct-1's September, with a correction; acct-2 is not in it.
    let second = focus(&[
        "acct-1,2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,EC2,90.00,90.00,USD,",
        "acct-1,2026-09-01,2026-10-01,2026-09-04,2026-09-05,Usage,AWS,EC2,20.00,20.00,USD,",
    ]);
    let reply = api_import(&router, &secret, "file_name=sep-2.csv", second).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["superseded"], serde_json::json!([first_id]));
    let current: rust_decimal::Decimal =
        sqlx::query_scalar("select sum(billed_cost) from current_bill_line")
            .fetch_one(&pool)
            .await
            .expect("sum");
    assert_eq!(
        current,
        rust_decimal::Decimal::new(11700, 2),
        "90 + 20 for acct-1, 7 for acct-2"
    );
    assert_eq!(
        count(&pool, "bill_line").await,
        4,
        "the ledger keeps both exports"
    );

    // The history says which import is current for what.
    let viewer = signed_in(&pool, Role::Viewer).await;
    let reply = call::<app::bills::ListImports>(&router, Some(&viewer), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let list = reply.json();
    assert_eq!(list[0]["file_name"], "sep-2.csv");
    let scopes = list[1]["scopes"].as_array().expect("scopes");
    let superseded: Vec<bool> = scopes
        .iter()
        .map(|s| !s["superseded_by"].is_null())
        .collect();
    assert_eq!(
        superseded,
        vec![true, false],
        "acct-1 superseded, acct-2 still current"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn only_leads_upload_and_only_write_tokens_import(pool: PgPool) {
    let router = router(pool.clone());
    let file = fixture("azure.csv");
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    for (role, cookie) in [(Role::Viewer, &viewer), (Role::Member, &member)] {
        let reply = upload(
            &router,
            cookie,
            "same-origin",
            "file_name=a.csv",
            file.clone(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    let reply = send(
        &router,
        Request::post("/bills/upload?file_name=a.csv")
            .body(Body::from(file.clone()))
            .expect("request"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let lead = signed_in(&pool, Role::Lead).await;
    let reply = upload(
        &router,
        &lead,
        "cross-site",
        "file_name=a.csv",
        file.clone(),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "a cross-site upload is refused"
    );
    assert_eq!(count(&pool, "bill_import").await, 0);

    let (_, read_only) = token(&pool, "dashboards", &[Scope::Read]).await;
    let reply = api_import(&router, &read_only, "file_name=a.csv", file.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A training pipeline's `write` token records runs, not bills.
    let (_, pipeline) = token(&pool, "training-pipeline", &[Scope::Write]).await;
    let reply = api_import(&router, &pipeline, "file_name=a.csv", file.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.body.contains("`bills` scope"), "{}", reply.body);
    let (id, writer) = token(&pool, "finance", &[Scope::Bills]).await;
    app::tokens::store::revoke(&pool, &Actor::System, id)
        .await
        .expect("revoked");
    let reply = api_import(&router, &writer, "file_name=a.csv", file.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "a revoked token stops working"
    );
    assert_eq!(count(&pool, "bill_import").await, 0);

    let reply = upload(
        &router,
        &lead,
        "same-origin",
        "file_name=azure.csv&format=azure",
        file,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["result"], "imported");
    assert_eq!(body["import"]["imported_by"], "lead@example.com");
    assert_eq!(body["import"]["rows"], 2);

    let page = get(&router, "/bills", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Cloud bills"),
        "the page renders for a viewer"
    );
}

fn rule_form<'a>(fields: &[(&'a str, &'a str)]) -> Vec<(String, &'a str)> {
    [
        "rule_id",
        "name",
        "kind",
        "key",
        "pattern",
        "team_id",
        "model_id",
        "deployment_id",
        "split_deployments",
        "split",
    ]
    .iter()
    .map(|f| {
        (
            format!("input[{f}]"),
            fields.iter().find(|(k, _)| k == f).map_or("", |(_, v)| *v),
        )
    })
    .collect()
}

async fn rule_call<S: leptos::server_fn::ServerFn>(
    router: &axum::Router,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let form = rule_form(fields);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    call::<S>(router, Some(cookie), &pairs).await
}

#[sqlx::test(migrations = "../migrations")]
async fn rules_allocate_rows_after_a_preview_and_the_export_carries_them(pool: PgPool) {
    let router = router(pool.clone());
    let (_, secret) = token(&pool, "finance-pipeline", &[Scope::Bills]).await;
    let reply = api_import(
        &router,
        &secret,
        "file_name=focus.csv",
        fixture("focus_1_0.csv"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let team = app::teams::store::create(&pool, &Actor::System, "Search & Ranking", "")
        .await
        .expect("team")
        .to_string();
    assert_eq!(
        count(&pool, "bill_allocation").await,
        0,
        "with no rules every row is unallocated"
    );

    let rule = [
        ("name", "Search GPUs"),
        ("kind", "tag"),
        ("key", "team"),
        ("pattern", "sear*"),
        ("team_id", team.as_str()),
        ("split", "equal"),
    ];
    let member = signed_in(&pool, Role::Member).await;
    let reply = rule_call::<app::bills::SaveRule>(&router, &member, &rule).await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "members do not write rules"
    );

    let lead = signed_in(&pool, Role::Lead).await;
    let reply = rule_call::<app::bills::PreviewRule>(&router, &lead, &rule).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let preview = reply.json();
    assert_eq!(preview["rows"], 1);
    assert_eq!(preview["moves"][0]["team"], "Search & Ranking");
    assert_eq!(preview["moves"][0]["before"], "0");
    assert_eq!(preview["moves"][0]["after"], "32.77");
    assert_eq!(
        count(&pool, "allocation_rule").await,
        0,
        "a preview saves nothing"
    );

    let reply = rule_call::<app::bills::SaveRule>(&router, &lead, &rule).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(count(&pool, "allocation_rule").await, 1);

    // Editing the rule so that it matches nothing gives its row back to no one.
    let rule_id: uuid::Uuid = sqlx::query_scalar("select allocation_rule_id from allocation_rule")
        .fetch_one(&pool)
        .await
        .expect("the rule");
    let rule_id = rule_id.to_string();
    let mut narrowed = rule.to_vec();
    narrowed[3] = ("pattern", "nothing*");
    narrowed.push(("rule_id", rule_id.as_str()));
    let reply = rule_call::<app::bills::PreviewRule>(&router, &lead, &narrowed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let preview = reply.json();
    assert_eq!(preview["rows"], 0);
    assert_eq!(preview["sample"], serde_json::Value::Null);
    assert_eq!(preview["moves"][0]["team"], "Search & Ranking", "{preview}");
    assert_eq!(preview["moves"][0]["before"], "32.77");
    assert_eq!(preview["moves"][0]["after"], "0.00");
    assert_eq!(preview["moves"][1]["team"], serde_json::Value::Null);
    assert_eq!(
        count(&pool, "bill_allocation").await,
        1,
        "a preview leaves the allocation as it was"
    );

    // A shared cost split equally across two deployments.
    sqlx::query("insert into deployment (key) values ('sagemaker-a'), ('sagemaker-b')")
        .execute(&pool)
        .await
        .expect("deployments");
    let split = [
        ("name", "SageMaker, shared"),
        ("kind", "service"),
        ("pattern", "Amazon SageMaker"),
        ("split_deployments", "sagemaker-a\nsagemaker-b"),
        ("split", "equal"),
    ];
    let reply = rule_call::<app::bills::SaveRule>(&router, &lead, &split).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let unknown = [
        ("name", "x"),
        ("kind", "service"),
        ("pattern", "y"),
        ("split_deployments", "nope"),
    ];
    let reply = rule_call::<app::bills::PreviewRule>(&router, &lead, &unknown).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("No deployment has the key nope."),
        "{}",
        reply.body
    );

    // The export, read back by the importer's reader: the credit comes twice, half each.
    let viewer = signed_in(&pool, Role::Viewer).await;
    let export = get(&router, "/bills/export.csv", Some(&viewer)).await;
    assert_eq!(export.status, StatusCode::OK);
    let mut reader =
        bills::BillReader::open(std::io::Cursor::new(export.body.clone().into_bytes()), None)
            .expect("the export is FOCUS");
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row() {
        rows.push(row.expect("a valid row"));
    }
    assert_eq!(rows.len(), 4, "{}", export.body);
    let credits: Vec<String> = rows
        .iter()
        .filter(|r| r.service_name == "Amazon SageMaker")
        .map(|r| r.billed_cost.to_string())
        .collect();
    assert_eq!(credits, vec!["-50", "-50"]);
    let lines: Vec<&str> = export.body.lines().collect();
    assert!(lines[0].ends_with("x_Team,x_Model,x_Deployment"));
    assert!(
        export.body.contains(",Search & Ranking,,"),
        "{}",
        export.body
    );
    assert!(export.body.contains(",,,sagemaker-a"), "{}", export.body);
    let total: rust_decimal::Decimal = rows.iter().map(|r| r.billed_cost).sum();
    assert_eq!(
        total,
        rust_decimal::Decimal::new(11827726, 4),
        "the export sums to the bill"
    );

    // The same file compressed on the way, for a client that accepts gzip.
    let request = Request::get("/bills/export.csv")
        .header(header::COOKIE, &viewer)
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("request");
    let response = tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .expect("response");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("the whole body")
        .to_bytes();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut text,
    )
    .expect("gzip");
    assert_eq!(text, export.body);

    // The API gives the same file to a read token; the page's link needs a session.
    let (_, reader_token) = token(&pool, "dashboards", &[Scope::Read]).await;
    let api = bearer(&router, "/api/v1/bills/export", &reader_token).await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.body, export.body);
    assert_eq!(
        get(&router, "/bills/export.csv", None).await.status,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rule_change_over_a_large_ledger_runs_as_a_job_and_pages_show_the_previous_allocation_until_it_ends(
    pool: PgPool,
) {
    // Three rows count as large here, and the job takes one row per step.
    let router = router_configured(pool.clone(), |config| {
        config.allocate_inline_rows = 2;
        config.allocate_batch_rows = 1;
        config.allocate_preview_rows = 2;
    });
    let (_, secret) = token(&pool, "finance-pipeline", &[Scope::Bills]).await;
    let imported = api_import(
        &router,
        &secret,
        "file_name=focus.csv",
        fixture("focus_1_0.csv"),
    )
    .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    let team = new_team(&pool, "Search & Ranking").await;
    let lead = signed_in(&pool, Role::Lead).await;
    join(&pool, Role::Lead, team).await;
    let team = team.to_string();
    let job = |pool: PgPool| async move { app::bills::allocate::job(&pool).await.expect("job") };

    let search = [
        ("name", "Search GPUs"),
        ("kind", "tag"),
        ("key", "team"),
        ("pattern", "sear*"),
        ("team_id", team.as_str()),
        ("split", "equal"),
    ];
    let saved = rule_call::<app::bills::SaveRule>(&router, &lead, &search).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(
        saved.json()["rows"],
        serde_json::Value::Null,
        "a save the job re-allocates answers without measuring the rule"
    );
    assert_eq!(saved.json()["reallocating"], 3, "{}", saved.body);
    assert_eq!(
        count(&pool, "bill_allocation").await,
        0,
        "pages read the previous allocation (none) until the job ends"
    );
    let page = get(&router, "/bills/rules", Some(&lead)).await;
    assert!(
        page.body.contains("Re-allocating the ledger") && page.body.contains("0 of 3 rows"),
        "the rules page shows the job"
    );

    // A ledger larger than a preview reads is estimated from a sample of its pages.
    let everything = [
        ("name", "Everything"),
        ("kind", "service"),
        ("pattern", "*"),
        ("team_id", team.as_str()),
        ("split", "equal"),
    ];
    let preview = rule_call::<app::bills::PreviewRule>(&router, &lead, &everything).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let preview = preview.json();
    assert!(preview["sample"]["rows"].as_i64().is_some(), "{preview}");
    assert!(preview["sample"]["of"].as_i64().is_some(), "{preview}");
    assert!(
        preview["rows"].as_i64() <= preview["sample"]["of"].as_i64(),
        "the rule takes at most the ledger: {preview}"
    );

    let step = app::bills::allocate::step(&pool, 1).await.expect("step");
    assert_eq!(
        step,
        app::bills::allocate::Step::Batch {
            rows_done: 1,
            rows_total: 3
        }
    );
    assert_eq!(count(&pool, "bill_allocation").await, 0);

    // Another change while the job runs starts it over, from the rules as they stand.
    let credits = [
        ("name", "SageMaker credits"),
        ("kind", "service"),
        ("pattern", "Amazon SageMaker"),
        ("team_id", team.as_str()),
        ("split", "equal"),
    ];
    let saved = rule_call::<app::bills::SaveRule>(&router, &lead, &credits).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let restarted = job(pool.clone()).await;
    assert!(restarted.running);
    assert_eq!((restarted.rows_done, restarted.rows_total), (0, 3));

    let rows = app::bills::allocate::run_job(&pool, 1)
        .await
        .expect("the job runs");
    assert_eq!(rows, Some(3));
    let finished = job(pool.clone()).await;
    assert!(!finished.running);
    assert_eq!(finished.rows_done, 3);
    assert_eq!(
        count(&pool, "bill_allocation").await,
        2,
        "both rules' rows, switched in at once"
    );
    assert_eq!(count(&pool, "bill_allocation_next").await, 0);
    let rules = call::<app::bills::ListRules>(&router, Some(&lead), &[]).await;
    let taken: Vec<i64> = rules
        .json()
        .as_array()
        .expect("rules")
        .iter()
        .map(|rule| rule["rows"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(taken, [1, 1]);
    let page = get(&router, "/bills/rules", Some(&lead)).await;
    assert!(!page.body.contains("Re-allocating the ledger"));
    assert_eq!(
        app::bills::allocate::step(&pool, 1).await.expect("step"),
        app::bills::allocate::Step::Idle
    );
}
