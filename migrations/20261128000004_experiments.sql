-- Experiments: candidate models evaluated on the same data, their SLA, and saved cascade scenarios.

create type task_type as enum ('classification', 'regression', 'ranking', 'generation', 'other');
create type metric_direction as enum ('higher', 'lower');
create type serving_mode as enum ('real_time', 'batch', 'both');
create type experiment_status as enum ('open', 'decided', 'archived');
create type inference_kind as enum ('self_hosted', 'measured', 'api_tokens', 'api_request');

create table experiment (
    experiment_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 120),
    team_id uuid not null references team (team_id) on delete restrict,
    task_type task_type not null,
    dataset text not null default '' check (length(dataset) <= 2000),
    primary_metric text not null check (primary_metric ~ '^[a-z][a-z0-9_@.-]{0,39}$'),
    direction metric_direction not null,
    -- SLA constraints as people write them ("f1 >= 0.9"), checked by Pareto before they are stored
    constraints text[] not null default '{}',
    monthly_volume bigint not null default 1000000 check (monthly_volume > 0),
    mode serving_mode not null default 'real_time',
    currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    status experiment_status not null default 'open',
    -- loaded by `pareto demo`: its figures are illustrations, and the pages say so
    is_demo boolean not null default false,
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index experiment_name_key on experiment (team_id, lower(name));

create table experiment_run (
    run_id uuid primary key default gen_random_uuid(),
    experiment_id uuid not null references experiment (experiment_id) on delete cascade,
    -- chosen by whoever submits the run; submitting the same key again adds nothing
    run_key text not null check (length(run_key) between 1 and 200),
    name text not null check (length(name) between 1 and 120),
    model_version_id uuid references model_version (model_version_id) on delete set null,
    inference_kind inference_kind not null,
    -- the run as submitted and validated: metrics, latencies, hardware, training, inference pricing
    -- (amounts inside are decimal strings, never floats); json, not jsonb: it is read whole, and a
    -- page of 10,000 runs reads it 2 to 3 times faster as the text it was written as
    spec json not null,
    -- the whole machine's price per hour, typed or looked up in the price catalog when stored
    hourly_price numeric(14, 6) check (hourly_price >= 0),
    hourly_price_source text not null default '',
    -- a measured run: its deployment, and the cost per 1,000 requests its telemetry showed when stored
    deployment_id uuid references deployment (deployment_id) on delete set null,
    measured_cost_per_1k numeric(20, 10) check (measured_cost_per_1k >= 0),
    -- SHA-256 of the submitted run, to tell a retry from a different run under the same key
    content_hash bytea not null,
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    unique (experiment_id, run_key)
);
create index experiment_run_model_version_idx on experiment_run (model_version_id);

-- A cheap model answers the traffic it is confident on and passes the rest to an expensive one.
create table cascade_scenario (
    cascade_scenario_id uuid primary key default gen_random_uuid(),
    experiment_id uuid not null references experiment (experiment_id) on delete cascade,
    name text not null check (length(name) between 1 and 120),
    cheap_run_id uuid not null references experiment_run (run_id) on delete cascade,
    expensive_run_id uuid not null references experiment_run (run_id) on delete cascade,
    -- the share of traffic the cheap model keeps, 0 to 1
    share_kept double precision not null check (share_kept between 0 and 1),
    -- the confidence threshold that yields that share, when the scenario came from one
    threshold double precision,
    -- quality on each slice, when measured; otherwise each model's overall figure stands in
    kept_quality double precision,
    passed_quality double precision,
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    check (cheap_run_id <> expensive_run_id)
);
create unique index cascade_scenario_name_key on cascade_scenario (experiment_id, lower(name));
