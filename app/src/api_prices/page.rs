use leptos::prelude::*;
use leptos_meta::Title;

use crate::format::format_effective;
use rust_decimal::Decimal;

use super::{
    ApiPrice, ApiPriceTable, CreateApiPrice, DeleteApiPrice, DeleteProviderDiscount,
    ImportApiPrices, ProviderDiscount, SetProviderDiscount,
};
use crate::auth::Role;
use crate::components::{
    action_error, read_chosen_file, reset_on_success, successes, ActionButton, Choice, Field,
    FormActions, FormAlert, ImportAnswer, Loaded, PageHeader, RowNote, SettingsNav, WithUser,
};
use crate::format::{format_count, format_short_count, format_unit_amount};

#[component]
pub fn ApiPricesPage() -> impl IntoView {
    view! {
        <Title text="API prices · Pareto" />
        <PageHeader
            title="API prices"
            lead="What hosted language models cost per million tokens, over time. Experiment runs priced per token can name a model from this table instead of typing its prices."
        />
        <WithUser children=|user| {
            view! {
                <SettingsNav user=user.clone() />
                <ApiPrices can_edit=user.can(Role::Admin) />
            }
        } />
    }
}

#[component]
fn ApiPrices(can_edit: bool) -> impl IntoView {
    let create = ServerAction::<CreateApiPrice>::new();
    let delete = ServerAction::<DeleteApiPrice>::new();
    let import = ServerAction::<ImportApiPrices>::new();
    let discount = ServerAction::<SetProviderDiscount>::new();
    let remove_discount = ServerAction::<DeleteProviderDiscount>::new();
    let provider = RwSignal::new(String::new());
    let changed = (
        successes(create),
        successes(delete),
        successes(import),
        successes(discount),
        successes(remove_discount),
    );
    let table = Resource::new(
        move || {
            (
                provider.get(),
                changed.0.get(),
                changed.1.get(),
                changed.2.get(),
                changed.3.get(),
                changed.4.get(),
            )
        },
        |(provider, ..)| super::list_api_prices(provider),
    );
    let delete_error = action_error(delete);
    view! {
        <Show when=move || can_edit>
            <ImportForm action=import />
            <AddForm action=create />
        </Show>
        <Loaded
            resource=table
            children=move |table: ApiPriceTable| {
                view! {
                    <Discounts
                        discounts=table.discounts.clone()
                        can_edit=can_edit
                        set=discount
                        remove=remove_discount
                    />
                    <section class="card" aria-labelledby="api-table-title">
                        <div class="card-head">
                            <h2 id="api-table-title">"Price table"</h2>
                            <Choice
                                id="provider-filter"
                                label="Provider"
                                options=std::iter::once(("".to_owned(), "All providers".to_owned()))
                                    .chain(
                                        table
                                            .providers
                                            .iter()
                                            .map(|(p, n)| (
                                                p.clone(),
                                                format!("{p} ({})", format_count(*n)),
                                            )),
                                    )
                                    .collect()
                                value=provider.get_untracked()
                                set=move |value| provider.set(value)
                            />
                        </div>
                        <FormAlert error=delete_error />
                        {if table.prices.is_empty() {
                            view! {
                                <p class="muted">
                                    "No hosted model is priced yet: add one, or import LiteLLM's table."
                                </p>
                            }
                                .into_any()
                        } else {
                            view! {
                                <PriceTable prices=table.prices can_edit=can_edit delete=delete />
                            }
                                .into_any()
                        }}
                        {table
                            .truncated
                            .then(|| {
                                view! {
                                    <p class="muted small">
                                        {format!(
                                            "The first {} rows are shown; choose a provider to see all of its rows.",
                                            super::ROWS_SHOWN,
                                        )}
                                    </p>
                                }
                            })}
                    </section>
                }
            }
        />
    }
}

