//! The bills page: import an export (with upload and reading progress), and the import history.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{ImportOutcome, ImportRecord, UploadAnswer};
use crate::auth::Role;
use crate::components::{Loaded, Notice, PageHeader, Time, WithUser};
use crate::format::{format_bytes, format_count, format_money};

type ImportsResource = Resource<Result<Vec<ImportRecord>, crate::error::AppError>>;

#[component]
pub fn BillsPage() -> impl IntoView {
    let imports: ImportsResource = Resource::new(|| (), |_| super::list_imports());
    view! {
        <BillsHeader
            title="Cloud bills"
            lead="What the organization pays, from FOCUS, AWS, GCP and Azure billing exports. Every import is kept; a newer export of the same account and billing period supersedes the older one in every figure."
        />
        <WithUser children=move |user| {
            let can_import = user.can(Role::Lead);
            view! {
                <Show when=move || can_import>
                    <ImportForm imports=imports />
                </Show>
                <Loaded
                    resource=imports
                    children=move |list| view! { <History list=list can_import=can_import /> }
                />
            }
        } />
    }
}

/// The head of every bills page: its title, what it shows, and the section's own navigation.
#[component]
pub fn BillsHeader(#[prop(into)] title: String, #[prop(into)] lead: String) -> impl IntoView {
    use leptos_router::components::A;
    view! {
        <Title text=format!("{title} · Pareto") />
        <PageHeader title=title lead=lead />
        <nav class="subnav" aria-label="Bills">
            <A href="/bills" exact=true>
                "Imports"
            </A>
            <A href="/bills/explorer">"Cost explorer"</A>
            <A href="/bills/rules">"Allocation rules"</A>
            <A href="/bills/reconciliation">"Reconciliation"</A>
            <a href="/bills/export.csv" rel="external" download="">
                "Export the allocated ledger (CSV)"
            </a>
        </nav>
    }
}

/// Where an upload stands.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Phase {
    Idle,
    Sending { sent: f64, total: f64 },
    Done(UploadAnswer),
    Failed(String),
}

