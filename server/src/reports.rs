//! Quarterly TCO exports: CSV (one row per model), XLSX (a summary sheet whose cells are formulas
//! over one sheet per team), and a print-ready HTML report with its chart inline. The page
//! `/reports/tco.{csv,xlsx,html}`, the API `GET /api/v1/reports/tco` and `pareto report tco` all
//! come here, so they cannot disagree.

use anyhow::Context;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format as CellFormat, Formula, Workbook};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::auth::ApiCaller;
use crate::api::error::ApiError;
use crate::charts::{stacked_bars, Theme};
use app::bills::explore::GroupRow;
use app::format::spreadsheet_text;
use app::reports::tco::{Line, Tco};
use app::reports::{parse_quarter, Quarter};
use app::state::AppState;
use app::tokens::Scope;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Html,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "xlsx" | "excel" => Ok(Format::Xlsx),
            "html" | "pdf" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "unknown format `{other}`: expected csv, xlsx, html or json"
            )),
        }
    }
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// The file a format makes of a report.
pub fn render(tco: &Tco, format: Format) -> anyhow::Result<Vec<u8>> {
    match format {
        Format::Csv => csv(tco),
        Format::Xlsx => xlsx(tco),
        Format::Html => Ok(html(tco).into_bytes()),
        Format::Json => Ok(serde_json::to_vec_pretty(&json(tco))?),
    }
}

pub fn file_name(quarter: Quarter, format: Format) -> String {
    format!("pareto-tco-{quarter}.{}", format.extension())
}

fn money(amount: Decimal) -> String {
    amount.round_dp(2).to_string()
}

fn pct(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.1}")).unwrap_or_default()
}

pub const CSV_HEADER: &[&str] = &[
    "quarter",
    "currency",
    "team",
    "model",
    "training",
    "inference_billed",
    "inference_estimated",
    "inference_basis",
    "inference",
    "storage",
    "engineering",
    "other",
    "total",
    "previous_quarter_total",
    "change_pct",
    "value_delivered",
    "roi_pct",
];

fn csv(tco: &Tco) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
    for team in &tco.teams {
        for line in &team.lines {
            let p = &line.parts;
            out.write_record([
                tco.quarter.to_string(),
                tco.currency.clone(),
                spreadsheet_text(&team.team),
                spreadsheet_text(&line.name),
                money(p.training),
                money(p.inference_billed),
                money(p.inference_estimated),
                p.inference_basis().to_owned(),
                money(p.inference()),
                money(p.storage),
                money(p.engineering),
                money(p.other),
                money(line.total()),
                money(line.previous_total),
                pct(line.change_pct()),
                line.value.map(money).unwrap_or_default(),
                pct(line.roi_pct()),
            ])?;
        }
    }
    out.into_inner().context("finishing the CSV")
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, unique in the workbook.
fn sheet_name(team: &str, taken: &mut Vec<String>) -> String {
    let cleaned: String = team
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { ' ' } else { c })
        .collect();
    let base: String = cleaned.trim().chars().take(28).collect();
    let base = if base.is_empty() {
        "Team".to_owned()
    } else {
        base
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) || name == "Summary" {
        name = format!("{base} {n}");
        n += 1;
    }
    taken.push(name.clone());
    name
}

fn number(amount: Decimal) -> f64 {
    amount.round_dp(2).to_f64().unwrap_or_default()
}

/// Column letters of a team sheet, A to J.
const TEAM_COLUMNS: [&str; 10] = [
    "Model",
    "Training",
    "Inference billed",
    "Inference estimated",
    "Inference (billed, else estimated)",
    "Storage",
    "Engineering",
    "Other",
    "Total",
    "Previous quarter",
];

