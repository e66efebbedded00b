-- GPUs shared by several deployments: a MIG slice (its own device to the agent, named
-- MIG-<card's UUID>/<GPU instance id>) or a time-sliced share of a card. A sample says which share
-- of its card it stands for (1 for a whole card); its GPU-seconds are its interval times that
-- share, so a slice is priced at its part of the card and the slices of one card add up to it.
alter table telemetry_sample
    add column gpu_share double precision check (gpu_share > 0 and gpu_share <= 1);

-- What the fleet page shows of a slice: the card it is cut from and its profile ("3g.40gb").
alter table gpu_device
    add column parent_gpu_uuid text,
    add column mig_profile text,
    add column gpu_share double precision not null default 1 check (gpu_share > 0 and gpu_share <= 1);
