-- Drift: measurements per deployment (performance on labelled samples, or data drift per feature),
-- the thresholds that judge them, and the priced hourly telemetry that drift is set against.

create type drift_kind as enum ('performance', 'data');

-- A deployment whose drift passes its alert level fires one alert per week. Like a cost rise it is
-- about a deployment, not a budget (compared as text: a new enum value cannot be used in the
-- transaction that adds it).
alter type alert_kind add value if not exists 'drift';
alter table alert
    drop constraint alert_check,
    drop constraint alert_check1,
    add constraint alert_deployment_check
        check ((kind::text in ('cost_rise', 'drift')) = (deployment_id is not null)),
    add constraint alert_budget_check
        check ((kind::text in ('cost_rise', 'drift')) = (budget_id is null));

-- One row per accepted batch: a retry with the same batch_id and content is a no-op, with other
-- content a conflict (as for telemetry).
create table drift_batch (
    batch_id uuid primary key,
    content_hash bytea not null,
    measurement_count integer not null,
    api_token_id uuid references api_token (api_token_id) on delete set null,
    received_at timestamptz not null default now()
);

create table drift_measurement (
    drift_measurement_id bigint generated always as identity primary key,
    deployment_id uuid not null references deployment (deployment_id) on delete cascade,
    batch_id uuid not null references drift_batch (batch_id) on delete cascade,
    ts timestamptz not null,
    kind drift_kind not null,
    -- f1, auc, mape … for performance; psi, js, ks, wasserstein for data drift
    metric text not null check (length(metric) between 1 and 40),
    -- the feature, for data drift; '' for performance
    feature text not null default '' check (length(feature) <= 200),
    value double precision not null,
    sample_count bigint check (sample_count >= 1),
    -- computed by Pareto from the reference and current histograms the batch sent
    computed boolean not null default false,
    check ((kind = 'performance') = (feature = ''))
);
create index drift_measurement_series_ts_idx
    on drift_measurement (deployment_id, kind, metric, feature, ts);
create index drift_measurement_ts_brin on drift_measurement using brin (ts);

-- Every series a deployment has: the newest value of each is one index probe away, however many
-- measurements there are.
create table drift_series (
    deployment_id uuid not null references deployment (deployment_id) on delete cascade,
    kind drift_kind not null,
    metric text not null,
    feature text not null,
    primary key (deployment_id, kind, metric, feature)
);

-- A deployment's own warn and alert levels for one statistic (or 'performance': a drop in percent
-- of the experiment's figure); Pareto's defaults hold where there is none.
create table drift_threshold (
    deployment_id uuid not null references deployment (deployment_id) on delete cascade,
    metric text not null check (metric in ('psi', 'js', 'ks', 'wasserstein', 'performance')),
    warn double precision not null check (warn >= 0),
    alert double precision not null,
    set_by uuid references app_user (user_id) on delete set null,
    set_by_label text not null,
    updated_at timestamptz not null default now(),
    primary key (deployment_id, metric),
    check (alert >= warn)
);

-- Hourly telemetry with the GPU price in force, costed on the reserved basis (every GPU-hour paid
-- for, plus on-prem energy) and the idle part of it. Unpriced hours have a null currency.
create view priced_hourly as
select h.deployment_id,
       d.model_version_id,
       h.hour,
       h.gpu_model,
       h.requests,
       h.gpu_seconds,
       h.idle_gpu_seconds,
       h.latency_p95_weighted,
       h.latency_requests,
       p.currency,
       round(p.hourly_price * (h.gpu_seconds / 3600)::numeric
             + coalesce(p.energy_price_per_kwh * (h.energy_joules / 3600000)::numeric, 0), 6) as reserved_cost,
       round(p.hourly_price * (h.idle_gpu_seconds / 3600)::numeric, 6) as idle_cost
  from telemetry_hourly h
  join deployment d using (deployment_id)
  left join gpu_price p
    on p.gpu_model = h.gpu_model and p.pricing_kind = d.pricing_kind
   and h.hour >= p.effective_from and (p.effective_to is null or h.hour < p.effective_to);