fn xlsx(tco: &Tco) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let amount = CellFormat::new().set_num_format("#,##0.00");
    let total_format = CellFormat::new().set_bold().set_num_format("#,##0.00");
    let mut taken = Vec::new();
    // (sheet, the row of its totals, 1-based)
    let mut team_sheets: Vec<(String, u32)> = Vec::new();
    let names: Vec<String> = tco
        .teams
        .iter()
        .map(|t| sheet_name(&t.team, &mut taken))
        .collect();
    // The summary is first in the workbook; it is filled after the team sheets it refers to.
    book.add_worksheet().set_name("Summary")?;
    for (team, name) in tco.teams.iter().zip(&names) {
        let sheet = book.add_worksheet().set_name(name)?;
        for (col, title) in TEAM_COLUMNS.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *title, &bold)?;
        }
        sheet.set_column_width(0, 28)?;
        for col in 1..TEAM_COLUMNS.len() as u16 {
            sheet.set_column_width(col, 16)?;
        }
        let first = 2u32;
        for (i, line) in team.lines.iter().enumerate() {
            let row = i as u32 + 1;
            let r = row + 1;
            let p = &line.parts;
            sheet.write_string(row, 0, &line.name)?;
            sheet.write_number_with_format(row, 1, number(p.training), &amount)?;
            sheet.write_number_with_format(row, 2, number(p.inference_billed), &amount)?;
            sheet.write_number_with_format(row, 3, number(p.inference_estimated), &amount)?;
            sheet.write_formula_with_format(
                row,
                4,
                Formula::new(format!("=IF(C{r}>0,C{r},D{r})")).set_result(money(p.inference())),
                &amount,
            )?;
            sheet.write_number_with_format(row, 5, number(p.storage), &amount)?;
            sheet.write_number_with_format(row, 6, number(p.engineering), &amount)?;
            sheet.write_number_with_format(row, 7, number(p.other), &amount)?;
            sheet.write_formula_with_format(
                row,
                8,
                Formula::new(format!("=B{r}+E{r}+F{r}+G{r}+H{r}")).set_result(money(line.total())),
                &amount,
            )?;
            sheet.write_number_with_format(row, 9, number(line.previous_total), &amount)?;
        }
        let last = team.lines.len() as u32 + 1;
        let total_row = last + 1; // 1-based row of the totals
        sheet.write_string_with_format(last, 0, "Total", &bold)?;
        let parts = team.parts();
        let sums = [
            number(parts.training),
            number(parts.inference_billed),
            number(parts.inference_estimated),
            number(parts.inference()),
            number(parts.storage),
            number(parts.engineering),
            number(parts.other),
            number(team.total()),
            number(team.previous_total),
        ];
        for (i, result) in sums.iter().enumerate() {
            let col = i as u16 + 1;
            let letter = (b'A' + col as u8) as char;
            sheet.write_formula_with_format(
                last,
                col,
                Formula::new(format!("=SUM({letter}{first}:{letter}{last})"))
                    .set_result(format!("{result:.2}")),
                &total_format,
            )?;
        }
        if let Some(e) = &team.engineering {
            let note_row = last + 2;
            sheet.write_string(
                note_row,
                0,
                format!(
                    "Engineering: {} hours at {} {} an hour, split across the models by compute cost",
                    e.hours.normalize(),
                    money(e.rate),
                    tco.currency
                ),
            )?;
        }
        team_sheets.push((name.clone(), total_row));
    }
    let summary = book.worksheet_from_name("Summary")?;
    summary.write_string_with_format(
        0,
        0,
        format!(
            "Pareto · total cost of ownership · {}{} · {}",
            tco.quarter,
            if tco.to_date { " (to date)" } else { "" },
            tco.currency
        ),
        &bold,
    )?;
    let headers = [
        "Team",
        "Training",
        "Inference",
        "Storage",
        "Engineering",
        "Other",
        "Total",
        "Previous quarter",
        "Change",
    ];
    for (col, title) in headers.iter().enumerate() {
        summary.write_string_with_format(2, col as u16, *title, &bold)?;
    }
    summary.set_column_width(0, 28)?;
    for col in 1..headers.len() as u16 {
        summary.set_column_width(col, 16)?;
    }
    // Summary column -> team sheet column
    let from_sheet = [
        ("B", "B"),
        ("C", "E"),
        ("D", "F"),
        ("E", "G"),
        ("F", "H"),
        ("G", "I"),
        ("H", "J"),
    ];
    let percent = CellFormat::new().set_num_format("0.0%");
    for (i, ((sheet, total_row), team)) in team_sheets.iter().zip(&tco.teams).enumerate() {
        let row = i as u32 + 3;
        let r = row + 1;
        let parts = team.parts();
        let results = [
            parts.training,
            parts.inference(),
            parts.storage,
            parts.engineering,
            parts.other,
            team.total(),
            team.previous_total,
        ];
        summary.write_string(row, 0, &team.team)?;
        for (j, ((_, source), result)) in from_sheet.iter().zip(results).enumerate() {
            summary.write_formula_with_format(
                row,
                j as u16 + 1,
                Formula::new(format!("='{sheet}'!{source}{total_row}")).set_result(money(result)),
                &amount,
            )?;
        }
        let change = team
            .change_pct()
            .map(|p| format!("{:.4}", p / 100.0))
            .unwrap_or_default();
        summary.write_formula_with_format(
            row,
            8,
            Formula::new(format!("=IF(H{r}>0,(G{r}-H{r})/H{r},\"\")")).set_result(change),
            &percent,
        )?;
    }
    let last = tco.teams.len() as u32 + 2;
    let total_row = last + 1;
    summary.write_string_with_format(total_row, 0, "All teams", &bold)?;
    let parts = tco.parts();
    let results = [
        parts.training,
        parts.inference(),
        parts.storage,
        parts.engineering,
        parts.other,
        tco.total(),
        tco.previous_total(),
    ];
    for (j, ((column, _), result)) in from_sheet.iter().zip(results).enumerate() {
        summary.write_formula_with_format(
            total_row,
            j as u16 + 1,
            Formula::new(format!("=SUM({column}4:{column}{})", last + 1)).set_result(money(result)),
            &total_format,
        )?;
    }
    summary.write_string(
        total_row + 2,
        0,
        "Inference is billed where the cloud bills cover it, estimated from telemetry priced by the GPU price catalog otherwise. Each team's sheet shows both.",
    )?;
    for (currency, amount) in &tco.left_out {
        summary.write_string(
            total_row + 3,
            0,
            format!("Left out (another currency): {} {currency}", money(*amount)),
        )?;
    }
    Ok(book.save_to_buffer()?)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_money(amount: Decimal, currency: &str) -> String {
    escape(&app::format::format_money(amount, currency))
}