#[component]
fn ImportForm(action: ServerAction<ImportApiPrices>) -> impl IntoView {
    let content = RwSignal::new(String::new());
    let error = action_error(action);
    let done = Signal::derive(move || {
        action.value().get().and_then(Result::ok).map(|o| {
            format!(
                "Imported: {} added, {} changed (their old prices now end where the new ones start), {} unchanged, {} entries skipped.",
                o.added, o.changed, o.unchanged, o.skipped
            )
        })
    });
    view! {
        <section class="card" aria-labelledby="import-title">
            <h2 id="import-title">"Import prices"</h2>
            <p class="muted small">
                "LiteLLM's " <code>"model_prices_and_context_window.json"</code>
                " (prices per token in USD; entries priced per image or second are skipped), or a CSV with the columns "
                <code>{super::CSV_COLUMNS.join(", ")}</code>
                " (prices per million tokens). A model whose price changed gets a new row from the date below; the old row ends there. If any entry is wrong, nothing is imported."
            </p>
            <ActionForm action=action attr:class="form grid-form" attr:novalidate="true">
                <div class="field">
                    <label for="import-format">"Format"</label>
                    <select id="import-format" name="format">
                        <option value="litellm">"LiteLLM JSON"</option>
                        <option value="csv">"CSV"</option>
                    </select>
                </div>
                <Field
                    name="effective_from"
                    label="In force from"
                    kind="date"
                    required=true
                    error=error
                />
                <Field
                    name="providers"
                    label="Providers"
                    hint="LiteLLM only; comma separated, e.g. openai, anthropic. Empty: all."
                    error=error
                />
                <div class="field">
                    <label for="import-file">"File"</label>
                    <input
                        id="import-file"
                        type="file"
                        accept=".json,.csv,application/json,text/csv"
                        on:change=move |ev| read_chosen_file(ev, content)
                    />
                    <input type="hidden" name="content" prop:value=move || content.get() />
                </div>
                <ImportAnswer
                    error=error
                    refused="Nothing was imported. Fix these and import again:"
                    name_fields=true
                    done=done
                />
                <FormActions label="Import" pending=action.pending() />
            </ActionForm>
        </section>
    }
}

