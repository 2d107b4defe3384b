//! Deterministic names for imported identity providers, and the authorizer guess.

/// A name for an identity provider from its issuer: the first label of the host, then the
/// last path segment when there is one (`https://kc.example.com/realms/shop` → `kc-shop`,
/// `https://my-tenant.accounts.ondemand.com` → `my-tenant`), made a lowercase RFC 1123 label.
pub fn provider_name(issuer: &str) -> String {
    let rest = issuer
        .split_once("://")
        .map_or(issuer, |(_, r)| r)
        .trim_end_matches('/');
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    let first = host.split('.').next().unwrap_or(host);
    let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    let raw = if last.is_empty() {
        first.to_string()
    } else {
        format!("{first}-{last}")
    };
    let label = label(&raw);
    if label.is_empty() {
        "idp".to_string()
    } else {
        label
    }
}

/// Lowercase, every run of other characters one `-`, trimmed, at most 63 characters.
fn label(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut s = out.trim_matches('-').to_string();
    s.truncate(57); // room for a `-NN` suffix
    s.trim_end_matches('-').to_string()
}

/// `base`, or `base-2`, `base-3`, … — the first not taken.
pub fn unique(base: &str, taken: &[&str]) -> String {
    if !taken.contains(&base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|c| !taken.contains(&c.as_str()))
        .expect("some suffix is free")
}

/// An Istio CR authorizer that is probably an oauth2-proxy: its name or service says so.
pub fn looks_like_oauth2_proxy(name: &str, service: &str) -> bool {
    name.contains("oauth2-proxy") || service.contains("oauth2-proxy")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_issuers() {
        assert_eq!(
            provider_name("https://my-tenant.accounts.ondemand.com"),
            "my-tenant"
        );
        assert_eq!(
            provider_name("https://kc.example.com/realms/Shop"),
            "kc-shop"
        );
        assert_eq!(provider_name("https://kyma.eu.auth0.com/"), "kyma");
        assert_eq!(provider_name("https://127.0.0.1:8443"), "127");
        assert_eq!(provider_name("https://"), "idp");
        assert_eq!(unique("a", &["a", "a-2"]), "a-3");
    }
}