fn html_pct(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".into(),
        |v| format!("{}{v:.1}%", if v > 0.0 { "+" } else { "" }),
    )
}

/// The chart of the report: each team's quarter stacked by part.
fn chart(tco: &Tco) -> String {
    let columns: Vec<String> = tco.teams.iter().map(|t| t.team.clone()).collect();
    let part = |label: &str, pick: fn(&app::reports::tco::Parts) -> Decimal| {
        let amounts: Vec<Decimal> = tco.teams.iter().map(|t| pick(&t.parts())).collect();
        GroupRow {
            label: label.into(),
            total: amounts.iter().copied().sum(),
            amounts,
        }
    };
    let groups = vec![
        part("Training", |p| p.training),
        part("Inference", app::reports::tco::Parts::inference),
        part("Storage", |p| p.storage),
        part("Engineering", |p| p.engineering),
        part("Other", |p| p.other),
    ];
    stacked_bars(&columns, &groups, &tco.currency, Theme::Light).unwrap_or_default()
}

fn line_row(line: &Line, currency: &str) -> String {
    let p = &line.parts;
    format!(
        "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"total\">{}</td><td>{}</td><td>{}</td></tr>",
        escape(&line.name),
        html_money(p.training, currency),
        html_money(p.inference(), currency),
        escape(p.inference_basis()),
        html_money(p.storage, currency),
        html_money(p.engineering, currency),
        html_money(p.other, currency),
        html_money(line.total(), currency),
        html_pct(line.change_pct()),
        html_pct(line.roi_pct()),
    )
}

