//! The forms that add runs (one by one or from a file) and change the experiment's status.

use leptos::prelude::*;
use uuid::Uuid;

use crate::components::{action_error, FieldMessage, FormActions, FormAlert, ImportAnswer, Loaded};
use crate::error::AppError;
use crate::experiments::{AddRun, ImportMlflow, SetExperimentStatus, Status, UploadRuns};

use super::VersionsResource;

/// One input of the run form, named as the CSV column it fills.
#[component]
fn RunField(
    #[prop(into)] column: String,
    #[prop(into)] label: String,
    #[prop(into, optional)] hint: Option<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("run-{}", column.replace(':', "-"));
    let error_id = format!("{id}-error");
    let message = {
        let column = column.clone();
        Signal::derive(move || error.get().and_then(|e| e.field_message(&column)))
    };
    view! {
        <div class="field" class:has-error=move || message.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <input
                id=id
                name=format!("fields[{column}]")
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=error_id.clone()
            />
            <FieldMessage id=error_id.clone() message=message />
        </div>
    }
}

#[component]
pub(super) fn AddRunForm(
    id: Uuid,
    currency: String,
    add: ServerAction<AddRun>,
    versions: VersionsResource,
) -> impl IntoView {
    let error = action_error(add);
    let form = crate::components::reset_on_success(add);
    let pricing_error =
        Signal::derive(move || error.get().and_then(|e| e.field_message("pricing")));
    view! {
        <section class="card" aria-labelledby="add-run-title">
            <h2 id="add-run-title">"Add a run"</h2>
            <p class="muted small">
                {format!(
                    "Amounts in {currency}. Fill what you measured; the pricing decides which cost fields are needed.",
                )}
            </p>
            <ActionForm action=add node_ref=form attr:class="form" attr:novalidate="true">
                <FormAlert error=error />
                <input type="hidden" name="experiment_id" value=id.to_string() />
                <fieldset class="grid-form">
                    <legend>"Model and quality"</legend>
                    <RunField
                        column="name"
                        label="Model"
                        hint="As people call it, e.g. DistilBERT"
                        error=error
                    />
                    <RunField
                        column="run_key"
                        label="Run key"
                        hint="Optional; defaults to the name. The same key is never stored twice."
                        error=error
                    />
                    <div class="field">
                        <label for="run-model_version_id">"Registry version"</label>
                        <Loaded
                            resource=versions
                            children=|versions| {
                                let options = std::iter::once((
                                        String::new(),
                                        "None: the name above is enough".to_owned(),
                                    ))
                                    .chain(
                                        versions
                                            .into_iter()
                                            .map(|v| (v.model_version_id.to_string(), v.label)),
                                    )
                                    .map(|(value, label)| {
                                        // The options are one list, the select's only child, so that hydration
                                        // finds them where the server put them.
                                        view! { <option value=value>{label}</option> }
                                    })
                                    .collect_view();
                                view! {
                                    <select
                                        id="run-model_version_id"
                                        name="fields[model_version_id]"
                                    >
                                        {options}
                                    </select>
                                }
                            }
                        />
                    </div>
                    <RunField
                        column="metrics"
                        label="Metrics"
                        hint="name=value, comma-separated: f1=0.91, auc=0.95, mape=7.5"
                        error=error
                    />
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Latency and throughput"</legend>
                    <RunField column="latency_p50_ms" label="p50 (ms)" error=error />
                    <RunField column="latency_p95_ms" label="p95 (ms)" error=error />
                    <RunField column="latency_p99_ms" label="p99 (ms)" error=error />
                    <RunField column="batch_latency_p95_ms" label="Batch p95 (ms)" error=error />
                    <RunField
                        column="throughput_rps"
                        label="Throughput (requests/s)"
                        hint="What one machine sustains."
                        error=error
                    />
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Inference pricing"</legend>
                    <div class="field" class:has-error=move || pricing_error.get().is_some()>
                        <label for="run-pricing">"Pricing"</label>
                        <select id="run-pricing" name="fields[pricing]">
                            {crate::experiments::InferenceKind::ALL
                                .iter()
                                .map(|k| view! { <option value=k.as_str()>{k.label()}</option> })
                                .collect_view()}
                        </select>
                        <FieldMessage id="run-pricing-error" message=pricing_error />
                    </div>
                    <RunField
                        column="gpu_model"
                        label="GPU model"
                        hint="Priced from the catalog when no price is typed."
                        error=error
                    />
                    <RunField column="gpu_count" label="GPUs" error=error />
                    <RunField column="cpu_instance" label="or CPU instance" error=error />
                    <RunField
                        column="hourly_price"
                        label="Price per hour"
                        hint="The whole machine."
                        error=error
                    />
                    <RunField
                        column="deployment"
                        label="Deployment key"
                        hint="Measured pricing: its last 30 days of telemetry."
                        error=error
                    />
                    <RunField
                        column="api_provider"
                        label="API provider"
                        hint="Priced from Settings → API prices, e.g. openai."
                        error=error
                    />
                    <RunField
                        column="api_model"
                        label="API model"
                        hint="e.g. gpt-4o-mini; or type the prices below."
                        error=error
                    />
                    <RunField
                        column="input_price_per_1k_tokens"
                        label="Input price per 1k tokens"
                        error=error
                    />
                    <RunField
                        column="output_price_per_1k_tokens"
                        label="Output price per 1k tokens"
                        error=error
                    />
                    <RunField column="avg_input_tokens" label="Average input tokens" error=error />
                    <RunField
                        column="avg_output_tokens"
                        label="Average output tokens"
                        error=error
                    />
                    <RunField
                        column="avg_cached_input_tokens"
                        label="Average cached input tokens"
                        hint="Of the input, read from the provider's prompt cache."
                        error=error
                    />
                    <RunField
                        column="api_batch"
                        label="Batch interface"
                        hint="yes: at the table's batch discount."
                        error=error
                    />
                    <RunField column="price_per_request" label="Price per request" error=error />
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Training and effort"</legend>
                    <RunField column="training_gpu_hours" label="Training GPU-hours" error=error />
                    <RunField
                        column="training_price_per_gpu_hour"
                        label="Price per GPU-hour"
                        hint="Empty: the hardware's."
                        error=error
                    />
                    <RunField column="training_cost" label="or training cost" error=error />
                    <RunField column="engineering_hours" label="Engineering hours" error=error />
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Made from another run"</legend>
                    <RunField
                        column="derived_from"
                        label="Parent run key"
                        hint="The run it was made from, e.g. bert-base."
                        error=error
                    />
                    <RunField
                        column="technique"
                        label="Technique"
                        hint="int8, int4, fp16, pruning, distillation, onnx or tensorrt."
                        error=error
                    />
                </fieldset>
                <FormActions label="Add run" pending=add.pending() />
            </ActionForm>
        </section>
    }
}

