-- Language-model servers count tokens: what each sample read (input, with the part served from a
-- prefix cache) and wrote (output) in its interval, and the time to first token beside the whole
-- request's latency. All optional: a sample from a server that counts no tokens leaves them null.
alter table telemetry_sample
    add column input_tokens bigint,
    add column output_tokens bigint,
    add column cached_input_tokens bigint,
    add column ttft_p50_ms double precision,
    add column ttft_p95_ms double precision,
    add column ttft_p99_ms double precision;

-- The hourly sums of the same, added to in the batch's transaction like the other sums; the time
-- to first token as a request-weighted mean of p95, like latency.
alter table telemetry_hourly
    add column input_tokens bigint not null default 0,
    add column output_tokens bigint not null default 0,
    add column cached_input_tokens bigint not null default 0,
    add column ttft_p95_weighted double precision not null default 0,
    add column ttft_requests bigint not null default 0;

-- priced_hourly (20261207000018_priced_hours.sql) with the token counts, so that a figure per
-- million tokens divides the same priced hours as a figure per thousand requests.
create or replace view priced_hourly as
select h.deployment_id,
       d.model_version_id,
       h.hour,
       h.gpu_model,
       h.requests,
       h.gpu_seconds,
       h.busy_gpu_seconds,
       h.idle_gpu_seconds,
       h.energy_joules,
       h.latency_p95_weighted,
       h.latency_requests,
       p.gpu_price_id,
       p.currency,
       round(p.hourly_price * h.gpu_hours
             + coalesce(p.energy_price_per_kwh * h.energy_kwh, 0), 9) as reserved_cost,
       round(p.hourly_price * h.busy_gpu_hours
             + coalesce(p.energy_price_per_kwh * h.energy_kwh, 0), 9) as utilization_weighted_cost,
       round(p.hourly_price * h.idle_gpu_hours, 9) as idle_cost,
       h.input_tokens,
       h.output_tokens,
       h.cached_input_tokens,
       h.ttft_p95_weighted,
       h.ttft_requests
  from telemetry_hourly h
  join deployment d using (deployment_id)
  left join gpu_price p
    on p.gpu_model = h.gpu_model and p.pricing_kind = d.pricing_kind
   and h.hour >= p.effective_from and (p.effective_to is null or h.hour < p.effective_to);
