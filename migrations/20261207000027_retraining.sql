-- What one point of a model's quality metric is worth a month, as a lead sets it: what retraining
-- advice weighs a decay against (without it, the value delivered on the TCO page stands in).
create table model_point_value (
    model_id uuid primary key references model (model_id) on delete cascade,
    amount numeric(16, 2) not null check (amount > 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    set_by uuid references app_user (user_id) on delete set null,
    set_by_label text not null,
    updated_at timestamptz not null default now()
);
