//! The versioned JSON API for agents, pipelines and scripts: `/api/v1`, bearer tokens, problem+json,
//! described by the OpenAPI document every route is mounted with (`openapi.rs`).

mod advice;
pub mod auth;
mod deployments;
mod drift;
pub mod error;
mod experiments;
pub mod json;
mod models;
pub mod openapi;
pub mod otlp;
mod pipelines;
mod prices;
mod telemetry;
mod whoami;

use std::sync::Arc;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tower::ServiceBuilder;
use tower_http::decompression::RequestDecompressionLayer;
use uuid::Uuid;

use app::state::AppState;
use app::tokens::Scope;
use error::ApiError;
use openapi::{Api, Doc};

/// The API's routes: those served below `/api/v1` with its body limit and decompression, and the
/// bill import, which streams gigabytes under its own limit (mounted at its full path).
pub struct Routes {
    pub api: Router<AppState>,
    pub bill_import: Router<AppState>,
    /// The OpenAPI document of both.
    pub document: Arc<Value>,
}

/// The path of the API's description, below `/api/v1`.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Every `/api/v1` route, in one place, each with its description.
/// `ingest_concurrency` bounds the batches stored at once; past it the server answers 429 with
/// `Retry-After` instead of queueing without bound.
pub fn routes(body_limit_bytes: usize, ingest_concurrency: usize) -> Routes {
    let shed_load = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
            ApiError::Overloaded {
                retry_after_seconds: 1,
            }
        }))
        .load_shed()
        .concurrency_limit(ingest_concurrency);
    let shed_drift = shed_load.clone();
    let api = Api::new()
        .route(
            Doc::get("/whoami", "whoami")
                .says("The token's name, scopes and team", "For an agent to check its token before it sends anything.")
                .answers::<whoami::WhoAmI>(200, "The token."),
            whoami::get,
        )
        .route_with(
            Doc::post("/telemetry", "postTelemetry")
                .says(
                    "Store GPU samples from an agent",
                    "A batch of samples, stored whole or not at all; idempotent by `batch_id` (the same bytes again answer 200 with `duplicate`).",
                )
                .scope(Scope::Ingest)
                .body::<app::telemetry::ingest::TelemetryBody>()
                .answers::<telemetry::IngestAnswer>(202, "Stored.")
                .answers::<telemetry::IngestAnswer>(200, "Stored before: nothing added.")
                .problems(&[409, 429]),
            telemetry::post,
            |route| route.route_layer(shed_load),
        )
        .route_with(
            Doc::post("/drift", "postDrift")
                .says(
                    "Store drift measurements from a monitoring job",
                    "Performance and data drift, given as values or as histograms Pareto turns into statistics; stored whole or not at all, idempotent by `batch_id`.",
                )
                .scope(Scope::Ingest)
                .body::<app::drift::ingest::DriftBody>()
                .answers::<telemetry::IngestAnswer>(202, "Stored.")
                .answers::<telemetry::IngestAnswer>(200, "Stored before: nothing added.")
                .problems(&[409, 429]),
            drift::post,
            |route| route.route_layer(shed_drift),
        )
        .route(
            Doc::post("/otlp/v1/traces", "exportTraces")
                .says(
                    "OpenTelemetry spans (OTLP over HTTP): hosted-model calls and their tokens",
                    "Spans with the GenAI conventions' usage attributes (`gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens`) count one call of `gen_ai.request.model` from `gen_ai.provider.name` (or the older `gen_ai.system`) for the resource's `service.name`, summed by hour; spans are not stored. Protobuf or OTLP JSON, gzip with `Content-Encoding`: point `OTEL_EXPORTER_OTLP_ENDPOINT` at `/api/v1/otlp`. The answer is the export response in the request's encoding; `partialSuccess` counts spans left out and says why.",
                )
                .scope(Scope::Ingest)
                .raw_body(&["application/x-protobuf", "application/json"])
                .file(200, "application/x-protobuf", "ExportTraceServiceResponse (or its JSON, for a JSON request)."),
            otlp::traces,
        )
        .route(
            Doc::post("/otlp/v1/metrics", "exportMetrics")
                .says(
                    "OpenTelemetry metrics (OTLP over HTTP): the GenAI token-usage metric",
                    "The `gen_ai.client.token.usage` histogram (or a sum), by `gen_ai.token.type` (`input`, `output`), delta or cumulative (each export of a cumulative series adds what is new since the last), summed by hour. Other metrics are ignored.",
                )
                .scope(Scope::Ingest)
                .raw_body(&["application/x-protobuf", "application/json"])
                .file(200, "application/x-protobuf", "ExportMetricsServiceResponse (or its JSON, for a JSON request)."),
            otlp::metrics,
        )
        .route(
            Doc::get("/genai/usage", "getHostedModelSpend")
                .says(
                    "What hosted models cost, measured from OpenTelemetry",
                    "Each service's calls and tokens per provider and model over the last `days`, from its spans (else the token-usage metric), priced with the API price table's row in force now.",
                )
                .scope(Scope::Read)
                .query::<otlp::UsageQuery>()
                .answers::<app::genai::HostedSpendView>(200, "The spend."),
            otlp::usage,
        )
        .route(
            Doc::get("/deployments/{key}", "getDeployment")
                .says(
                    "A deployment's measured usage and cost",
                    "Over the last `days`: GPU-hours, requests, cost, cost per 1,000 requests and, for a language model whose server counts tokens, per million tokens.",
                )
                .scope(Scope::Read)
                .param::<String>("key", "The deployment's key, as its agent names it.")
                .query::<deployments::Period>()
                .answers::<app::fleet::DeploymentCost>(200, "The deployment's figures."),
            deployments::get,
        )
        .route(
            Doc::get("/advice", "listAdvice")
                .says(
                    "Every deployment's advice over the last 30 days",
                    "Largest saving first, with the figures each used and the risk it takes, at the settings a lead saved.",
                )
                .scope(Scope::Read)
                .answers::<app::advice::AdviceList>(200, "The advice."),
            advice::get,
        )
        .route(
            Doc::post("/experiments", "createExperiment")
                .says("Create an experiment", "Its team by name; constraints as people write them (`f1 >= 0.9`, `p95 <= 50`).")
                .scope(Scope::Write)
                .body::<app::experiments::ExperimentSpec>()
                .answers::<experiments::ExperimentCreated>(201, "Created."),
            experiments::create,
        )
        .route(
            Doc::get("/experiments/{id}", "getExperiment")
                .says("An experiment with every figure its page shows", "Each run priced, the frontier and the recommendation.")
                .scope(Scope::Read)
                .param::<Uuid>("id", "The experiment's id.")
                .answers::<app::experiments::view::ExperimentView>(200, "The experiment."),
            experiments::get,
        )
        .route(
            Doc::post("/experiments/{id}/runs", "addRuns")
                .says(
                    "Add one run, or several under `runs`",
                    "All or none; idempotent by `run_key` (the same key with the same figures answers `duplicate`, with other figures 409).",
                )
                .scope(Scope::Write)
                .param::<Uuid>("id", "The experiment's id.")
                .body::<experiments::RunsBody>()
                .answers::<experiments::RunsAdded>(201, "Stored.")
                .answers::<experiments::RunsAdded>(200, "Every run was stored before.")
                .problems(&[409]),
            experiments::add_runs,
        )
        .route(
            Doc::get("/pipelines", "listPipelines")
                .says("Every pipeline", "Its stages, SLA and volume.")
                .scope(Scope::Read)
                .answers::<Vec<app::pipelines::PipelineSummary>>(200, "The pipelines."),
            pipelines::list,
        )
        .route(
            Doc::post("/pipelines", "createPipeline")
                .says("Create a pipeline", "Its stages, each an experiment with the share of requests it sees and its fan-out.")
                .scope(Scope::Write)
                .body::<pipelines::NewPipelineBody>()
                .answers::<pipelines::PipelineCreated>(201, "Created."),
            pipelines::create,
        )
        .route(
            Doc::get("/pipelines/{id}", "getPipeline")
                .says(
                    "A pipeline priced",
                    "Its stages with their candidates priced at the traffic each sees, the cheapest combination within its SLA, the frontier and the route in use.",
                )
                .scope(Scope::Read)
                .param::<Uuid>("id", "The pipeline's id.")
                .answers::<app::pipelines::PipelineView>(200, "The pipeline."),
            pipelines::get,
        )
        .route(
            Doc::put("/pipelines/{id}", "updatePipeline")
                .says("Change a pipeline whole", "The same fields as when created but its team, which it keeps.")
                .scope(Scope::Write)
                .param::<Uuid>("id", "The pipeline's id.")
                .body::<pipelines::PipelineChangeBody>()
                .empty(204, "Changed."),
            pipelines::update,
        )
        .route(
            Doc::get("/pipelines/{id}/hybrid", "getHybridRoute")
                .says(
                    "What sending a share of a stage's requests to a heavier candidate does",
                    "On the cheapest combination: its cost, quality and latency blended.",
                )
                .scope(Scope::Read)
                .param::<Uuid>("id", "The pipeline's id.")
                .query::<pipelines::HybridQuery>()
                .answers::<app::pipelines::hybrid::Blend>(200, "The blend."),
            pipelines::hybrid,
        )
        .route(
            Doc::post("/pipelines/{id}/runs", "recordPipelineRun")
                .says(
                    "Record one combination's quality measured end to end",
                    "The same combination again replaces it.",
                )
                .scope(Scope::Write)
                .param::<Uuid>("id", "The pipeline's id.")
                .body::<pipelines::PipelineRunBody>()
                .empty(204, "Recorded."),
            pipelines::record_run,
        )
        .route(
            Doc::post("/model-versions/{id}/promotion", "requestPromotion")
                .says(
                    "Ask for production",
                    "Promoted at once when the review gate lets it through; otherwise a request waits for leads to approve. 409 when it is already in production or waiting.",
                )
                .scope(Scope::Write)
                .param::<Uuid>("id", "The model version's id.")
                .body::<models::PromotionBody>()
                .answers::<models::PromotionAnswer>(200, "Promoted.")
                .answers::<models::PromotionAnswer>(202, "Waiting for review.")
                .problems(&[409]),
            models::promote,
        )
        .route(
            Doc::get("/model-versions/{id}/review", "getReview")
                .says("A version's status and its latest promotion request", "With every review.")
                .scope(Scope::Read)
                .param::<Uuid>("id", "The model version's id.")
                .answers::<models::ReviewAnswer>(200, "The version's review."),
            models::review,
        )
        .route(
            Doc::get("/prices/gpus", "listGpuPrices")
                .says(
                    "The GPU price catalog",
                    "Every dated price of every GPU model and pricing kind (on-demand, spot, reserved, on-prem), the one Pareto prices GPU-hours with.",
                )
                .scope(Scope::Read)
                .answers::<Vec<app::prices::GpuPrice>>(200, "The prices."),
            prices::gpus,
        )
        .route(
            Doc::get("/bills/export", "exportLedger")
                .says("The whole ledger as CSV", "Every imported bill line with its allocation, streamed.")
                .scope(Scope::Read)
                .file(200, "text/csv", "The ledger.")
                .problems(&[503]),
            crate::bills::api_export,
        )
        .route(
            Doc::get("/reports/tco", "getTcoReport")
                .says(
                    "A quarter's total cost of ownership per model and team",
                    "As on the Reports page: JSON by default, or CSV, XLSX or HTML.",
                )
                .scope(Scope::Read)
                .query::<crate::reports::ReportQuery>()
                .answers::<crate::reports::TcoJson>(200, "The report (`format=json`).")
                .file(
                    200,
                    "text/csv",
                    "The report as CSV (`format=csv`); XLSX and HTML likewise.",
                ),
            crate::reports::api,
        );
    let bill_import = Api::under("/api/v1").route(
        Doc::post("/bills/import", "importBill")
            .says(
                "Import a cloud bill into the ledger",
                "A FOCUS, AWS CUR, GCP or Azure export as the body (CSV, or gzip), imported whole or not at all; the same file again changes nothing.",
            )
            .scope(Scope::Bills)
            .query::<crate::bills::ImportQuery>()
            .raw_body(&["text/csv", "application/gzip"])
            .answers::<app::bills::ImportOutcome>(200, "Imported (or imported before).")
            .problems(&[503]),
        crate::bills::api_import,
    );
    let description = Doc::get(OPENAPI_PATH, "getOpenApi")
        .says(
            "This document",
            "The API described as OpenAPI 3.1; no token needed.",
        )
        .public()
        .answers::<serde_json::Value>(200, "The OpenAPI document.");
    let document = Arc::new(openapi::document(
        api.docs()
            .iter()
            .chain(bill_import.docs())
            .chain([&description]),
    ));
    let served = Arc::clone(&document);
    let api = api
        .into_router()
        .route(
            OPENAPI_PATH,
            get(move || {
                let document = Arc::clone(&served);
                async move {
                    (
                        [(header::CACHE_CONTROL, "no-cache")],
                        axum::Json(document.as_ref().clone()),
                    )
                        .into_response()
                }
            }),
        )
        .fallback(|| async { ApiError::NotFound("no such API endpoint".into()) })
        .layer(RequestDecompressionLayer::new())
        .layer(DefaultBodyLimit::max(body_limit_bytes));
    Routes {
        api,
        bill_import: bill_import.into_router(),
        document,
    }
}
