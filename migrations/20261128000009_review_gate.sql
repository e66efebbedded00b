-- The review gate: promoting a version to production when it is Tier 3, or when its projected
-- monthly cost passes a threshold, needs the approval of N leads other than the requester.

create type review_state as enum ('pending', 'approved', 'rejected');

-- One row: the gate's settings, edited by admins.
create table review_setting (
    singleton boolean primary key default true check (singleton),
    monthly_cost_threshold numeric(16, 2) not null default 5000 check (monthly_cost_threshold >= 0),
    currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    approvals_required integer not null default 1 check (approvals_required between 1 and 5),
    updated_at timestamptz not null default now()
);
insert into review_setting default values;

create table promotion_request (
    promotion_request_id uuid primary key default gen_random_uuid(),
    model_version_id uuid not null references model_version (model_version_id) on delete cascade,
    requested_by uuid references app_user (user_id) on delete set null,
    requested_by_label text not null,
    comment text not null default '' check (length(comment) <= 2000),
    -- why the gate stopped it, as computed when it was asked for ("Tier 3", "projected ...")
    reasons text[] not null check (cardinality(reasons) >= 1),
    approvals_required integer not null check (approvals_required >= 1),
    state review_state not null default 'pending',
    created_at timestamptz not null default now(),
    decided_at timestamptz
);
-- at most one open request per version
create unique index promotion_request_pending_key on promotion_request (model_version_id)
    where state = 'pending';
create index promotion_request_state_idx on promotion_request (state, created_at desc);

-- Each lead's decision on a request, with their comment.
create table promotion_review (
    promotion_request_id uuid not null references promotion_request (promotion_request_id) on delete cascade,
    reviewer_id uuid references app_user (user_id) on delete set null,
    reviewer_label text not null,
    approve boolean not null,
    comment text not null default '' check (length(comment) <= 2000),
    created_at timestamptz not null default now(),
    unique (promotion_request_id, reviewer_id)
);