#[component]
pub(super) fn UploadForm(id: Uuid, upload: ServerAction<UploadRuns>) -> impl IntoView {
    let error = action_error(upload);
    let text = RwSignal::new(String::new());
    let done = Signal::derive(move || {
        upload.value().get().and_then(Result::ok).map(|o| {
            format!(
                "Stored {} run{}{}.",
                o.added,
                if o.added == 1 { "" } else { "s" },
                if o.duplicates > 0 {
                    format!("; {} already stored", o.duplicates)
                } else {
                    String::new()
                }
            )
        })
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = upload.value().get() {
            text.set(String::new());
        }
    });
    view! {
        <section class="card" aria-labelledby="upload-title">
            <h2 id="upload-title">"Upload runs as CSV"</h2>
            <p class="muted small">
                "One run per line; the header names the columns: " <code>"name"</code>
                ", metric columns (" <code>"f1"</code> ", " <code>"auc"</code> ", "
                <code>"mape"</code> ", … or " <code>"metric:ndcg@10"</code> "), "
                <code>"latency_p95_ms"</code> ", " <code>"throughput_rps"</code> ", "
                <code>"gpu_model"</code> ", " <code>"hourly_price"</code> ", "
                <code>"pricing"</code> ", " <code>"price_per_request"</code>
                " and the other fields of the form above. "
                "If any line is wrong, nothing is stored."
            </p>
            <ActionForm action=upload attr:class="form" attr:novalidate="true">
                <input type="hidden" name="experiment_id" value=id.to_string() />
                <div class="field">
                    <label for="csv-file">"File"</label>
                    <input
                        id="csv-file"
                        type="file"
                        accept=".csv,text/csv"
                        on:change=move |ev| crate::components::read_chosen_file(ev, text)
                    />
                </div>
                <div class="field">
                    <label for="csv">"or paste the CSV"</label>
                    <textarea
                        id="csv"
                        name="csv"
                        rows="6"
                        class="mono"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <ImportAnswer
                    error=error
                    refused="Nothing was stored. Fix these lines and upload again:"
                    done=done
                />
                <FormActions label="Upload runs" pending=upload.pending() />
            </ActionForm>
        </section>
    }
}

