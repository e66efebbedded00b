-- Budget portfolios kept by name: the monthly budget and, for each experiment or pipeline in it,
-- what a point of its primary metric is worth a month. The answer is worked out again whenever it
-- is read, from the runs as they are then.
create table portfolio_scenario (
    scenario_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 120),
    budget double precision not null check (budget >= 0 and budget < 1e15),
    is_demo boolean not null default false,
    created_by uuid references app_user (user_id) on delete set null,
    created_by_label text not null default '',
    created_at timestamptz not null default now()
);
create unique index portfolio_scenario_name_key on portfolio_scenario (lower(name));

create table portfolio_scenario_item (
    scenario_id uuid not null references portfolio_scenario (scenario_id) on delete cascade,
    position smallint not null,
    -- an experiment or a pipeline, one of the two
    experiment_id uuid references experiment (experiment_id) on delete cascade,
    pipeline_id uuid references pipeline (pipeline_id) on delete cascade,
    point_value double precision not null check (point_value >= 0 and point_value < 1e15),
    primary key (scenario_id, position),
    check ((experiment_id is null) <> (pipeline_id is null))
);
create unique index portfolio_scenario_item_subject_key
    on portfolio_scenario_item (scenario_id, coalesce(experiment_id, pipeline_id));
