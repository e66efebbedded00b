//! Quarterly TCO and drift through the real `pareto` binary on the demo organization: the page, the
//! API's JSON, CSV and XLSX and `pareto report tco` all carry the same figures, read back by
//! parsing each file; the drift API stores a batch once.

use calamine::{Data, Reader, Xlsx};
use leptos::server_fn::ServerFn;
use pareto_tests::{client, pareto, text, Scratch, Server, TestDb};
use rust_decimal::Decimal;
use std::io::Cursor;

fn quarter() -> String {
    app::reports::Quarter::containing(app::clock::now()).to_string()
}

fn csv_total(bytes: &[u8]) -> (Decimal, usize) {
    let mut reader = csv::Reader::from_reader(bytes);
    let column = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "total")
        .expect("a total column");
    let mut sum = Decimal::ZERO;
    let mut rows = 0;
    for record in reader.records() {
        sum += record.expect("row")[column]
            .parse::<Decimal>()
            .expect("amount");
        rows += 1;
    }
    (sum, rows)
}

fn number(cell: Option<&Data>) -> Decimal {
    match cell {
        Some(Data::Float(v)) => Decimal::try_from(*v).expect("finite").round_dp(2),
        Some(Data::Int(v)) => Decimal::from(*v),
        Some(Data::String(s)) => s.parse().expect("amount"),
        other => panic!("not a number: {other:?}"),
    }
}

/// The summary sheet's "All teams" total, and each team sheet's total row summed.
fn xlsx_totals(bytes: Vec<u8>) -> (Decimal, Decimal, usize) {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an XLSX file");
    let names = book.sheet_names().to_vec();
    assert_eq!(names[0], "Summary");
    let summary = book.worksheet_range("Summary").expect("summary");
    let headers: Vec<String> = summary
        .rows()
        .nth(2)
        .expect("header row")
        .iter()
        .map(|c| c.to_string())
        .collect();
    let total_column = headers.iter().position(|h| h == "Total").expect("Total");
    let all = summary
        .rows()
        .find(|row| row.first().map(|c| c.to_string()) == Some("All teams".into()))
        .expect("an All teams row");
    let summary_total = number(all.get(total_column));
    let mut teams_total = Decimal::ZERO;
    for name in &names[1..] {
        let sheet = book.worksheet_range(name).expect("team sheet");
        let header: Vec<String> = sheet
            .rows()
            .next()
            .expect("header")
            .iter()
            .map(|c| c.to_string())
            .collect();
        let column = header.iter().position(|h| h == "Total").expect("Total");
        let total = sheet
            .rows()
            .find(|row| row.first().map(|c| c.to_string()) == Some("Total".into()))
            .expect("a Total row");
        teams_total += number(total.get(column));
    }
    (summary_total, teams_total, names.len() - 1)
}

async fn sign_in(server: &Server, email: &str, password: &str) -> String {
    server
        .sign_in(app::auth::Login::PATH, email, password)
        .await
}

