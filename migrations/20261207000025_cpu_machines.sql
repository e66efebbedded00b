-- CPU-served models: a sample may stand for cores of a CPU machine rather than a GPU. Its
-- gpu_model names the machine type, which the price catalog prices per instance-hour like a GPU
-- model, and its gpu_share is the part of the machine its deployment is allotted, so CPU
-- deployments are priced, rolled up and shown by the same rules as GPU ones.
alter table gpu_device add column cpu_cores double precision check (cpu_cores > 0);

-- Example prices of two CPU machine types, labelled as examples like the GPU rows.
insert into gpu_price (gpu_model, pricing_kind, hourly_price, energy_price_per_kwh, currency, effective_from, is_example, note)
values
    ('c7i.2xlarge', 'on_demand', 0.357, null, 'USD', '2026-01-01', true, 'a CPU machine: 8 vCPU, 16 GiB; replace with your contract price'),
    ('m7i.xlarge', 'on_demand', 0.2016, null, 'USD', '2026-01-01', true, 'a CPU machine: 4 vCPU, 16 GiB; replace with your contract price');
