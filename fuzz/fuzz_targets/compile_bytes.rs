//! Arbitrary bytes → `source_from_bytes` → `compile` (load, check, plan, render with the
//! built-in templates) → render the diagnostics. Must not panic; a spec must never make a
//! template fail or its output break the output schemas (`template-error`, `output-schema`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kexpose_fuzz::compile_and_check(data);
});
