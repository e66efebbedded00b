-- The GPU price catalog: what one GPU-hour costs, per GPU model and pricing kind, over time.

create extension if not exists btree_gist;

create type pricing_kind as enum ('on_demand', 'spot', 'reserved', 'on_prem');

create table gpu_price (
    gpu_price_id uuid primary key default gen_random_uuid(),
    -- as the GPU reports itself, e.g. "NVIDIA H100 80GB HBM3" (nvidia-smi's name)
    gpu_model text not null check (length(gpu_model) between 1 and 100),
    pricing_kind pricing_kind not null,
    -- per GPU-hour; for on-prem, the hardware's amortized cost per hour
    hourly_price numeric(14, 6) not null check (hourly_price >= 0),
    -- on-prem only: electricity, per kWh drawn by the GPU
    energy_price_per_kwh numeric(14, 6) check (energy_price_per_kwh >= 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    effective_from timestamptz not null,
    -- null: until further notice
    effective_to timestamptz check (effective_to > effective_from),
    -- rows shipped as a starting point, to be edited: shown as examples until then
    is_example boolean not null default false,
    note text not null default '',
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    check ((pricing_kind = 'on_prem') = (energy_price_per_kwh is not null)),
    -- one price per GPU model and kind at any moment
    constraint gpu_price_no_overlap exclude using gist (
        gpu_model with =,
        pricing_kind with =,
        tstzrange(effective_from, effective_to) with &&
    )
);

-- How a deployment pays for its GPUs.
alter table deployment add column pricing_kind pricing_kind not null default 'on_demand';

insert into gpu_price (gpu_model, pricing_kind, hourly_price, energy_price_per_kwh, currency, effective_from, is_example, note)
values
    ('NVIDIA H100 80GB HBM3', 'on_demand', 4.00, null, 'USD', '2026-01-01', true, 'replace with your contract price'),
    ('NVIDIA H100 80GB HBM3', 'spot', 2.10, null, 'USD', '2026-01-01', true, 'replace with your contract price'),
    ('NVIDIA H100 80GB HBM3', 'reserved', 2.75, null, 'USD', '2026-01-01', true, 'replace with your contract price'),
    ('NVIDIA H100 80GB HBM3', 'on_prem', 1.45, 0.15, 'USD', '2026-01-01', true, '3-year amortization plus electricity'),
    ('NVIDIA A100-SXM4-80GB', 'on_demand', 2.50, null, 'USD', '2026-01-01', true, 'replace with your contract price'),
    ('NVIDIA A100-SXM4-80GB', 'reserved', 1.70, null, 'USD', '2026-01-01', true, 'replace with your contract price'),
    ('NVIDIA L4', 'on_demand', 0.80, null, 'USD', '2026-01-01', true, 'replace with your contract price'),
    ('NVIDIA L4', 'spot', 0.35, null, 'USD', '2026-01-01', true, 'replace with your contract price');
