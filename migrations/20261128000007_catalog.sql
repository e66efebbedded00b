-- The model catalog: what each model is for, its versions' life cycle, and the tiers that sort
-- models by what they cost and how fast and good they are.

create type model_status as enum ('draft', 'staging', 'production', 'retired');

alter table model
    add column task task_type not null default 'other',
    add column description text not null default '' check (length(description) <= 4000);

alter table model_version
    add column framework text not null default '' check (length(framework) <= 80),
    -- trainable parameters, when known
    add column parameter_count bigint check (parameter_count > 0),
    -- where the weights live: s3://…, gs://…, hf://…, a registry URI
    add column artifact_uri text not null default '' check (length(artifact_uri) <= 1000),
    add column status model_status not null default 'draft',
    add column updated_at timestamptz not null default now();
create index model_version_status_idx on model_version (status);

-- Ordered rules over a model's measured figures: the first rule whose conditions all hold places
-- the model in its tier; a model no rule places is Tier 2 (balanced).
create table tier_rule (
    tier_rule_id uuid primary key default gen_random_uuid(),
    position integer not null check (position >= 1),
    name text not null check (length(name) between 1 and 120),
    tier smallint not null check (tier between 1 and 3),
    -- as people write them and Pareto checked them: `cost_per_1k <= 0.10`, `p95 >= 500 ms`, `f1 >= 0.97`
    conditions text[] not null check (cardinality(conditions) between 1 and 10),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint tier_rule_position_key unique (position) deferrable initially deferred
);

insert into tier_rule (position, name, tier, conditions) values
    (1, 'Cheap and fast, for high volume', 1, '{"cost_per_1k <= 0.05", "p95_ms <= 60"}'),
    (2, 'Expensive per request', 3, '{"cost_per_1k >= 1"}'),
    (3, 'Heavyweight latency', 3, '{"p95_ms >= 500"}');

-- A lead's decision that overrides the rules for one model, with the reason people see.
create table model_tier_override (
    model_id uuid primary key references model (model_id) on delete cascade,
    tier smallint not null check (tier between 1 and 3),
    reason text not null check (length(reason) between 3 and 1000),
    set_by uuid references app_user (user_id) on delete set null,
    set_by_label text not null,
    created_at timestamptz not null default now()
);