#[component]
fn AddForm(action: ServerAction<CreateApiPrice>) -> impl IntoView {
    let error = action_error(action);
    let form = reset_on_success(action);
    view! {
        <section class="card">
            <details class="inline-details">
                <summary>"Add a price by hand"</summary>
                <p class="muted">
                    "Prices per million tokens. To change a price, add the new one from the day it starts after giving the old one an end date."
                </p>
                <ActionForm
                    action=action
                    node_ref=form
                    attr:class="form grid-form"
                    attr:novalidate="true"
                >
                    <FormAlert error=error />
                    <Field
                        name="provider"
                        label="Provider"
                        hint="e.g. openai"
                        required=true
                        error=error
                    />
                    <Field
                        name="model"
                        label="Model"
                        hint="e.g. gpt-4o"
                        required=true
                        error=error
                    />
                    <Field
                        name="input_per_1m"
                        label="Input per 1M tokens"
                        required=true
                        error=error
                    />
                    <Field
                        name="output_per_1m"
                        label="Output per 1M tokens"
                        required=true
                        error=error
                    />
                    <Field
                        name="cached_read_per_1m"
                        label="Cache read per 1M"
                        hint="Empty: billed as input."
                        error=error
                    />
                    <Field
                        name="cache_write_per_1m"
                        label="Cache write per 1M"
                        hint="Empty: billed as input."
                        error=error
                    />
                    <Field
                        name="above_context_tokens"
                        label="Long context above (tokens)"
                        hint="e.g. 200000; empty: one price."
                        error=error
                    />
                    <Field
                        name="input_above_per_1m"
                        label="Long-context input per 1M"
                        error=error
                    />
                    <Field
                        name="output_above_per_1m"
                        label="Long-context output per 1M"
                        error=error
                    />
                    <Field
                        name="batch_discount_percent"
                        label="Batch discount (%)"
                        hint="e.g. 50"
                        error=error
                    />
                    <Field
                        name="currency"
                        label="Currency"
                        hint="e.g. USD"
                        required=true
                        error=error
                    />
                    <Field
                        name="note"
                        label="Note"
                        hint="Where the price comes from."
                        error=error
                    />
                    <Field
                        name="effective_from"
                        label="Effective from"
                        kind="date"
                        required=true
                        error=error
                    />
                    <Field
                        name="effective_to"
                        label="Effective until"
                        kind="date"
                        hint="Empty: until further notice."
                        error=error
                    />
                    <FormActions label="Add price" pending=action.pending() />
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn Discounts(
    discounts: Vec<ProviderDiscount>,
    can_edit: bool,
    set: ServerAction<SetProviderDiscount>,
    remove: ServerAction<DeleteProviderDiscount>,
) -> impl IntoView {
    let error = action_error(set);
    let form = reset_on_success(set);
    let empty = discounts.is_empty();
    view! {
        <section class="card" aria-labelledby="discounts-title">
            <h2 id="discounts-title">"Negotiated discounts"</h2>
            <p class="muted small">
                "Taken off every list price of a provider, after its batch discount, wherever the table prices a run."
            </p>
            {if empty {
                view! { <p class="muted">"No negotiated discounts: list prices apply."</p> }
                    .into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Provider"</th>
                                    <th scope="col" class="numeric">
                                        "Discount"
                                    </th>
                                    <th scope="col">"Note"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {discounts
                                    .into_iter()
                                    .map(|d| {
                                        let label = format!(
                                            "Remove the discount on {}",
                                            d.provider,
                                        );
                                        view! {
                                            <tr>
                                                <td class="strong">{d.provider.clone()}</td>
                                                <td class="numeric">
                                                    {format!("{}%", d.discount_percent.normalize())}
                                                </td>
                                                <td>
                                                    <span class="muted small">{d.note.clone()}</span>
                                                    {can_edit
                                                        .then(|| {
                                                            view! {
                                                                " "
                                                                <ActionButton
                                                                    action=remove
                                                                    fields=vec![("provider", d.provider.clone())]
                                                                    text="Remove"
                                                                    label=label
                                                                />
                                                            }
                                                        })}
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
            {can_edit
                .then(|| {
                    view! {
                        <ActionForm
                            action=set
                            node_ref=form
                            attr:class="form inline-fields"
                            attr:novalidate="true"
                        >
                            <FormAlert error=error />
                            <Field
                                name="provider"
                                id_prefix="discount-"
                                label="Provider"
                                required=true
                                error=error
                            />
                            <Field
                                name="discount_percent"
                                id_prefix="discount-"
                                label="Discount (%)"
                                required=true
                                error=error
                            />
                            <Field name="note" id_prefix="discount-" label="Note" error=error />
                            <FormActions label="Set discount" pending=set.pending() />
                        </ActionForm>
                    }
                })}
        </section>
    }
}

fn per_million(amount: Option<Decimal>) -> String {
    amount.map_or_else(|| "—".to_owned(), format_unit_amount)
}

#[component]
fn PriceTable(
    prices: Vec<ApiPrice>,
    can_edit: bool,
    delete: ServerAction<DeleteApiPrice>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Prices per million tokens"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Provider"</th>
                        <th scope="col">"Model"</th>
                        <th scope="col">"Currency"</th>
                        <th scope="col" class="numeric">
                            "Input / 1M"
                        </th>
                        <th scope="col" class="numeric">
                            "Output / 1M"
                        </th>
                        <th scope="col" class="numeric">
                            "Cache read / write"
                        </th>
                        <th scope="col">"Long context in / out"</th>
                        <th scope="col" class="numeric">
                            "Batch"
                        </th>
                        <th scope="col">"Effective"</th>
                        <th scope="col">"Note"</th>
                    </tr>
                </thead>
                <tbody>
                    {prices
                        .into_iter()
                        .map(|price| {
                            let row = price.row;
                            let currency = row.currency.clone();
                            let effective = format_effective(
                                price.effective_from,
                                price.effective_to,
                            );
                            let long = row
                                .above
                                .as_ref()
                                .map_or_else(
                                    || "—".to_owned(),
                                    |a| {
                                        format!(
                                            "> {}: {} / {}",
                                            format_short_count(i64::from(a.tokens)),
                                            format_unit_amount(a.input_per_million),
                                            format_unit_amount(a.output_per_million),
                                        )
                                    },
                                );
                            let cache = format!(
                                "{} / {}",
                                per_million(row.cached_read_per_million),
                                per_million(row.cache_write_per_million),
                            );
                            let label = format!(
                                "Delete the price of {} {}",
                                row.provider,
                                row.model,
                            );

                            view! {
                                <tr>
                                    <td>{row.provider.clone()}</td>
                                    <td class="strong nowrap">{row.model.clone()}</td>
                                    <td>{currency}</td>
                                    <td class="numeric">
                                        {format_unit_amount(row.input_per_million)}
                                    </td>
                                    <td class="numeric">
                                        {format_unit_amount(row.output_per_million)}
                                    </td>
                                    <td class="numeric nowrap">{cache}</td>
                                    <td class="nowrap">{long}</td>
                                    <td class="numeric">
                                        {row
                                            .batch_discount_percent
                                            .map_or_else(
                                                || "—".to_owned(),
                                                |p| format!("−{}%", p.normalize()),
                                            )}
                                    </td>
                                    <td class="nowrap">{effective}</td>
                                    <td>
                                        <RowNote
                                            is_example=price.is_example
                                            note=row.note.clone()
                                            tag=(price.source != "typed").then(|| price.source.clone())
                                        />
                                        {can_edit
                                            .then(|| {
                                                view! {
                                                    <ActionButton
                                                        action=delete
                                                        fields=vec![
                                                            ("api_price_id", price.api_price_id.to_string()),
                                                        ]
                                                        text="Delete"
                                                        label=label
                                                    />
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