#[component]
fn ImportForm(imports: ImportsResource) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let format = RwSignal::new("auto".to_string());
    let phase = RwSignal::new(Phase::Idle);
    let rows_read = RwSignal::new(0u64);
    let saving = RwSignal::new(false);
    let busy = move || matches!(phase.get(), Phase::Sending { .. });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy() {
            return;
        }
        rows_read.set(0);
        saving.set(false);
        start_upload(
            input,
            format.get_untracked(),
            phase,
            rows_read,
            saving,
            imports,
        );
    };
    view! {
        <section class="card" aria-labelledby="import-title">
            <h2 id="import-title">"Import a billing export"</h2>
            <p class="muted small">
                "CSV or gzip-compressed CSV: FOCUS 1.0–1.3, AWS Cost and Usage Report (legacy or 2.0), the GCP billing export, or Azure cost details. "
                "A file is imported whole or not at all; importing the same file again changes nothing. Pipelines can post the same files to "
                <code>"POST /api/v1/bills/import"</code> ", and "
                <code>"pareto bills import FILE"</code> " imports from the command line."
            </p>
            <form class="form grid-form" on:submit=on_submit>
                <div class="field">
                    <label for="bill-file">"Export file"</label>
                    <input
                        id="bill-file"
                        name="file"
                        type="file"
                        accept=".csv,.gz,.csv.gz,text/csv,application/gzip"
                        required
                        node_ref=input
                    />
                </div>
                <div class="field">
                    <label for="bill-format">"Format"</label>
                    <select
                        id="bill-format"
                        name="format"
                        on:change=move |ev| format.set(event_target_value(&ev))
                    >
                        <option value="auto">"Tell from the header row"</option>
                        {bills::Format::ALL
                            .into_iter()
                            .map(|f| view! { <option value=f.key()>{f.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button primary" disabled=busy>
                        "Import"
                    </button>
                </div>
            </form>
            <UploadStatus phase=phase rows_read=rows_read saving=saving />
        </section>
    }
}

#[component]
fn UploadStatus(
    phase: RwSignal<Phase>,
    rows_read: RwSignal<u64>,
    saving: RwSignal<bool>,
) -> impl IntoView {
    move || {
        match phase.get() {
        Phase::Idle => ().into_any(),
        Phase::Sending { sent, total } => {
            let percent = if total > 0.0 { (sent / total * 100.0).min(100.0) } else { 0.0 };
            let rows = rows_read.get();
            let text = if saving.get() || (total > 0.0 && sent >= total) {
                format!("Every row is read ({} rows); saving the import…", format_count(rows as i64))
            } else {
                format!(
                    "Uploading and reading: {percent:.0}% ({} of {}) · {} rows read",
                    format_bytes(sent as u64),
                    format_bytes(total as u64),
                    format_count(rows as i64)
                )
            };
            view! {
                <div class="upload-progress" role="status" aria-live="polite">
                    <progress
                        max="100"
                        value=format!("{percent:.1}")
                        aria-label="Import progress"
                    ></progress>
                    <p class="small">{text}</p>
                </div>
            }
            .into_any()
        }
        Phase::Failed(message) => view! { <Notice kind="error">{message}</Notice> }.into_any(),
        Phase::Done(UploadAnswer::Imported(outcome)) => view! { <Imported outcome=outcome /> }.into_any(),
        Phase::Done(UploadAnswer::Refused { message, errors, more }) => view! {
            <Notice kind="error">{message}</Notice>
            {(!errors.is_empty())
                .then(|| {
                    view! {
                        <div class="table-wrap">
                            <table class="table refused-rows">
                                <caption class="visually-hidden">
                                    "Rows that could not be read"
                                </caption>
                                <thead>
                                    <tr>
                                        <th scope="col" class="numeric">
                                            "Line"
                                        </th>
                                        <th scope="col">"Column"</th>
                                        <th scope="col">"Value"</th>
                                        <th scope="col">"Problem"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {errors
                                        .into_iter()
                                        .map(|e| {
                                            view! {
                                                <tr>
                                                    <td class="numeric">{e.line}</td>
                                                    <td>
                                                        <code>
                                                            {if e.column.is_empty() {
                                                                "—".to_string()
                                                            } else {
                                                                e.column
                                                            }}
                                                        </code>
                                                    </td>
                                                    <td class="wrap">
                                                        <code>{e.value}</code>
                                                    </td>
                                                    <td>{e.message}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {more
                            .then(|| {
                                view! {
                                    <p class="muted small">
                                        "The file holds more problems; fix these and import it again."
                                    </p>
                                }
                            })}
                    }
                })}
        }
        .into_any(),
    }
    }
}

#[component]
fn Imported(outcome: ImportOutcome) -> impl IntoView {
    let import = outcome.import;
    let totals = import
        .totals
        .iter()
        .map(|t| format_money(t.billed_cost, &t.currency))
        .collect::<Vec<_>>()
        .join(", ");
    if outcome.duplicate {
        return view! {
            <Notice kind="info">
                {format!("{} was imported before, by {} on ", import.file_name, import.imported_by)}
                <Time time=import.imported_at /> ". Nothing changed."
            </Notice>
        }
        .into_any();
    }
    let superseded = match outcome.superseded.len() {
        0 => String::new(),
        1 => " It supersedes an earlier import of the same account and period.".into(),
        n => format!(" It supersedes {n} earlier imports of the same accounts and periods."),
    };
    view! {
        <Notice kind="success">
            {format!(
                "Imported {} ({}): {} rows, {}.{superseded}",
                import.file_name,
                import.format_label(),
                format_count(import.rows),
                totals,
            )}
        </Notice>
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
fn start_upload(
    input: NodeRef<leptos::html::Input>,
    format: String,
    phase: RwSignal<Phase>,
    rows_read: RwSignal<u64>,
    saving: RwSignal<bool>,
    imports: ImportsResource,
) {
    use uuid::Uuid;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Some(file) = input
        .get_untracked()
        .and_then(|i| i.files())
        .and_then(|f| f.get(0))
    else {
        phase.set(Phase::Failed("Choose a file to import.".into()));
        return;
    };
    let id = Uuid::from_u64_pair(
        (js_sys::Math::random() * u64::MAX as f64) as u64,
        (js_sys::Math::random() * u64::MAX as f64) as u64,
    );
    let url = format!(
        "/bills/upload?file_name={}&format={}&progress={id}",
        js_sys::encode_uri_component(&file.name()),
        js_sys::encode_uri_component(&format)
    );
    let total = file.size();
    phase.set(Phase::Sending { sent: 0.0, total });
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        phase.set(Phase::Failed("This browser cannot upload files.".into()));
        return;
    };
    let poll = set_interval_with_handle(
        move || {
            leptos::task::spawn_local(async move {
                if let Ok(Some(progress)) = super::import_progress(id).await {
                    rows_read.set(progress.rows);
                    saving.set(progress.saving);
                }
            });
        },
        std::time::Duration::from_millis(700),
    )
    .ok();
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            phase.set(Phase::Sending {
                sent: ev.loaded(),
                total,
            });
        });
    let done_xhr = xhr.clone();
    let on_done = Closure::<dyn FnMut()>::new(move || {
        if let Some(poll) = poll {
            poll.clear();
        }
        let status = done_xhr.status().unwrap_or(0);
        let text = done_xhr.response_text().ok().flatten().unwrap_or_default();
        let answer = serde_json::from_str::<UploadAnswer>(&text);
        match (status, answer) {
            (_, Ok(answer)) => {
                if matches!(&answer, UploadAnswer::Imported(outcome) if !outcome.duplicate) {
                    imports.refetch();
                }
                phase.set(Phase::Done(answer));
            }
            (0, _) => phase.set(Phase::Failed(
                "The upload was interrupted; nothing was imported.".into(),
            )),
            (_, Err(_)) => phase.set(Phase::Failed(if text.trim().is_empty() {
                format!("The server answered {status}; nothing was imported.")
            } else {
                text
            })),
        }
    });
    let sent = xhr
        .open("POST", &url)
        .and_then(|()| xhr.set_request_header("Content-Type", "application/octet-stream"))
        .and_then(|()| {
            let upload = xhr.upload()?;
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            xhr.set_onloadend(Some(on_done.as_ref().unchecked_ref()));
            xhr.send_with_opt_blob(Some(&file))
        });
    // The browser owns the callbacks from here on.
    on_progress.forget();
    on_done.forget();
    if sent.is_err() {
        phase.set(Phase::Failed("The upload could not start.".into()));
    }
}

#[cfg(not(feature = "hydrate"))]
fn start_upload(
    _input: NodeRef<leptos::html::Input>,
    _format: String,
    _phase: RwSignal<Phase>,
    _rows_read: RwSignal<u64>,
    _saving: RwSignal<bool>,
    _imports: ImportsResource,
) {
}

#[component]
fn History(list: Vec<ImportRecord>, can_import: bool) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <section class="card empty">
                <h2>"No bills imported yet"</h2>
                <p class="muted">
                    {if can_import {
                        "Import a billing export above to start the ledger."
                    } else {
                        "A lead or an admin imports the organization's billing exports here."
                    }}
                </p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"Import history"</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"File"</th>
                            <th scope="col" class="numeric">
                                "Rows"
                            </th>
                            <th scope="col" class="numeric">
                                "Billed"
                            </th>
                            <th scope="col">"Accounts and periods"</th>
                            <th scope="col">"Imported"</th>
                            <th scope="col">"Status"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|import| view! { <HistoryRow import=import /> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn HistoryRow(import: ImportRecord) -> impl IntoView {
    let superseded = import
        .scopes
        .iter()
        .filter(|s| s.superseded_by.is_some())
        .count();
    let status = match (superseded, import.scopes.len()) {
        (0, _) => view! { <span class="badge badge-success">"current"</span> }.into_any(),
        (s, n) if s == n => view! { <span class="badge">"superseded"</span> }.into_any(),
        (s, n) => {
            view! { <span class="badge badge-warning">{format!("{s} of {n} superseded")}</span> }
                .into_any()
        }
    };
    let scopes = import
        .scopes
        .iter()
        .map(|s| {
            format!(
                "{} · {}",
                s.billing_account_id,
                s.billing_period_start.format("%b %Y")
            )
        })
        .collect::<Vec<_>>();
    view! {
        <tr>
            <td class="wrap">
                <span class="strong">{import.file_name.clone()}</span>
                <span class="muted small block">
                    {import.format_label()} " · "
                    {format_bytes(u64::try_from(import.bytes).unwrap_or_default())}
                </span>
            </td>
            <td class="numeric">{format_count(import.rows)}</td>
            <td class="numeric nowrap">
                {import
                    .totals
                    .iter()
                    .map(|t| {
                        view! {
                            <span class="block">{format_money(t.billed_cost, &t.currency)}</span>
                        }
                    })
                    .collect_view()}
            </td>
            <td class="small">
                {scopes
                    .into_iter()
                    .map(|s| view! { <span class="block">{s}</span> })
                    .collect_view()}
            </td>
            <td class="small">
                {import.imported_by.clone()} <span class="block muted">
                    <Time time=import.imported_at />
                </span>
            </td>
            <td>{status}</td>
        </tr>
    }
}
