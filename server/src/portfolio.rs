//! `GET /portfolio/export.{csv,xlsx}?budget=8000&chosen=ID:VALUE;ID:VALUE`: the budget portfolio's
//! answer as a file, one row per experiment (its own choice beside the portfolio's) and a total;
//! in the spreadsheet the changes and the totals are formulas over the rows. The page's question,
//! saved or not, is what the query holds.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format as CellFormat, Formula, Workbook};
use serde::Deserialize;

use app::format::spreadsheet_text;
use app::pipelines::portfolio::{Item, Portfolio};
use app::state::AppState;

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    budget: String,
    #[serde(default)]
    chosen: String,
}

const COLUMNS: [&str; 10] = [
    "Experiment",
    "Metric",
    "Value of a point a month",
    "Its own choice",
    "Its own choice a month",
    "Its own choice's quality",
    "The portfolio's choice",
    "A month",
    "Quality",
    "Change a month",
];

pub async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let xlsx = match file.as_str() {
        "export.csv" => false,
        "export.xlsx" => true,
        _ => return (StatusCode::NOT_FOUND, "No such file.").into_response(),
    };
    let view = match app::pipelines::answer(&state.pool, &query.budget, &query.chosen).await {
        Ok(view) => view,
        Err(error) => {
            tracing::error!(?error, "working out a portfolio failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The portfolio could not be worked out.",
            )
                .into_response();
        }
    };
    let Some(found) = view.found.as_ref() else {
        let why = view
            .problem
            .clone()
            .unwrap_or_else(|| "Choose at least one experiment and a budget.".into());
        return (StatusCode::UNPROCESSABLE_ENTITY, why).into_response();
    };
    let budget = view.budget.unwrap_or_default();
    let written = if xlsx {
        spreadsheet(&view.items, found, budget, &view.currency)
    } else {
        csv(&view.items, found, &view.currency)
    };
    match written {
        Ok(bytes) => {
            let (kind, extension) = if xlsx {
                (
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "xlsx",
                )
            } else {
                ("text/csv; charset=utf-8", "csv")
            };
            (
                [
                    (header::CONTENT_TYPE, kind.to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"pareto-portfolio.{extension}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "writing a portfolio file failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The file could not be written.",
            )
                .into_response()
        }
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn csv(items: &[Item], found: &Portfolio, currency: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    header.push("Currency".into());
    out.write_record(&header)?;
    for (item, pick) in items.iter().zip(&found.picks) {
        let own = &item.choices[item.recommended];
        let chosen = &item.choices[*pick];
        out.write_record([
            spreadsheet_text(&item.name),
            spreadsheet_text(&item.metric),
            item.point_value.to_string(),
            spreadsheet_text(&own.name),
            format!("{:.2}", own.monthly),
            own.quality.to_string(),
            spreadsheet_text(&chosen.name),
            format!("{:.2}", chosen.monthly),
            chosen.quality.to_string(),
            format!("{:.2}", chosen.monthly - own.monthly),
            currency.to_owned(),
        ])?;
    }
    out.write_record([
        "Total".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        format!("{:.2}", found.recommended_monthly),
        String::new(),
        String::new(),
        format!("{:.2}", found.monthly),
        String::new(),
        format!("{:.2}", found.monthly - found.recommended_monthly),
        currency.to_owned(),
    ])?;
    Ok(out.into_inner()?)
}

fn spreadsheet(
    items: &[Item],
    found: &Portfolio,
    budget: f64,
    currency: &str,
) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let amount = CellFormat::new().set_num_format("#,##0.00");
    let total = CellFormat::new().set_bold().set_num_format("#,##0.00");
    let sheet = book.add_worksheet().set_name("Portfolio")?;
    sheet.write_string_with_format(0, 0, format!("Monthly budget ({currency})"), &bold)?;
    sheet.write_number_with_format(0, 1, budget, &amount)?;
    for (col, title) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(2, col as u16, *title, &bold)?;
        sheet.set_column_width(col as u16, if col == 0 { 28 } else { 18 })?;
    }
    let first = 4u32; // 1-based row of the first experiment
    for (i, (item, pick)) in items.iter().zip(&found.picks).enumerate() {
        let row = i as u32 + 3;
        let r = row + 1;
        let own = &item.choices[item.recommended];
        let chosen = &item.choices[*pick];
        sheet.write_string(row, 0, &item.name)?;
        sheet.write_string(row, 1, &item.metric)?;
        sheet.write_number(row, 2, item.point_value)?;
        sheet.write_string(row, 3, &own.name)?;
        sheet.write_number_with_format(row, 4, round2(own.monthly), &amount)?;
        sheet.write_number(row, 5, own.quality)?;
        sheet.write_string(row, 6, &chosen.name)?;
        sheet.write_number_with_format(row, 7, round2(chosen.monthly), &amount)?;
        sheet.write_number(row, 8, chosen.quality)?;
        sheet.write_formula_with_format(
            row,
            9,
            Formula::new(format!("=H{r}-E{r}")).set_result(format!(
                "{:.2}",
                round2(chosen.monthly) - round2(own.monthly)
            )),
            &amount,
        )?;
    }
    let last = items.len() as u32 + 3; // 0-based row of the totals, 1-based row of the last item
    sheet.write_string_with_format(last, 0, "Total", &bold)?;
    for (col, letter, result) in [
        (4u16, 'E', found.recommended_monthly),
        (7, 'H', found.monthly),
        (9, 'J', found.monthly - found.recommended_monthly),
    ] {
        sheet.write_formula_with_format(
            last,
            col,
            Formula::new(format!("=SUM({letter}{first}:{letter}{last})"))
                .set_result(format!("{result:.2}")),
            &total,
        )?;
    }
    sheet.write_string_with_format(last + 2, 0, "Within the budget", &bold)?;
    sheet.write_formula(
        last + 2,
        1,
        Formula::new(format!("=IF(H{}<=B1,\"yes\",\"no\")", last + 1)).set_result("yes"),
    )?;
    Ok(book.save_to_buffer()?)
}
