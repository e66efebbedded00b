#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|rows: &[u8]| {
    fuzz_bills::read(Some(bills::Format::Gcp), fuzz_bills::GCP, rows);
});
