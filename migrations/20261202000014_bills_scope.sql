-- Bill imports are finance's: their own token scope, apart from `write`, which training
-- pipelines hold.
alter table api_token drop constraint api_token_scopes_check;
alter table api_token add constraint api_token_scopes_check
    check (cardinality(scopes) > 0 and scopes <@ array['ingest', 'write', 'read', 'bills']);
