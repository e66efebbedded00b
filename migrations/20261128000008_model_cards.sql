-- Model cards: one per model version, every edit a new revision. The metadata follows the Hugging
-- Face model card vocabulary; the cost section is never stored here: Pareto computes it from the
-- ledger whenever the card is shown or exported.

create table model_card_revision (
    model_card_revision_id uuid primary key default gen_random_uuid(),
    model_version_id uuid not null references model_version (model_version_id) on delete cascade,
    revision integer not null check (revision >= 1),
    -- the YAML front matter as JSON: license, language, datasets, base_model, pipeline_tag, tags,
    -- metrics, model-index, and any other key an imported card carried
    metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    -- Markdown: intended use, out-of-scope use, limitations, ethical considerations, training data,
    -- evaluation; rendered through a sanitizer, never as typed
    body text not null check (length(body) <= 200000),
    -- what changed, in the editor's words
    note text not null default '' check (length(note) <= 500),
    created_by uuid references app_user (user_id) on delete set null,
    created_by_label text not null,
    created_at timestamptz not null default now(),
    unique (model_version_id, revision)
);
