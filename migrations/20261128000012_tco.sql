-- Quarterly total cost of ownership: what leads enter beside the measured and billed figures.

-- Engineering time a team spent on its models in a quarter, at the team's rate.
create table tco_engineering (
    team_id uuid not null references team (team_id) on delete cascade,
    quarter text not null check (quarter ~ '^[0-9]{4}-Q[1-4]$'),
    hours numeric(12, 2) not null check (hours >= 0),
    hourly_rate numeric(12, 2) not null check (hourly_rate >= 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    note text not null default '' check (length(note) <= 1000),
    set_by uuid references app_user (user_id) on delete set null,
    set_by_label text not null,
    updated_at timestamptz not null default now(),
    primary key (team_id, quarter)
);

-- The value a model delivered in a quarter, as a lead estimates it: the basis of its ROI.
create table tco_value (
    model_id uuid not null references model (model_id) on delete cascade,
    quarter text not null check (quarter ~ '^[0-9]{4}-Q[1-4]$'),
    amount numeric(16, 2) not null check (amount >= 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    note text not null default '' check (length(note) <= 1000),
    set_by uuid references app_user (user_id) on delete set null,
    set_by_label text not null,
    updated_at timestamptz not null default now(),
    primary key (model_id, quarter)
);
