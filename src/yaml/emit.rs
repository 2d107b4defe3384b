//! Writing: `serde-saphyr` with its YAML-1.1-safe quoting, so that Helm (a YAML 1.1 reader)
//! reads back exactly the strings written (`"on"`, `"yes"`, `"0755"` stay strings).

use serde_json::Value;

/// Write a value as canonical YAML: block style, 2-space indent, YAML-1.1-safe quoting,
/// one line per scalar. With `quote_strings`, every string is quoted (Helm values).
pub fn emit(value: &Value, quote_strings: bool) -> Result<String, String> {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    options.quote_all = quote_strings;
    serde_saphyr::to_string_with_options(value, options).map_err(|e| e.to_string())
}
