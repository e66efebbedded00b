-- Pipelines: models chained in stages whose SLA, traffic and bill belong to the whole. Each stage
-- takes its candidates from an experiment's runs, sees a share of the pipeline's requests and
-- scores `fan_out` items for each (its experiment's requests are items).
create table pipeline (
    pipeline_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 120),
    team_id uuid not null references team (team_id) on delete restrict,
    description text not null default '' check (length(description) <= 2000),
    -- the end-to-end SLA as people write it ("p95 <= 120 ms"), checked before it is stored
    constraints text[] not null default '{}',
    monthly_volume bigint not null check (monthly_volume > 0),
    currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    is_demo boolean not null default false,
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index pipeline_name_key on pipeline (team_id, lower(name));

create table pipeline_stage (
    pipeline_id uuid not null references pipeline (pipeline_id) on delete cascade,
    position smallint not null check (position between 1 and 8),
    name text not null check (length(name) between 1 and 80),
    experiment_id uuid not null references experiment (experiment_id) on delete restrict,
    share double precision not null check (share > 0 and share <= 1),
    fan_out double precision not null check (fan_out >= 1 and fan_out <= 100000),
    primary key (pipeline_id, position)
);
create index pipeline_stage_experiment_idx on pipeline_stage (experiment_id);
