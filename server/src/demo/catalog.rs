//! The demo's catalog: what each demo model is for, its versions' frameworks, sizes and life
//! cycle, a card (two revisions) for every version the fleet runs, and one tier that a lead set
//! over the rules.

use anyhow::Context;
use sqlx::PgPool;

use app::audit::Actor;
use app::cards::{self, store::Edit, MetadataForm};
use app::catalog::store;
use app::catalog::tier::Tier;
use app::catalog::{ModelStatus, NewModel, NewVersion};
use app::experiments::TaskType;

struct DemoModel {
    name: &'static str,
    /// Hugging Face metadata: (license, languages, datasets, base model, pipeline tag, tags)
    card: (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ),
    /// (intended use, out of scope, limitations)
    uses: (&'static str, &'static str, &'static str),
    task: TaskType,
    description: &'static str,
    /// (version, framework, parameters, status) for the version the fleet runs
    current: (&'static str, &'static str, &'static str, ModelStatus),
    /// Earlier or later versions: (version, framework, parameters, status)
    others: &'static [(&'static str, &'static str, &'static str, ModelStatus)],
}

const MODELS: &[DemoModel] = &[
    DemoModel {
        name: "fraud-lgbm",
        card: ("proprietary", "", "card-transactions-2026", "", "tabular-classification", "fraud, payments, real-time"),
        uses: (
            "Score card authorizations before approval; the score feeds the risk engine's thresholds.",
            "Credit decisions and anything about a person rather than a payment.",
            "New merchants have little history: their first 30 days score higher than they should.",
        ),
        task: TaskType::Classification,
        description: "Scores every card authorization for fraud in real time.",
        current: ("v3", "LightGBM 4.3", "", ModelStatus::Production),
        others: &[
            ("v2", "LightGBM 4.1", "", ModelStatus::Retired),
            ("v4", "LightGBM 4.5", "", ModelStatus::Staging),
        ],
    },
    DemoModel {
        name: "fraud-gnn",
        card: ("proprietary", "", "account-device-graph-2026", "", "graph-ml", "fraud, graph"),
        uses: (
            "Flag accounts that share devices and payment instruments with known fraud rings.",
            "Single-payment scoring in the authorization path (too slow).",
            "Needs the nightly graph snapshot: rings formed within the day are missed.",
        ),
        task: TaskType::Classification,
        description: "Graph network over accounts and devices, for fraud rings the trees miss.",
        current: ("v1", "PyTorch Geometric 2.5", "48M", ModelStatus::Staging),
        others: &[],
    },
    DemoModel {
        name: "search-bert",
        card: ("apache-2.0", "en, de", "search-clicks-2026q2", "bert-base-uncased", "text-ranking", "search, ranking"),
        uses: (
            "Re-rank the top 100 results of product search.",
            "Ranking beyond the top 100 or in languages other than English and German.",
            "Long-tail queries with few clicks rank close to the lexical baseline.",
        ),
        task: TaskType::Ranking,
        description: "Re-ranks the top 100 product search results.",
        current: ("v2", "PyTorch 2.4", "110M", ModelStatus::Production),
        others: &[("v1", "PyTorch 2.1", "110M", ModelStatus::Retired)],
    },
    DemoModel {
        name: "llm-summarizer",
        card: ("llama3.1", "en", "product-reviews-2026", "meta-llama/Llama-3.1-8B-Instruct", "summarization", "llm, summarization"),
        uses: (
            "Summarize product reviews longer than 400 words for the review pages.",
            "Medical, legal or safety claims made in reviews: they are summarized, not checked.",
            "May merge opinions of different reviewers; summaries carry a \"generated\" label.",
        ),
        task: TaskType::Generation,
        description: "Summarizes long product reviews for the review pages.",
        current: ("v1", "vLLM 0.6", "8B", ModelStatus::Production),
        others: &[],
    },
    DemoModel {
        name: "llm-chat-70b",
        card: ("llama3.1", "en, de, fr", "help-centre-2026", "meta-llama/Llama-3.1-70B-Instruct", "text-generation", "llm, support, rag"),
        uses: (
            "Answer customer questions from help-centre articles, with links to them.",
            "Refunds, account changes or anything that needs a person's decision.",
            "Answers only from retrieved articles; it can still misquote one.",
        ),
        task: TaskType::Generation,
        description: "The support assistant: answers customer questions from the help centre.",
        current: ("v2", "vLLM 0.6", "70B", ModelStatus::Production),
        others: &[
            ("v1", "TGI 2.0", "70B", ModelStatus::Retired),
            ("v3", "vLLM 0.7", "70B", ModelStatus::Staging),
        ],
    },
    DemoModel {
        name: "forecast-tft",
        card: ("proprietary", "", "store-sales-2019-2026", "", "time-series-forecasting", "forecasting, demand"),
        uses: (
            "Weekly demand per store and product family, 12 weeks ahead.",
            "Daily or intra-day planning.",
            "Promotions announced after the weekly run are not in the forecast.",
        ),
        task: TaskType::Regression,
        description: "Weekly demand per store and product family (temporal fusion transformer).",
        current: (
            "v5",
            "PyTorch Forecasting 1.0",
            "12M",
            ModelStatus::Production,
        ),
        others: &[],
    },
    DemoModel {
        name: "recsys-two-tower",
        card: ("proprietary", "", "home-page-sessions-2026", "", "feature-extraction", "recommendations, retrieval"),
        uses: (
            "Retrieve 500 candidates for the home page ranker.",
            "Final ranking: it only proposes candidates.",
            "Items newer than a week have weak embeddings until they collect views.",
        ),
        task: TaskType::Ranking,
        description: "Candidate retrieval for the home page recommendations.",
        current: ("v4", "TensorFlow 2.16", "65M", ModelStatus::Production),
        others: &[],
    },
    DemoModel {
        name: "embeddings-e5",
        card: ("mit", "en", "", "intfloat/e5-large-v2", "sentence-similarity", "embeddings"),
        uses: (
            "Shared text embeddings for search, recommendations and support retrieval.",
            "Languages other than English.",
            "Embeddings change with each version: indexes must be rebuilt together.",
        ),
        task: TaskType::Other,
        description: "Text embeddings shared by search, recommendations and support.",
        current: (
            "v1",
            "Sentence Transformers 3.0",
            "335M",
            ModelStatus::Production,
        ),
        others: &[],
    },
    DemoModel {
        name: "ocr-donut",
        card: ("mit", "en, de", "supplier-invoices-2025", "naver-clova-ix/donut-base", "image-to-text", "ocr, documents"),
        uses: (
            "Read supplier invoices into structured fields for accounts payable.",
            "Handwritten documents and receipts.",
            "Multi-page invoices with tables split across pages lose line items.",
        ),
        task: TaskType::Generation,
        description: "Reads supplier invoices into structured fields.",
        current: ("v2", "PyTorch 2.4", "200M", ModelStatus::Production),
        others: &[],
    },
    DemoModel {
        name: "toxicity-distilbert",
        card: ("apache-2.0", "en", "support-messages-labelled-2026", "distilbert-base-uncased", "text-classification", "moderation, safety"),
        uses: (
            "Flag toxic messages before they reach support agents.",
            "Deciding to close an account: a flag routes the message to a person.",
            "Sarcasm and reclaimed slurs are misread more often than plain insults.",
        ),
        task: TaskType::Classification,
        description: "Flags toxic messages before they reach support agents.",
        current: ("v1", "PyTorch 2.4", "66M", ModelStatus::Production),
        others: &[],
    },
];

