-- Which state of its runs an experiment is in. Every change to its runs moves it, and so does a
-- new name for a model or version one of its runs is linked to (the page shows that name), so a
-- server may keep an experiment's runs parsed and tell from this one number whether they are
-- still what the database holds. Triggers move it, whichever code path changes the runs.
alter table experiment add column runs_version bigint not null default 0;

create function experiment_runs_changed() returns trigger language plpgsql as $$
begin
    update experiment set runs_version = runs_version + 1
     where experiment_id in (select distinct experiment_id from changed_runs);
    return null;
end $$;

create trigger experiment_run_inserted after insert on experiment_run
    referencing new table as changed_runs
    for each statement execute function experiment_runs_changed();
create trigger experiment_run_updated after update on experiment_run
    referencing new table as changed_runs
    for each statement execute function experiment_runs_changed();
create trigger experiment_run_deleted after delete on experiment_run
    referencing old table as changed_runs
    for each statement execute function experiment_runs_changed();

create function experiment_run_model_renamed() returns trigger language plpgsql as $$
begin
    update experiment e set runs_version = runs_version + 1
     where exists (select from experiment_run r join model_version v using (model_version_id)
                    where r.experiment_id = e.experiment_id and v.model_id = new.model_id);
    return null;
end $$;

create function experiment_run_version_renamed() returns trigger language plpgsql as $$
begin
    update experiment e set runs_version = runs_version + 1
     where exists (select from experiment_run r
                    where r.experiment_id = e.experiment_id
                      and r.model_version_id = new.model_version_id);
    return null;
end $$;

create trigger model_renamed after update of name on model
    for each row when (old.name is distinct from new.name)
    execute function experiment_run_model_renamed();
create trigger model_version_renamed after update of version on model_version
    for each row when (old.version is distinct from new.version)
    execute function experiment_run_version_renamed();
