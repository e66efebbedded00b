-- People, teams, sessions, API tokens and the audit log.

create type user_role as enum ('viewer', 'member', 'lead', 'admin');

create table app_user (
    user_id uuid primary key default gen_random_uuid(),
    -- stored lower-cased; the unique index below makes sign-in case-insensitive
    email text not null check (email = lower(email) and length(email) between 3 and 254),
    display_name text not null check (length(display_name) between 1 and 100),
    -- PHC string (argon2id, m=19456, t=2, p=1)
    password_hash text not null,
    role user_role not null default 'viewer',
    -- a disabled user keeps their history but cannot sign in; their sessions are deleted
    disabled_at timestamptz,
    password_changed_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index app_user_email_key on app_user (email);

create table team (
    team_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 80),
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index team_name_key on team (lower(name));

create table team_member (
    team_id uuid not null references team (team_id) on delete cascade,
    user_id uuid not null references app_user (user_id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (team_id, user_id)
);
create index team_member_user_idx on team_member (user_id);

create table session (
    -- SHA-256 of the 256-bit random id held in the cookie; the id itself is never stored
    session_hash bytea primary key,
    user_id uuid not null references app_user (user_id) on delete cascade,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    -- absolute expiry; idle expiry is last_seen_at + the configured idle timeout
    expires_at timestamptz not null,
    user_agent text not null default '',
    client_address text not null default ''
);
create index session_user_idx on session (user_id);
create index session_expires_idx on session (expires_at);

create table api_token (
    api_token_id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 80),
    -- SHA-256 of the token; the token is shown once at creation and never stored
    token_hash bytea not null unique,
    -- the first characters of the token, shown in lists so a leaked token can be recognised
    token_prefix text not null,
    scopes text[] not null check (cardinality(scopes) > 0 and scopes <@ array['ingest', 'write', 'read']),
    team_id uuid references team (team_id) on delete set null,
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    revoked_by uuid references app_user (user_id) on delete set null
);
-- a name identifies one live token; a revoked token's name can be reused
create unique index api_token_live_name_key on api_token (lower(name)) where revoked_at is null;

create table audit_log (
    audit_log_id bigint generated always as identity primary key,
    -- null when the change came from the command line or the system itself
    actor_user_id uuid references app_user (user_id) on delete set null,
    -- who acted, as shown to people: an email, "command line" or "system"
    actor_label text not null,
    action text not null,
    entity_type text not null,
    entity_id text not null,
    -- what changed, for people to read; never secrets
    detail jsonb not null default '{}',
    created_at timestamptz not null default now()
);
create index audit_log_created_idx on audit_log (created_at desc);
create index audit_log_entity_idx on audit_log (entity_type, entity_id);

-- Failed sign-ins, for throttling by account and by client address.
create table login_failure (
    login_failure_id bigint generated always as identity primary key,
    email text not null,
    client_address text not null,
    created_at timestamptz not null default now()
);
create index login_failure_email_idx on login_failure (email, created_at);
create index login_failure_address_idx on login_failure (client_address, created_at);
