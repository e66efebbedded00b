-- Telemetry from GPU hosts: deployments, devices, batches, raw samples and hourly rollups.

-- A minimal model registry; the catalog extends it.
create table model (
    model_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 120),
    owner_team_id uuid references team (team_id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index model_name_key on model (lower(name));

create table model_version (
    model_version_id uuid primary key default gen_random_uuid(),
    model_id uuid not null references model (model_id) on delete cascade,
    version text not null check (length(version) between 1 and 80),
    created_at timestamptz not null default now(),
    unique (model_id, version)
);

-- A model version running somewhere, known by the key agents send. A key seen for the first time
-- creates an unassigned deployment (model_version_id null) for someone to link.
create table deployment (
    deployment_id uuid primary key default gen_random_uuid(),
    key text not null unique check (length(key) between 1 and 200),
    model_version_id uuid references model_version (model_version_id) on delete set null,
    first_seen_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Every GPU an agent has reported, with what it last said.
create table gpu_device (
    gpu_uuid text primary key,
    host text not null,
    gpu_index integer not null,
    gpu_model text not null,
    deployment_id uuid references deployment (deployment_id) on delete set null,
    last_utilization_pct real not null,
    last_power_watts real not null,
    last_seen_at timestamptz not null
);
create index gpu_device_host_idx on gpu_device (host);

-- One row per accepted batch: a retry with the same batch_id and content is a no-op, with other
-- content a conflict.
create table telemetry_batch (
    batch_id uuid primary key,
    -- SHA-256 of the batch's canonical JSON
    content_hash bytea not null,
    host text not null,
    sample_count integer not null,
    api_token_id uuid references api_token (api_token_id) on delete set null,
    received_at timestamptz not null default now()
);

-- Raw samples, append-only, one partition per UTC day (created ahead by the server).
-- Raw partitions older than the retention setting are dropped; the rollups stay.
create table telemetry_sample (
    ts timestamptz not null,
    deployment_id uuid not null,
    batch_id uuid not null,
    host text not null,
    gpu_uuid text not null,
    gpu_index integer not null,
    gpu_model text not null,
    interval_s double precision not null,
    utilization_pct double precision not null,
    memory_used_mib double precision not null,
    power_watts double precision not null,
    requests bigint not null,
    latency_p50_ms double precision,
    latency_p95_ms double precision,
    latency_p99_ms double precision
) partition by range (ts);
create index telemetry_sample_ts_brin on telemetry_sample using brin (ts);
create index telemetry_sample_deployment_ts_idx on telemetry_sample (deployment_id, ts);

-- Hourly sums per deployment and GPU model, written in the same transaction as the samples they
-- sum, so that they are exact whatever happens to the process. Every chart and report reads these.
create table telemetry_hourly (
    deployment_id uuid not null references deployment (deployment_id) on delete cascade,
    gpu_model text not null,
    hour timestamptz not null check (date_trunc('hour', hour) = hour),
    sample_count bigint not null,
    -- sum of interval_s: one GPU for one second is one GPU-second
    gpu_seconds double precision not null,
    -- sum of interval_s x utilization: the GPU-seconds the work used
    busy_gpu_seconds double precision not null,
    -- GPU-seconds of samples below the idle threshold (utilization < 10%)
    idle_gpu_seconds double precision not null,
    -- sum of power x interval, in joules
    energy_joules double precision not null,
    memory_mib_seconds double precision not null,
    requests bigint not null,
    -- sum of p95 x requests over samples that report latency, and those requests: a request-weighted mean
    latency_p95_weighted double precision not null,
    latency_requests bigint not null,
    latency_p95_max_ms double precision,
    primary key (deployment_id, hour, gpu_model)
);
create index telemetry_hourly_hour_idx on telemetry_hourly (hour);
