//! The browser's entry point: hydrate the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = leptos::prelude::document().body() else {
        return;
    };
    // What `leptos::mount::hydrate_lazy` does, and then marks the page as interactive: the page's
    // part of the bundle (a lazy route) arrives first, so hydration ends after this function.
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // For people's tools and for the browser tests.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
