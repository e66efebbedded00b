-- Token usage of hosted language models, as applications report it over OpenTelemetry (OTLP):
-- summed per hour, service, provider and model, from spans and from the token-usage metric
-- (kept apart, so that an application sending both is counted once). Spans are not stored.
create table genai_usage (
    hour timestamptz not null check (date_trunc('hour', hour) = hour),
    service text not null check (length(service) between 1 and 200),
    provider text not null check (length(provider) <= 100),
    model text not null check (length(model) between 1 and 200),
    source text not null check (source in ('span', 'metric')),
    requests bigint not null default 0 check (requests >= 0),
    input_tokens bigint not null default 0 check (input_tokens >= 0),
    output_tokens bigint not null default 0 check (output_tokens >= 0),
    cached_input_tokens bigint not null default 0 check (cached_input_tokens >= 0),
    updated_at timestamptz not null default now(),
    primary key (hour, service, provider, model, source)
);

-- The last cumulative sum of each token-usage series an exporter reports with cumulative
-- temporality (the OpenTelemetry SDKs' default), so that each export adds only what is new.
create table genai_usage_series (
    series text primary key,
    start_time timestamptz not null,
    last_sum double precision not null check (last_sum >= 0),
    updated_at timestamptz not null default now()
);
