-- Guardrails: rules the platform writes about its deployments (`mean_utilization >= 30%`,
-- `pricing = spot`), scoped by tier, team, task and serving mode, each part optional. Every rule in
-- scope applies; a deployment breaking one is in breach until its figures mend or a lead waives it.
create table guardrail (
    guardrail_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 120),
    -- as Pareto checked and wrote them back: `mean_utilization >= 30%`, `pricing = spot`
    conditions text[] not null check (cardinality(conditions) between 1 and 10),
    tier smallint check (tier between 1 and 3),
    team_id uuid references team (team_id) on delete cascade,
    task task_type,
    mode serving_mode,
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now()
);
create unique index guardrail_name_key on guardrail (lower(name));

-- A lead's acceptance of one guardrail's breach by one deployment, until it expires. Kept after it
-- ends: the newest waiver of a pair is the one that counts.
create table guardrail_waiver (
    guardrail_waiver_id uuid primary key default gen_random_uuid(),
    guardrail_id uuid not null references guardrail (guardrail_id) on delete cascade,
    deployment_id uuid not null references deployment (deployment_id) on delete cascade,
    reason text not null check (length(reason) between 3 and 1000),
    expires_at timestamptz not null,
    granted_by uuid references app_user (user_id) on delete set null,
    granted_by_label text not null,
    created_at timestamptz not null default now()
);
create index guardrail_waiver_pair_idx on guardrail_waiver (guardrail_id, deployment_id, created_at desc);

-- A breach raises one alert per guardrail, deployment and week; a retraining that has come due one
-- per deployment and due date. Both are about a deployment (compared as text: a new enum value
-- cannot be used in the transaction that adds it).
alter type alert_kind add value if not exists 'guardrail';
alter type alert_kind add value if not exists 'retraining';
alter table alert
    add column guardrail_id uuid references guardrail (guardrail_id) on delete cascade,
    drop constraint alert_deployment_check,
    drop constraint alert_budget_check,
    add constraint alert_deployment_check
        check ((kind::text in ('cost_rise', 'drift', 'guardrail', 'retraining')) = (deployment_id is not null)),
    add constraint alert_budget_check
        check ((kind::text in ('cost_rise', 'drift', 'guardrail', 'retraining')) = (budget_id is null)),
    add constraint alert_guardrail_check
        check ((kind::text = 'guardrail') = (guardrail_id is not null));
drop index alert_once_key;
create unique index alert_once_key
    on alert (kind, coalesce(budget_id, deployment_id),
              coalesce(guardrail_id, '00000000-0000-0000-0000-000000000000'::uuid),
              period_start, threshold);
