-- The p95 a lead holds a deployment to, in milliseconds: the advice sizes its GPUs to keep it.
-- Without one, the SLA of the experiment that evaluated its version is used.
alter table deployment add column p95_target_ms double precision
    check (p95_target_ms > 0 and p95_target_ms <= 600000);
