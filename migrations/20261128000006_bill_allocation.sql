-- Allocation rules map ledger rows to teams, models and deployments. The first rule that matches a
-- row (by position) takes it; a row no rule matches is unallocated. A rule with several targets
-- splits each row equally or in proportion to the targets' GPU-hours in the row's charge period.

create table allocation_rule (
    allocation_rule_id uuid primary key default gen_random_uuid(),
    position integer not null check (position >= 1),
    name text not null check (length(name) between 1 and 120),
    match_kind text not null check (match_kind in ('tag', 'resource', 'account', 'service')),
    -- the tag key, for tag rules
    match_key text check ((match_kind = 'tag') = (match_key is not null)),
    -- as people wrote it: exact text, or a pattern with * and ?
    match_pattern text not null check (length(match_pattern) between 1 and 300),
    -- the same pattern for SQL LIKE
    like_pattern text not null,
    split text not null check (split in ('equal', 'gpu_hours')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- checked at commit, so that two rules can swap places in one statement
    constraint allocation_rule_position_key unique (position) deferrable initially deferred
);

create table allocation_target (
    allocation_rule_id uuid not null references allocation_rule (allocation_rule_id) on delete cascade,
    position integer not null,
    team_id uuid references team (team_id) on delete cascade,
    model_id uuid references model (model_id) on delete cascade,
    deployment_id uuid references deployment (deployment_id) on delete cascade,
    check (team_id is not null or model_id is not null or deployment_id is not null),
    primary key (allocation_rule_id, position)
);

-- The current allocation of every current ledger row a rule takes: one row per target with its
-- share (the shares of a ledger row sum to 1). A row no rule takes has none: it is unallocated.
-- Rebuilt whole when rules change, and for an import's rows in the import's transaction.
create table bill_allocation (
    -- No foreign keys: this is derived data, written by the million in one statement, and the
    -- rules' targets above hold the references (a check per row would double the time).
    bill_import_id uuid not null,
    line_number bigint not null,
    allocation_rule_id uuid not null,
    team_id uuid,
    model_id uuid,
    deployment_id uuid,
    share numeric not null check (share >= 0 and share <= 1)
);
create index bill_allocation_line_idx on bill_allocation (bill_import_id, line_number);
