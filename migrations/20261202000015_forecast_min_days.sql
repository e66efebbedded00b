-- No month-end forecast alert before this many days of the month have passed: one day of spend
-- says little about a month (cloud budget tools wait for history too).
alter table alert_setting
    add column forecast_min_days integer not null default 5 check (forecast_min_days between 0 and 28);
