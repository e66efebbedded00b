-- What hosted language models cost per token, effective-dated like the GPU catalog, and what an
-- organization negotiated off each provider's list price. Prices are kept per million tokens, as
-- providers publish them.
create table api_price (
    api_price_id uuid primary key default gen_random_uuid(),
    -- as the provider (or LiteLLM's table) names them: "openai", "gpt-4o"; the provider in lower
    -- case, the model compared without case
    provider text not null check (length(provider) between 1 and 100 and provider = lower(provider)),
    model text not null check (length(model) between 1 and 200),
    input_per_million numeric(16, 6) not null check (input_per_million >= 0),
    output_per_million numeric(16, 6) not null check (output_per_million >= 0),
    -- input tokens read from the provider's prompt cache; null: billed as input
    cached_read_per_million numeric(16, 6) check (cached_read_per_million >= 0),
    -- input tokens written to the prompt cache; null: billed as input
    cache_write_per_million numeric(16, 6) check (cache_write_per_million >= 0),
    -- a request whose input is longer than this pays the prices above for all its tokens
    above_context_tokens integer check (above_context_tokens > 0),
    input_above_per_million numeric(16, 6) check (input_above_per_million >= 0),
    output_above_per_million numeric(16, 6) check (output_above_per_million >= 0),
    -- the share taken off for the provider's batch interface, in percent
    batch_discount_percent numeric(5, 2) check (batch_discount_percent between 0 and 100),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    effective_from timestamptz not null,
    effective_to timestamptz check (effective_to > effective_from),
    is_example boolean not null default false,
    -- where the row came from: typed, or the import that wrote it
    source text not null default 'typed' check (source in ('typed', 'litellm', 'csv')),
    note text not null default '',
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    check ((above_context_tokens is null) = (input_above_per_million is null)
           and (above_context_tokens is null) = (output_above_per_million is null)),
    constraint api_price_no_overlap exclude using gist (
        provider with =,
        lower(model) with =,
        tstzrange(effective_from, effective_to) with &&
    )
);

create index api_price_model_idx on api_price (provider, lower(model));

-- A negotiated discount off every list price of one provider, applied on top of the table.
create table api_provider_discount (
    provider text primary key check (length(provider) between 1 and 100 and provider = lower(provider)),
    discount_percent numeric(5, 2) not null check (discount_percent between 0 and 100),
    note text not null default '',
    updated_by uuid references app_user (user_id) on delete set null,
    updated_at timestamptz not null default now()
);

insert into api_price (provider, model, input_per_million, output_per_million, cached_read_per_million,
                       cache_write_per_million, above_context_tokens, input_above_per_million,
                       output_above_per_million, batch_discount_percent, currency, effective_from,
                       is_example, note)
values
    ('openai', 'gpt-4o', 2.50, 10.00, 1.25, null, null, null, null, 50, 'USD', '2026-01-01', true,
     'list price; replace with yours or import LiteLLM''s table'),
    ('openai', 'gpt-4o-mini', 0.15, 0.60, 0.075, null, null, null, null, 50, 'USD', '2026-01-01', true,
     'list price; replace with yours or import LiteLLM''s table'),
    ('anthropic', 'claude-sonnet-4-5', 3.00, 15.00, 0.30, 3.75, 200000, 6.00, 22.50, 50, 'USD', '2026-01-01', true,
     'list price; replace with yours or import LiteLLM''s table'),
    ('anthropic', 'claude-haiku-4-5', 1.00, 5.00, 0.10, 1.25, null, null, null, 50, 'USD', '2026-01-01', true,
     'list price; replace with yours or import LiteLLM''s table');
