-- Budgets and alerts: monthly budgets per team, model or tier; alerts that fire once per threshold
-- and period; webhooks that receive them, with every delivery attempt recorded.

create type budget_scope as enum ('team', 'model', 'tier');
create type alert_kind as enum ('budget_threshold', 'budget_forecast', 'cost_rise');

create table budget (
    budget_id uuid primary key default gen_random_uuid(),
    scope budget_scope not null,
    team_id uuid references team (team_id) on delete cascade,
    model_id uuid references model (model_id) on delete cascade,
    tier smallint check (tier between 1 and 3),
    check ((scope = 'team') = (team_id is not null)),
    check ((scope = 'model') = (model_id is not null)),
    check ((scope = 'tier') = (tier is not null)),
    monthly_amount numeric(16, 2) not null check (monthly_amount > 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    -- percentages of the budget at which billed spend raises an alert
    thresholds integer[] not null default '{50,80,100}' check (cardinality(thresholds) between 1 and 10),
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
-- one budget per team, model or tier and currency
create unique index budget_target_key
    on budget (scope, coalesce(team_id, model_id, '00000000-0000-0000-0000-000000000000'), coalesce(tier, 0), currency);

-- One row: how much a deployment's cost per 1,000 requests may rise week over week.
create table alert_setting (
    singleton boolean primary key default true check (singleton),
    cost_rise_pct numeric(8, 2) not null default 25 check (cost_rise_pct > 0),
    updated_at timestamptz not null default now()
);
insert into alert_setting default values;

create table alert (
    alert_id uuid primary key default gen_random_uuid(),
    kind alert_kind not null,
    budget_id uuid references budget (budget_id) on delete cascade,
    deployment_id uuid references deployment (deployment_id) on delete cascade,
    check ((kind = 'cost_rise') = (deployment_id is not null)),
    check ((kind <> 'cost_rise') = (budget_id is not null)),
    -- the period it is about: the budget's month, the deployment's week
    period_start date not null,
    -- the percentage reached, for threshold alerts; 0 otherwise
    threshold integer not null default 0,
    message text not null,
    detail jsonb not null default '{}',
    created_at timestamptz not null default now(),
    acknowledged_at timestamptz,
    acknowledged_by_label text
);
-- an alert fires once per threshold and period, however often spend is evaluated
create unique index alert_once_key
    on alert (kind, coalesce(budget_id, deployment_id), period_start, threshold);
create index alert_open_idx on alert (created_at desc) where acknowledged_at is null;

create table webhook (
    webhook_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 80),
    -- may hold a secret in its path: shown as scheme and host only
    url text not null check (url ~ '^https?://'),
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now()
);

-- One alert to one webhook: due until delivered or given up.
create table alert_delivery (
    alert_id uuid not null references alert (alert_id) on delete cascade,
    webhook_id uuid not null references webhook (webhook_id) on delete cascade,
    attempts integer not null default 0,
    next_attempt_at timestamptz,
    delivered_at timestamptz,
    gave_up_at timestamptz,
    primary key (alert_id, webhook_id)
);
create index alert_delivery_due_idx on alert_delivery (next_attempt_at) where next_attempt_at is not null;

-- Every attempt, with what the webhook answered.
create table alert_delivery_attempt (
    alert_delivery_attempt_id bigint generated always as identity primary key,
    alert_id uuid not null,
    webhook_id uuid not null,
    foreign key (alert_id, webhook_id) references alert_delivery (alert_id, webhook_id) on delete cascade,
    attempt integer not null,
    attempted_at timestamptz not null default now(),
    status_code integer,
    error text,
    delivered boolean not null
);
