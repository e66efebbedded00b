-- Re-allocating a large ledger runs as a job. The new allocation is built beside the one pages read,
-- in batches of ledger rows, and takes its place in one transaction when it is whole; until then
-- every figure comes from the previous allocation. Small ledgers are still re-allocated at once.

create table bill_allocation_next (like bill_allocation including all);

-- One row: the job that builds bill_allocation_next, if one is running.
create table allocation_job (
    singleton boolean primary key default true check (singleton),
    running boolean not null default false,
    -- the last ledger row (bill_import_id, line_number) allocated into bill_allocation_next
    cursor_import uuid not null default '00000000-0000-0000-0000-000000000000',
    cursor_line bigint not null default -1,
    rows_total bigint not null default 0 check (rows_total >= 0),
    rows_done bigint not null default 0 check (rows_done >= 0),
    -- who changed the rules, as the audit log names them
    started_by_label text not null default '',
    started_at timestamptz,
    finished_at timestamptz
);
insert into allocation_job default values;
