-- A sum of counts (requests, tokens) as bigint, held at bigint's largest value instead of failing
-- the whole query (a null sum stays null): one agent's absurd figure must not take down every page
-- that adds it up.
create function saturated_count(total numeric) returns bigint
    language sql immutable strict parallel safe
    return least(total, 9223372036854775807)::bigint;