fn uri(model: &str, version: &str) -> String {
    format!("s3://acme-models/{model}/{version}/")
}

/// Fills in the models the fleet's links created. Returns how many models were described.
pub async fn load(pool: &PgPool) -> anyhow::Result<usize> {
    let actor = Actor::CommandLine;
    for demo in MODELS {
        let model = sqlx::query!(
            "select model_id, owner_team_id from model where name = $1",
            demo.name
        )
        .fetch_one(pool)
        .await
        .with_context(|| format!("the demo fleet has no model {}", demo.name))?;
        let details = NewModel {
            name: demo.name.to_owned(),
            task: demo.task,
            team_id: model.owner_team_id,
            description: demo.description.to_owned(),
        };
        store::update_model(pool, &actor, model.model_id, details)
            .await
            .map_err(crate::commands::reason)?;
        let (version, framework, parameters, status) = demo.current;
        let parameter_count =
            app::catalog::parse_parameter_count(parameters).map_err(anyhow::Error::msg)?;
        let version_id = sqlx::query_scalar!(
            "update model_version set framework = $3, parameter_count = $4, artifact_uri = $5
              where model_id = $1 and version = $2 returning model_version_id",
            model.model_id,
            version,
            framework,
            parameter_count,
            uri(demo.name, version)
        )
        .fetch_one(pool)
        .await?;
        set_status(pool, &actor, version_id, status).await?;
        write_card(pool, &actor, demo, version_id, version).await?;
        for (version, framework, parameters, status) in demo.others {
            let new = NewVersion::parse(version, framework, parameters, &uri(demo.name, version))
                .map_err(crate::commands::reason)?;
            let id = store::add_version(pool, &actor, model.model_id, new)
                .await
                .map_err(crate::commands::reason)?;
            set_status(pool, &actor, id, *status).await?;
        }
    }
    // The summarizer is cheap per request at today's volume, but the review gate should see it
    // as the large model it is.
    let summarizer =
        sqlx::query_scalar!("select model_id from model where name = 'llm-summarizer'")
            .fetch_one(pool)
            .await?;
    store::set_override(
        pool,
        &Actor::CommandLine,
        summarizer,
        Some(Tier::Tier3),
        "An 8B-parameter LLM: its cost grows with review length, so it is reviewed as Tier 3.",
    )
    .await
    .map_err(crate::commands::reason)?;
    request_review(pool).await?;
    Ok(MODELS.len())
}

