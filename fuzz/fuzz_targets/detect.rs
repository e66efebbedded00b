#![no_main]

use libfuzzer_sys::fuzz_target;

// Whole files, header included, plain or gzip: the format is told from what arrives.
fuzz_target!(|file: &[u8]| {
    fuzz_bills::read(None, "", file);
});
