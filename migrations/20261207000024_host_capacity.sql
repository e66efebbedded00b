-- Every GPU an agent sees is reported, whether a deployment uses it or not: a GPU no deployment
-- uses is the idle capacity of its host, paid for all the same. Its samples name no deployment.
alter table telemetry_sample alter column deployment_id drop not null;

-- The hourly sums of those GPUs per host and GPU model, added to in the batch's transaction like
-- telemetry_hourly. A slice or share of a card counts its share, as in telemetry_hourly.
create table host_capacity_hourly (
    host text not null,
    gpu_model text not null,
    hour timestamptz not null check (date_trunc('hour', hour) = hour),
    sample_count bigint not null,
    gpu_seconds double precision not null,
    busy_gpu_seconds double precision not null,
    energy_joules double precision not null,
    gpu_hours numeric generated always as ((gpu_seconds / 3600)::numeric) stored,
    energy_kwh numeric generated always as ((energy_joules / 3600000)::numeric) stored,
    primary key (host, hour, gpu_model)
);
create index host_capacity_hourly_hour_idx on host_capacity_hourly (hour);

-- What that capacity costs, by the rule priced_hourly prices a deployment's hour with. A host has
-- no pricing of its own, so its unassigned GPUs are priced at the catalog's on-demand rate (the
-- same rate the fleet's GPU list shows for them), or at the on-prem rate with its energy where
-- the catalog prices that GPU model on premises only.
create view priced_host_capacity as
select h.host,
       h.hour,
       h.gpu_model,
       h.gpu_seconds,
       h.busy_gpu_seconds,
       h.energy_joules,
       p.gpu_price_id,
       p.currency,
       round(p.hourly_price * h.gpu_hours
             + coalesce(p.energy_price_per_kwh * h.energy_kwh, 0), 9) as cost
  from host_capacity_hourly h
  left join lateral (
        select gp.gpu_price_id, gp.currency, gp.hourly_price, gp.energy_price_per_kwh
          from gpu_price gp
         where gp.gpu_model = h.gpu_model
           and gp.pricing_kind in ('on_demand', 'on_prem')
           and h.hour >= gp.effective_from and (gp.effective_to is null or h.hour < gp.effective_to)
         order by gp.pricing_kind = 'on_demand' desc
         limit 1) p on true;

-- The Kubernetes pod ("namespace/pod") a device last served, for the deployment page.
alter table gpu_device add column pod text;
