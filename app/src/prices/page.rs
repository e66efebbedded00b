use leptos::prelude::*;
use leptos_meta::Title;

use crate::format::format_effective;

use super::{CreateGpuPrice, DeleteGpuPrice, GpuPrice, PricingKind};
use crate::auth::Role;
use crate::components::{
    action_error, format_money, reset_on_success, ActionButton, Field, FormActions, FormAlert,
    Loaded, PageHeader, RowNote, WithUser,
};

#[component]
pub fn PricesPage() -> impl IntoView {
    view! {
        <Title text="GPU prices · Pareto" />
        <PageHeader
            title="GPU prices"
            lead="What one GPU-hour costs, per GPU model and pricing kind. Telemetry becomes cost through this table."
        />
        <WithUser children=|user| {
            view! {
                <crate::components::SettingsNav user=user.clone() />
                <Prices can_edit=user.can(Role::Admin) />
            }
        } />
    }
}

#[component]
fn Prices(can_edit: bool) -> impl IntoView {
    let create = ServerAction::<CreateGpuPrice>::new();
    let delete = ServerAction::<DeleteGpuPrice>::new();
    let create_error = action_error(create);
    let delete_error = action_error(delete);
    let prices = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| super::list_gpu_prices(),
    );
    let form = reset_on_success(create);
    view! {
        <Show when=move || can_edit>
            <section class="card">
                <h2>"Add a price"</h2>
                <p class="muted">
                    "Use the GPU model exactly as the GPU reports it (nvidia-smi's name). "
                    "To change a price, give the old one an end date by adding the new one from that date."
                </p>
                <ActionForm
                    action=create
                    node_ref=form
                    attr:class="form grid-form"
                    attr:novalidate="true"
                >
                    <FormAlert error=create_error />
                    <Field
                        name="gpu_model"
                        label="GPU model"
                        hint="e.g. NVIDIA H100 80GB HBM3"
                        required=true
                        error=create_error
                    />
                    <div class="field">
                        <label for="pricing_kind">"Pricing kind"</label>
                        <select id="pricing_kind" name="pricing_kind">
                            {PricingKind::ALL
                                .into_iter()
                                .map(|kind| {
                                    view! { <option value=kind.as_str()>{kind.label()}</option> }
                                })
                                .collect_view()}
                        </select>
                    </div>
                    <Field
                        name="hourly_price"
                        label="Price per GPU-hour"
                        hint="For on-prem: the amortized hardware cost."
                        required=true
                        error=create_error
                    />
                    <Field
                        name="energy_price_per_kwh"
                        label="Energy price per kWh"
                        hint="On-prem only."
                        error=create_error
                    />
                    <Field
                        name="currency"
                        label="Currency"
                        hint="ISO 4217, e.g. USD"
                        required=true
                        error=create_error
                    />
                    <Field
                        name="note"
                        label="Note"
                        hint="Where the price comes from, e.g. the contract."
                        error=create_error
                    />
                    <Field
                        name="effective_from"
                        label="Effective from"
                        kind="date"
                        required=true
                        error=create_error
                    />
                    <Field
                        name="effective_to"
                        label="Effective until"
                        kind="date"
                        hint="Empty: until further notice."
                        error=create_error
                    />
                    <FormActions label="Add price" pending=create.pending() />
                </ActionForm>
            </section>
        </Show>
        <section class="card">
            <h2>"Catalog"</h2>
            <FormAlert error=delete_error />
            <Loaded
                resource=prices
                children=move |prices| {
                    if prices.is_empty() {
                        view! {
                            <p class="muted">
                                "No prices yet: GPU-hours stay unpriced until a price covers them."
                            </p>
                        }
                            .into_any()
                    } else {
                        view! { <PriceTable prices=prices can_edit=can_edit delete=delete /> }
                            .into_any()
                    }
                }
            />
        </section>
    }
}

#[component]
fn PriceTable(
    prices: Vec<GpuPrice>,
    can_edit: bool,
    delete: ServerAction<DeleteGpuPrice>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"GPU model"</th>
                        <th scope="col" class="nowrap">
                            "Kind"
                        </th>
                        <th scope="col" class="numeric">
                            "Per GPU-hour"
                        </th>
                        <th scope="col" class="numeric">
                            "Energy per kWh"
                        </th>
                        <th scope="col">"Effective"</th>
                        <th scope="col">"Note"</th>
                    </tr>
                </thead>
                <tbody>
                    {prices
                        .into_iter()
                        .map(|price| {
                            let effective = format_effective(
                                price.effective_from,
                                price.effective_to,
                            );
                            let label = format!(
                                "Delete the {} price of {}",
                                price.pricing_kind,
                                price.gpu_model,
                            );
                            view! {
                                <tr>
                                    <td class="strong">{price.gpu_model.clone()}</td>
                                    <td class="nowrap">{price.pricing_kind.label()}</td>
                                    <td class="numeric">
                                        {format_money(price.hourly_price, &price.currency)}
                                    </td>
                                    <td class="numeric">
                                        {price
                                            .energy_price_per_kwh
                                            .map_or_else(
                                                || "—".to_owned(),
                                                |energy| format_money(energy, &price.currency),
                                            )}
                                    </td>
                                    <td class="nowrap">{effective}</td>
                                    <td>
                                        <RowNote
                                            is_example=price.is_example
                                            note=price.note.clone()
                                        />
                                        {can_edit
                                            .then(|| {
                                                view! {
                                                    <ActionButton
                                                        action=delete
                                                        fields=vec![
                                                            ("gpu_price_id", price.gpu_price_id.to_string()),
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
