-- Quality measured end to end for one combination of a pipeline's candidates (one run key per
-- stage, in stage order): it wins over the last stage's own figure for that combination.
create table pipeline_run (
    pipeline_id uuid not null references pipeline (pipeline_id) on delete cascade,
    run_keys text[] not null check (cardinality(run_keys) between 1 and 8),
    metric_value double precision not null,
    created_by_label text not null default '',
    created_at timestamptz not null default now(),
    primary key (pipeline_id, run_keys)
);
