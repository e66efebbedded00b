-- The cloud bill ledger. Append-only: an import is never changed or deleted; a newer export of the
-- same billing account and period supersedes an older one in current figures, and both stay.

create table bill_import (
    bill_import_id uuid primary key,
    -- SHA-256 of the file's text (after decompression): the same file imported twice is one import
    content_hash bytea not null unique check (length(content_hash) = 32),
    file_name text not null check (length(file_name) between 1 and 255),
    format text not null check (format in ('focus', 'aws-cur', 'aws-cur2', 'gcp', 'azure')),
    -- the header row as written, for reading `bill_line.original`
    header json not null,
    row_count bigint not null check (row_count >= 0),
    byte_count bigint not null check (byte_count >= 0),
    imported_by_user_id uuid references app_user (user_id) on delete set null,
    imported_by text not null,
    imported_at timestamptz not null default now()
);

-- Totals per currency, never summed across currencies.
create table bill_import_total (
    bill_import_id uuid not null references bill_import (bill_import_id),
    currency text not null,
    billed_cost numeric not null,
    effective_cost numeric not null,
    row_count bigint not null,
    primary key (bill_import_id, currency)
);

-- The billing accounts and periods an import covers. The newest import of an (account, period)
-- is current; the ones before it point to the import that superseded them.
create table bill_scope (
    bill_import_id uuid not null references bill_import (bill_import_id),
    billing_account_id text not null,
    billing_period_start timestamptz not null,
    row_count bigint not null,
    superseded_by uuid references bill_import (bill_import_id),
    primary key (bill_import_id, billing_account_id, billing_period_start)
);
create unique index bill_scope_current_key on bill_scope (billing_account_id, billing_period_start)
    where superseded_by is null;

-- One charge, FOCUS-shaped. Written by COPY in the import's transaction (so no foreign key
-- trigger per row); the original cells are kept beside the reading of them.
create table bill_line (
    bill_import_id uuid not null,
    line_number bigint not null,
    billing_account_id text not null,
    sub_account_id text,
    billing_period_start timestamptz not null,
    billing_period_end timestamptz not null,
    charge_period_start timestamptz not null,
    charge_period_end timestamptz not null,
    charge_category text not null,
    provider text not null,
    service_name text not null,
    service_category text,
    resource_id text,
    resource_name text,
    region text,
    sku_id text,
    consumed_quantity numeric,
    consumed_unit text,
    billed_cost numeric not null,
    effective_cost numeric not null,
    list_cost numeric,
    currency text not null,
    tags jsonb not null,
    original json not null,
    primary key (bill_import_id, line_number)
);
create index bill_line_charge_brin on bill_line using brin (charge_period_start);

-- The charges every current figure reads: lines of the newest import of their account and period.
create view current_bill_line as
select l.*
  from bill_line l
  join bill_scope s
    on s.bill_import_id = l.bill_import_id
   and s.billing_account_id = l.billing_account_id
   and s.billing_period_start = l.billing_period_start
 where s.superseded_by is null;
