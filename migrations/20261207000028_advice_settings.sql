-- What the advice assumes, as a lead sets it: the busiest a GPU may be kept (the rest is
-- headroom), how long a new replica takes to serve, the least saving worth advising, the work run
-- again after spot interruptions, and the share of real-time serving that may run on spot.
create table advice_setting (
    singleton boolean primary key default true check (singleton),
    max_utilization_pct numeric(5, 2) not null default 80 check (max_utilization_pct between 10 and 100),
    startup_minutes numeric(6, 2) not null default 10 check (startup_minutes between 0 and 60),
    min_saving_pct numeric(5, 2) not null default 5 check (min_saving_pct between 0 and 100),
    spot_rerun_pct numeric(5, 2) not null default 10 check (spot_rerun_pct between 0 and 100),
    spot_share_real_time_pct numeric(5, 2) not null default 50 check (spot_share_real_time_pct between 0 and 100),
    updated_by_label text not null default '',
    updated_at timestamptz not null default now()
);
insert into advice_setting default values;

-- A deployment whose work survives interruptions (it checkpoints, or its callers retry) is priced
-- on spot like a batch job, whatever its experiment says.
alter table deployment add column interruption_tolerant boolean not null default false;
