-- The requests whose tokens were counted, beside the tokens: where only some replicas of a
-- deployment count tokens (or only some of its hours), tokens per request divide by these, and a
-- cost per million tokens takes the share of the cost those requests had, not the whole.
alter table telemetry_hourly add column token_requests bigint not null default 0;

-- Hours summed before this column counted tokens for all their requests or for none.
update telemetry_hourly set token_requests = requests where input_tokens > 0 or output_tokens > 0;

-- priced_hourly (20261207000020_tokens.sql) with the requests that counted tokens.
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
       h.ttft_requests,
       h.token_requests
  from telemetry_hourly h
  join deployment d using (deployment_id)
  left join gpu_price p
    on p.gpu_model = h.gpu_model and p.pricing_kind = d.pricing_kind
   and h.hour >= p.effective_from and (p.effective_to is null or h.hour < p.effective_to);