fn html(tco: &Tco) -> String {
    let c = &tco.currency;
    let parts = tco.parts();
    let mut body = String::new();
    body.push_str(&format!(
        "<header><p class=\"brand\">Pareto</p><h1>Total cost of ownership · {}{}</h1><p class=\"lead\">Every model and team, {c}. Generated {} UTC.</p></header>",
        tco.quarter,
        if tco.to_date { " (to date)" } else { "" },
        app::clock::now().format("%Y-%m-%d %H:%M")
    ));
    body.push_str(&format!(
        "<section class=\"summary\"><div><span>Total</span><strong data-total>{}</strong><small>{} against {}</small></div><div><span>Training</span><strong>{}</strong></div><div><span>Inference</span><strong>{}</strong></div><div><span>Storage</span><strong>{}</strong></div><div><span>Engineering</span><strong>{}</strong></div><div><span>Other</span><strong>{}</strong></div></section>",
        html_money(tco.total(), c),
        html_pct(app::reports::tco::change_pct(tco.previous_total(), tco.total())),
        tco.quarter.previous(),
        html_money(parts.training, c),
        html_money(parts.inference(), c),
        html_money(parts.storage, c),
        html_money(parts.engineering, c),
        html_money(parts.other, c),
    ));
    if !tco.teams.is_empty() {
        body.push_str(&format!(
            "<figure role=\"img\" aria-label=\"Each team's quarter stacked by training, inference, storage, engineering and other\">{}<figcaption>Each team's quarter by part.</figcaption></figure>",
            chart(tco)
        ));
    }
    body.push_str("<section><h2>By team</h2><table><thead><tr><th>Team</th><th>Training</th><th>Inference</th><th>Storage</th><th>Engineering</th><th>Other</th><th>Total</th><th>Change</th></tr></thead><tbody>");
    for team in &tco.teams {
        let p = team.parts();
        body.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"total\">{}</td><td>{}</td></tr>",
            escape(&team.team),
            html_money(p.training, c),
            html_money(p.inference(), c),
            html_money(p.storage, c),
            html_money(p.engineering, c),
            html_money(p.other, c),
            html_money(team.total(), c),
            html_pct(team.change_pct()),
        ));
    }
    body.push_str(&format!(
        "</tbody><tfoot><tr><th scope=\"row\">All teams</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"total\">{}</td><td>{}</td></tr></tfoot></table></section>",
        html_money(parts.training, c),
        html_money(parts.inference(), c),
        html_money(parts.storage, c),
        html_money(parts.engineering, c),
        html_money(parts.other, c),
        html_money(tco.total(), c),
        html_pct(app::reports::tco::change_pct(tco.previous_total(), tco.total())),
    ));
    for team in &tco.teams {
        body.push_str(&format!(
            "<section class=\"team\"><h2>{}</h2>",
            escape(&team.team)
        ));
        if let Some(e) = &team.engineering {
            body.push_str(&format!(
                "<p class=\"note\">Engineering: {} hours at {} an hour, split across the models by compute cost.</p>",
                e.hours.normalize(),
                html_money(e.rate, c)
            ));
        }
        body.push_str("<table><thead><tr><th>Model</th><th>Training</th><th>Inference</th><th>Basis</th><th>Storage</th><th>Engineering</th><th>Other</th><th>Total</th><th>Change</th><th>ROI</th></tr></thead><tbody>");
        for line in &team.lines {
            body.push_str(&line_row(line, c));
        }
        body.push_str("</tbody></table></section>");
    }
    if !tco.left_out.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">Left out (another currency): {}.</p>",
            tco.left_out
                .iter()
                .map(|(currency, amount)| html_money(*amount, currency))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    body.push_str("<footer><p>Inference is billed where the cloud bills cover it, estimated from telemetry priced by the GPU price catalog otherwise. Training is the training cost of experiment runs recorded in the quarter. Storage and other are allocated bill lines.</p></footer>");
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>TCO {} · Pareto</title><style>{REPORT_CSS}</style></head><body><main>{body}</main></body></html>",
        tco.quarter
    )
}