/// The text of the first element marked `data-testid="{id}"` in a page.
fn marked(page: &str, id: &str) -> Option<String> {
    let at = page.find(&format!("data-testid=\"{id}\""))?;
    let rest = &page[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')?;
    Some(rest[start..start + end].trim().to_owned())
}

#[tokio::test]
async fn every_tco_export_equals_the_page_on_the_demo() {
    let db = TestDb::new().await;
    let demo = pareto(&db, &["demo", "--password", "demo-password-2026"], "");
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let created = pareto(
        &db,
        &["token", "create", "--name", "finance", "--scope", "read"],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    let server = Server::start(&db).await;
    let quarter = quarter();
    let api = |format: &str| {
        server.url(&format!(
            "/api/v1/reports/tco?quarter={quarter}&format={format}"
        ))
    };
    let json: serde_json::Value = client()
        .get(api("json"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("a JSON report");
    let total: Decimal = json["total"]
        .as_str()
        .expect("total")
        .parse()
        .expect("amount");
    assert!(
        total > Decimal::from(1000),
        "the demo quarter costs something: {json}"
    );
    let teams = json["teams"].as_array().expect("teams").len();
    assert!(teams >= 3, "{json}");

    let csv = client()
        .get(api("csv"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    let (csv_sum, rows) = csv_total(&csv.bytes().await.expect("bytes"));
    assert_eq!(
        csv_sum, total,
        "the CSV's lines add up to the report's total"
    );
    assert!(rows > teams);

    let xlsx = client()
        .get(api("xlsx"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("xlsx");
    assert_eq!(xlsx.status(), 200);
    let (summary, by_team, sheets) = xlsx_totals(xlsx.bytes().await.expect("bytes").to_vec());
    assert_eq!(summary, total, "the summary sheet's total");
    assert_eq!(by_team, total, "the team sheets' totals");
    assert_eq!(sheets, teams, "one sheet per team");

    let scratch = Scratch::new("tco");
    let file = scratch.0.join("tco.xlsx");
    let written = pareto(
        &db,
        &[
            "report",
            "tco",
            "--quarter",
            &quarter,
            "--format",
            "xlsx",
            "--output",
            file.to_str().expect("path"),
        ],
        "",
    );
    assert!(written.status.success(), "{}", text(&written.stderr));
    let (from_cli, _, _) = xlsx_totals(std::fs::read(&file).expect("file"));
    assert_eq!(from_cli, total, "the command line writes the same report");
    let refused = pareto(
        &db,
        &[
            "report",
            "tco",
            "--quarter",
            "next year",
            "--output",
            "x.csv",
        ],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("write it as 2026-Q3"),
        "{}",
        text(&refused.stderr)
    );

    // The page shows the same total as the exports.
    let cookie = sign_in(&server, "grace@example.com", "demo-password-2026").await;
    let page = client()
        .get(server.url("/reports"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let shown = marked(&page, "tco-total").expect("the page's total");
    assert_eq!(
        shown,
        app::format::format_money(total, json["currency"].as_str().expect("currency")),
        "the page's total is the exports' total"
    );
}

#[tokio::test]
async fn the_demo_has_one_deployment_drifting_while_its_cost_rises() {
    let db = TestDb::new().await;
    let demo = pareto(&db, &["demo", "--password", "demo-password-2026"], "");
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let server = Server::start(&db).await;
    let cookie = sign_in(&server, "tom@example.com", "demo-password-2026").await;
    let reply = client()
        .post(server.url(app::drift::LoadDrift::PATH))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&[("range", "30d"), ("from", ""), ("to", "")])
        .send()
        .await
        .expect("drift");
    assert!(reply.status().is_success());
    let view: serde_json::Value = reply.json().await.expect("json");
    let rows = view["rows"].as_array().expect("rows");
    let drifting: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["state"] == "drifting").collect();
    assert_eq!(drifting.len(), 1, "{rows:?}");
    assert_eq!(drifting[0]["key"], "recsys-two-tower-v4");
    let rise = drifting[0]["per_1k_change_pct"].as_f64().expect("a change");
    assert!(rise > 10.0, "its cost per 1,000 rises: {rise}");
    assert!(
        rows.iter().any(|r| r["state"] == "warning"),
        "the fraud model warns"
    );

    // A monitoring job posts through the API: stored once.
    let created = pareto(
        &db,
        &["token", "create", "--name", "monitor", "--scope", "ingest"],
        "",
    );
    let token = text(&created.stdout).trim().to_owned();
    let batch = serde_json::json!({
        "batch_id": uuid::Uuid::new_v4(),
        "measurements": [{ "ts": app::clock::now().to_rfc3339(), "deployment": "search-bert-v2",
                           "kind": "data", "feature": "query_length", "metric": "ks", "value": 0.04 }]
    });
    for (expected, duplicate) in [(202, false), (200, true)] {
        let answer = client()
            .post(server.url("/api/v1/drift"))
            .bearer_auth(&token)
            .json(&batch)
            .send()
            .await
            .expect("drift");
        assert_eq!(answer.status(), expected);
        let body: serde_json::Value = answer.json().await.expect("json");
        assert_eq!(body["duplicate"], duplicate);
    }
}
