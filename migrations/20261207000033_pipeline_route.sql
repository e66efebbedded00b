-- A pipeline's hybrid route in use: a share of requests sent to a heavier candidate of one stage
-- (both named by run key), the rest to a lighter one; all four set or none.
alter table pipeline
    add column route_stage smallint check (route_stage between 1 and 8),
    add column route_light text check (length(route_light) between 1 and 200),
    add column route_heavy text check (length(route_heavy) between 1 and 200),
    add column route_share double precision check (route_share >= 0 and route_share <= 1),
    add constraint pipeline_route_whole check (
        (route_stage is null) = (route_light is null)
        and (route_stage is null) = (route_heavy is null)
        and (route_stage is null) = (route_share is null)
    );