/// The report's own stylesheet: readable on screen, and on paper through "Save as PDF" (A4
/// landscape, tables never cut through a row, each team on its own page).
const REPORT_CSS: &str = r#"
:root { color-scheme: light; --text: #1c2430; --muted: #5b6675; --border: #dde2e8; --accent: #1f5f8b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--text); background: #f6f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 24px; background: #fff; }
.brand { margin: 0; font-weight: 700; color: var(--accent); letter-spacing: .02em; }
h1 { margin: 4px 0; font-size: 24px; }
h2 { margin: 28px 0 8px; font-size: 17px; }
.lead, .note, figcaption, footer { color: var(--muted); font-size: 13px; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin: 20px 0; }
.summary div { border: 1px solid var(--border); border-radius: 8px; padding: 10px 12px; display: flex; flex-direction: column; }
.summary span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.summary strong { font-size: 18px; font-variant-numeric: tabular-nums; }
figure { margin: 16px 0; }
figure svg { width: 100%; height: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--border); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--border); }
tfoot th, tfoot td, .total { font-weight: 700; }
footer { margin-top: 32px; border-top: 1px solid var(--border); padding-top: 12px; }
@media (max-width: 700px) { main { padding: 16px 12px; } table { display: block; overflow-x: auto; } }
@page { size: A4 landscape; margin: 14mm; }
@media print {
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .team { break-before: page; }
  tr, figure, .summary div { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// A quarter's total cost of ownership as the API answers it, amounts as decimal strings.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct TcoJson {
    /// Such as 2026-Q3.
    pub quarter: String,
    pub currency: String,
    /// The quarter is not over: its figures run to today.
    pub to_date: bool,
    pub total: String,
    pub previous_quarter_total: String,
    pub parts: PartsJson,
    pub teams: Vec<TeamJson>,
    /// Amounts in other currencies than the report's, left out of its totals.
    pub left_out: Vec<LeftOutJson>,
}

/// A total split by what it paid for.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct PartsJson {
    pub training: String,
    /// Billed and estimated together.
    pub inference: String,
    pub inference_billed: String,
    pub inference_estimated: String,
    pub storage: String,
    pub engineering: String,
    pub other: String,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct TeamJson {
    pub team: String,
    pub total: String,
    pub previous_quarter_total: String,
    pub models: Vec<ModelLineJson>,
}

/// One model's quarter.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct ModelLineJson {
    pub model_id: Option<Uuid>,
    pub model: String,
    pub total: String,
    pub training: String,
    pub inference: String,
    /// Whether inference is billed, estimated from telemetry, or both.
    pub inference_basis: String,
    pub inference_billed: String,
    pub inference_estimated: String,
    pub storage: String,
    pub engineering: String,
    pub other: String,
    /// The value the team says the model delivered this quarter.
    pub value_delivered: Option<String>,
    pub roi_pct: Option<f64>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct LeftOutJson {
    pub currency: String,
    pub amount: String,
}

/// The JSON form: the report as the API returns it, with its totals spelled out.
pub fn json(tco: &Tco) -> TcoJson {
    let parts = tco.parts();
    TcoJson {
        quarter: tco.quarter.to_string(),
        currency: tco.currency.clone(),
        to_date: tco.to_date,
        total: money(tco.total()),
        previous_quarter_total: money(tco.previous_total()),
        parts: PartsJson {
            training: money(parts.training),
            inference: money(parts.inference()),
            inference_billed: money(parts.inference_billed),
            inference_estimated: money(parts.inference_estimated),
            storage: money(parts.storage),
            engineering: money(parts.engineering),
            other: money(parts.other),
        },
        teams: tco
            .teams
            .iter()
            .map(|t| TeamJson {
                team: t.team.clone(),
                total: money(t.total()),
                previous_quarter_total: money(t.previous_total),
                models: t
                    .lines
                    .iter()
                    .map(|l| ModelLineJson {
                        model_id: l.model_id,
                        model: l.name.clone(),
                        total: money(l.total()),
                        training: money(l.parts.training),
                        inference: money(l.parts.inference()),
                        inference_basis: l.parts.inference_basis().to_string(),
                        inference_billed: money(l.parts.inference_billed),
                        inference_estimated: money(l.parts.inference_estimated),
                        storage: money(l.parts.storage),
                        engineering: money(l.parts.engineering),
                        other: money(l.parts.other),
                        value_delivered: l.value.map(money),
                        roi_pct: l.roi_pct(),
                    })
                    .collect(),
            })
            .collect(),
        left_out: tco
            .left_out
            .iter()
            .map(|(currency, amount)| LeftOutJson {
                currency: currency.clone(),
                amount: money(*amount),
            })
            .collect(),
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ReportQuery {
    /// The quarter, such as 2026-Q3; the current one, to date, when absent.
    quarter: Option<String>,
    /// `json` (the default), `csv`, `xlsx` or `html`.
    format: Option<String>,
}

fn quarter_of(text: Option<&str>) -> Result<Quarter, String> {
    match text.map(str::trim).filter(|q| !q.is_empty()) {
        None => Ok(Quarter::containing(app::clock::now())),
        Some(text) => {
            parse_quarter(text).map_err(|e| e.field_message("quarter").unwrap_or_default())
        }
    }
}

fn file_response(tco: &Tco, format: Format) -> Response {
    match render(tco, format) {
        Ok(bytes) => {
            let disposition = if format == Format::Html {
                "inline".to_owned()
            } else {
                format!(
                    "attachment; filename=\"{}\"",
                    file_name(tco.quarter, format)
                )
            };
            (
                [
                    (header::CONTENT_TYPE, format.content_type().to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, "private, no-store".to_owned()),
                ],
                bytes,
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "rendering a TCO export failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The report could not be written.",
            )
                .into_response()
        }
    }
}

/// `GET /reports/tco.{csv,xlsx,html}?quarter=2026-Q3`, for signed-in people.
pub async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Response {
    let Some(format) = file
        .strip_prefix("tco.")
        .and_then(|ext| ext.parse::<Format>().ok())
    else {
        return (StatusCode::NOT_FOUND, "No such report.").into_response();
    };
    let quarter = match quarter_of(query.quarter.as_deref()) {
        Ok(quarter) => quarter,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    match app::reports::store::tco(&state.pool, quarter, app::clock::now()).await {
        Ok(tco) => file_response(&tco, format),
        Err(error) => {
            tracing::error!(%error, "loading a TCO report failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The report could not be loaded.",
            )
                .into_response()
        }
    }
}

/// `GET /api/v1/reports/tco?quarter=2026-Q3&format=csv|xlsx|html|json` (scope `read`; JSON by default).
pub async fn api(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let quarter = quarter_of(query.quarter.as_deref()).map_err(|message| {
        ApiError::Validation(vec![crate::api::error::InvalidField {
            path: "quarter".into(),
            message,
        }])
    })?;
    let format = match query.format.as_deref() {
        None => Format::Json,
        Some(text) => text.parse::<Format>().map_err(|message| {
            ApiError::Validation(vec![crate::api::error::InvalidField {
                path: "format".into(),
                message,
            }])
        })?,
    };
    let tco = app::reports::store::tco(&state.pool, quarter, app::clock::now()).await?;
    Ok(file_response(&tco, format))
}

/// `pareto report tco --quarter 2026-Q3 --format xlsx --output FILE`.
pub async fn command(
    pool: &sqlx::PgPool,
    quarter: &str,
    format: Format,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let quarter = quarter_of(Some(quarter)).map_err(|message| anyhow::anyhow!(message))?;
    let tco = app::reports::store::tco(pool, quarter, app::clock::now())
        .await
        .context("loading the report")?;
    let bytes = render(&tco, format)?;
    std::fs::write(output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!(
        "Wrote the {quarter} TCO report ({} teams, total {} {}) to {}",
        tco.teams.len(),
        money(tco.total()),
        tco.currency,
        output.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::reports::tco::{Parts, TeamTco};

    fn report() -> Tco {
        let d = |t: &str| t.parse::<Decimal>().expect("decimal");
        Tco {
            quarter: Quarter {
                year: 2026,
                number: 3,
            },
            currency: "USD".into(),
            to_date: false,
            teams: vec![TeamTco {
                team_id: None,
                team: "Fraud: [Detection]".into(),
                engineering: None,
                previous_total: d("10"),
                lines: vec![Line {
                    model_id: None,
                    name: "fraud-lgbm, \"v3\"".into(),
                    parts: Parts {
                        training: d("1.5"),
                        inference_estimated: d("20.25"),
                        ..Parts::default()
                    },
                    value: Some(d("100")),
                    previous_total: d("10"),
                }],
            }],
            left_out: Vec::new(),
        }
    }

    #[test]
    fn the_csv_quotes_names_and_totals_each_line() {
        let text = String::from_utf8(csv(&report()).expect("csv")).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER.join(",").as_str()));
        let row = lines.next().expect("row");
        assert!(row.contains("\"fraud-lgbm, \"\"v3\"\"\""), "{row}");
        assert!(row.contains(",21.75,10,117.5,"), "{row}");
    }

    #[test]
    fn sheet_names_are_ones_excel_accepts() {
        let mut taken = vec![];
        assert_eq!(
            sheet_name("Fraud: [Detection]", &mut taken),
            "Fraud   Detection"
        );
        assert_eq!(
            sheet_name("Fraud: [Detection]", &mut taken),
            "Fraud   Detection 2"
        );
        assert_eq!(sheet_name("Summary", &mut taken), "Summary 2");
        assert!(sheet_name(&"x".repeat(40), &mut taken).len() <= 31);
    }

    #[test]
    fn the_html_report_prints_cleanly() {
        let page = html(&report());
        assert!(page.contains("@media print"));
        assert!(page.contains("<svg"), "the chart is inline");
        assert!(page.contains("fraud-lgbm, &quot;v3&quot;"));
        assert!(page.contains("$21.75") || page.contains("21.75"));
        assert!(xlsx(&report()).expect("xlsx").starts_with(b"PK"));
    }
}
