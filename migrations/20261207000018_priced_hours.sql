-- Pricing an hour multiplies decimals. Each hourly rollup keeps its GPU time, busy and idle time
-- and energy as decimals beside the float sums that ingest adds to (generated columns, so they
-- follow every change), and priced_hourly reads them instead of converting up to five floats in
-- every row it prices on every read: the drift and overview pages price every hour of the last
-- 30 days of every deployment. The figures are the same to the digit: these are the decimals the
-- view converted before.
alter table telemetry_hourly
    add column gpu_hours numeric generated always as ((gpu_seconds / 3600)::numeric) stored,
    add column busy_gpu_hours numeric generated always as ((busy_gpu_seconds / 3600)::numeric) stored,
    add column idle_gpu_hours numeric generated always as ((idle_gpu_seconds / 3600)::numeric) stored,
    add column energy_kwh numeric generated always as ((energy_joules / 3600000)::numeric) stored;

-- The one definition of what a telemetry hour costs (20261204000017_one_price.sql), reading the
-- decimals above.
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
       round(p.hourly_price * h.idle_gpu_hours, 9) as idle_cost
  from telemetry_hourly h
  join deployment d using (deployment_id)
  left join gpu_price p
    on p.gpu_model = h.gpu_model and p.pricing_kind = d.pricing_kind
   and h.hour >= p.effective_from and (p.effective_to is null or h.hour < p.effective_to);
