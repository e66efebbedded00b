-- The one definition of what a telemetry hour costs, read by every figure Pareto shows (fleet,
-- deployment, catalog, model card, alerts, bill reconciliation, drift, overview, TCO). Each hour is
-- priced at the catalog's price in force for its GPU model and the deployment's pricing kind, on
-- two bases side by side:
-- - reserved: every GPU-hour held is paid for, busy or idle, plus on-prem energy;
-- - utilization-weighted: only the busy share of each GPU-hour, plus the same energy (the meter
--   ran either way);
-- and the idle part of the reserved cost (GPU time below the idle threshold, energy not counted).
-- Each hour's cost is kept to a billionth (so that sums stay within what the server's decimals
-- hold); figures round when they are shown. Unpriced hours (no
-- price in force) have a null currency, price and costs, and still count their GPU time.
drop view priced_hourly;
create view priced_hourly as
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
       round(p.hourly_price * (h.gpu_seconds / 3600)::numeric
             + coalesce(p.energy_price_per_kwh * (h.energy_joules / 3600000)::numeric, 0), 9) as reserved_cost,
       round(p.hourly_price * (h.busy_gpu_seconds / 3600)::numeric
             + coalesce(p.energy_price_per_kwh * (h.energy_joules / 3600000)::numeric, 0), 9) as utilization_weighted_cost,
       round(p.hourly_price * (h.idle_gpu_seconds / 3600)::numeric, 9) as idle_cost
  from telemetry_hourly h
  join deployment d using (deployment_id)
  left join gpu_price p
    on p.gpu_model = h.gpu_model and p.pricing_kind = d.pricing_kind
   and h.hour >= p.effective_from and (p.effective_to is null or h.hour < p.effective_to);
