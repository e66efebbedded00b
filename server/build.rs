//! The binary embeds the migrations (`sqlx::migrate!` in src/db.rs): a new or changed migration
//! rebuilds it, as sqlx's documentation asks of a build script.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