#[component]
pub(super) fn StatusForm(
    id: Uuid,
    status: Status,
    action: ServerAction<SetExperimentStatus>,
) -> impl IntoView {
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="status-title">
            <h2 id="status-title">"Status"</h2>
            <ActionForm action=action attr:class="form inline-fields">
                <input type="hidden" name="experiment_id" value=id.to_string() />
                <div class="field compact">
                    <label for="status">"This experiment is"</label>
                    <select id="status" name="status">
                        {Status::ALL
                            .iter()
                            .map(|s| {
                                view! {
                                    <option value=s.as_str() selected=*s == status>
                                        {s.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <FormActions label="Save" pending=action.pending() />
                <FormAlert error=error />
            </ActionForm>
        </section>
    }
}

/// A lead imports the finished runs of an MLflow experiment, mapped by lines they can edit.
#[component]
pub(super) fn MlflowForm(id: Uuid, import: ServerAction<ImportMlflow>) -> impl IntoView {
    let error = action_error(import);
    let done = Signal::derive(move || import.value().get().and_then(Result::ok));
    view! {
        <section class="card" aria-labelledby="mlflow-title">
            <h2 id="mlflow-title">"Import runs from MLflow"</h2>
            <p class="muted small">
                "The finished runs of an MLflow experiment, read through its tracking server's REST API. "
                "Each is keyed by its MLflow run id, so importing again adds only new runs; "
                "a run registered in MLflow's model registry is linked to the catalog version of the same model and version. "
                "If any run cannot be mapped, nothing is imported."
            </p>
            <ActionForm action=import attr:class="form" attr:novalidate="true">
                <input type="hidden" name="experiment_id" value=id.to_string() />
                <div class="field">
                    <label for="mlflow-uri">"Tracking server"</label>
                    <input
                        id="mlflow-uri"
                        name="tracking_uri"
                        type="url"
                        placeholder="http://mlflow.internal:5000"
                        autocomplete="off"
                    />
                </div>
                <div class="field">
                    <label for="mlflow-experiment">"MLflow experiment"</label>
                    <input id="mlflow-experiment" name="mlflow_experiment" type="text" />
                </div>
                <div class="field">
                    <label for="mlflow-filter">"Filter (optional)"</label>
                    <input
                        id="mlflow-filter"
                        name="filter"
                        type="text"
                        class="mono"
                        placeholder="metrics.f1 > 0.8"
                    />
                    <p class="hint">"MLflow's search syntax; only finished runs are read."</p>
                </div>
                <details class="field">
                    <summary>"Mapping"</summary>
                    <p class="hint">
                        "One line a field: " <code>"target = source, source"</code>
                        ", the first source a run has giving the value. Sources are "
                        <code>"metrics.KEY"</code> ", " <code>"params.KEY"</code> " and "
                        <code>"tags.KEY"</code> "; " <code>"metrics = *"</code>
                        " keeps every other metric under its own name, and "
                        <code>"metrics.f1 = metrics.val_f1"</code> " renames one."
                    </p>
                    <label for="mlflow-mapping" class="visually-hidden">
                        "Mapping"
                    </label>
                    <textarea id="mlflow-mapping" name="mapping" rows="12" class="mono">
                        {crate::experiments::mlflow::DEFAULT_MAPPING}
                    </textarea>
                </details>
                <ImportAnswer
                    error=error
                    refused="Nothing was imported:"
                    name_fields=false
                    done=done
                />
                <FormActions label="Import runs" pending=import.pending() />
            </ActionForm>
        </section>
    }
}