/// María asks for the support assistant's new version to go to production; being Tier 3, it
/// waits for a lead.
async fn request_review(pool: &PgPool) -> anyhow::Result<()> {
    let maria = super::person(pool, "maria@example.com").await?;
    let version_id = sqlx::query_scalar!(
        "select v.model_version_id from model_version v join model m using (model_id)
          where m.name = 'llm-chat-70b' and v.version = 'v3'"
    )
    .fetch_one(pool)
    .await?;
    app::reviews::store::request(
        pool,
        &maria,
        version_id,
        "v3 answers 12% more questions without a hand-off in the shadow test.",
    )
    .await
    .map_err(crate::commands::reason)?;
    Ok(())
}

/// The card of the version the fleet runs, written by its team: metadata and every section.
async fn write_card(
    pool: &PgPool,
    actor: &Actor,
    demo: &DemoModel,
    version_id: uuid::Uuid,
    version: &str,
) -> anyhow::Result<()> {
    let (license, language, datasets, base_model, pipeline_tag, tags) = demo.card;
    let (intended, out_of_scope, limitations) = demo.uses;
    let form = MetadataForm {
        license: license.into(),
        language: language.into(),
        datasets: datasets.into(),
        base_model: base_model.into(),
        pipeline_tag: pipeline_tag.into(),
        tags: tags.into(),
    };
    let training = if datasets.is_empty() {
        "Pretrained weights, used as published.".to_owned()
    } else {
        format!("`{datasets}`, split by time: the last four weeks held out for evaluation.")
    };
    let body = format!(
        "# {name} {version}\n\n{description}\n\n## Intended use\n\n{intended}\n\n\
         ## Out-of-scope use\n\n{out_of_scope}\n\n## Limitations\n\n{limitations}\n\n\
         ## Ethical considerations\n\nReviewed by the owning team and ML Platform before \
         production. Decisions that affect a person go to a person.\n\n\
         ## Training data\n\n{training}\n\n## Evaluation\n\nSee the experiment runs linked \
         to this version; the catalog shows the primary metric.\n",
        name = demo.name,
        description = demo.description,
    );
    let first = Edit {
        form: Some(form.clone()),
        metadata: Default::default(),
        body: body.replace(
            "\n## Ethical considerations\n\nReviewed",
            "\n## Ethical considerations\n\nTo be reviewed",
        ),
        note: "first draft".into(),
    };
    cards::store::save(pool, actor, version_id, first)
        .await
        .map_err(crate::commands::reason)?;
    let reviewed = Edit {
        form: Some(form),
        metadata: Default::default(),
        body,
        note: "ethics review done".into(),
    };
    cards::store::save(pool, actor, version_id, reviewed)
        .await
        .map_err(crate::commands::reason)?;
    Ok(())
}

async fn set_status(
    pool: &PgPool,
    actor: &Actor,
    version_id: uuid::Uuid,
    status: ModelStatus,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let version = store::lock_version(&mut tx, version_id)
        .await
        .map_err(crate::commands::reason)?;
    if version.status != status {
        store::write_status(&mut tx, actor, version_id, &version, status, "")
            .await
            .map_err(crate::commands::reason)?;
    }
    tx.commit().await?;
    Ok(())
}
