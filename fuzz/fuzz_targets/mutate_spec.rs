//! Structure-aware: a valid spec from the fixtures, changed by a few mutations chosen from
//! the input (drop, duplicate or replace fields and list entries, swap scalar types, add or
//! rename keys), written as YAML or JSON, then compiled. Same oracles as `compile_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(text) = kexpose_fuzz::mutated_spec(&mut u) {
        kexpose_fuzz::compile_and_check(text.as_bytes());
    }
});
