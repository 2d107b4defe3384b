//! Command-line flags of oauth2-proxy v7.15.3 (the version chart oauth2-proxy 10.7.0 ships).
//! Source: github.com/oauth2-proxy/oauth2-proxy, files and commits listed below. Regenerate by
//! reading those files.
//!
//! The flag set is `options.NewLegacyFlagSet()` plus the `configFlagSet` that `main.go` adds to
//! it, read from github.com/oauth2-proxy/oauth2-proxy. No stored copy was the v7.15.3 tag itself;
//! these are the closest versions found:
//!
//! - `main.go` @ 01579e792ea76dc78bb97a63c04da3abafd78a0d (master after v7.15.2: has
//!   `--config-test`): config, alpha-config, convert-config-to-alpha, version, config-test.
//! - `pkg/apis/options/options.go` `NewFlagSet` @ 01579e792ea76dc78bb97a63c04da3abafd78a0d
//!   (proxy, probe, session/redis, signature-key, gcp-healthchecks; has trusted-proxy-ip).
//! - `pkg/apis/options/cookie.go` `cookieFlagSet` @ 01579e792ea76dc78bb97a63c04da3abafd78a0d
//!   (has cookie-csrf-samesite).
//! - `pkg/apis/options/legacy_options.go` @ 5f80ede30794c52d6239ddff9550760227543f61 (upstreams,
//!   headers, server, provider, google); plus `oidc-enabled-signing-alg` from
//!   `pkg/apis/options/legacy_provider.go` @ b23fdfd601e9e478cf66524abcf929564bbfe21f.
//! - logging (`loggingFlagSet`) and templates (`templatesFlagSet`): the upstream form was not
//!   stored at a 7.15-era commit; read from `pkg/apis/options/legacy_logging.go` @
//!   ea4d2224a1ac301d4693a8a5e34f3672e822abf5 and `pkg/apis/options/legacy_page_templates.go` @
//!   3448f5bd9258928d51aa3823056781008228bd23 (same flags, same types).
//! - Cross-checked against `docs/versioned_docs/version-7.15.x/configuration/overview.md` @
//!   7942c5037993dc4f778ff4f1e1196078abc1e6a0, `.../providers/google.md` and
//!   `.../providers/ms_entra_id.md`, and `.../alpha_config.md` @
//!   8681ae6cbcb288473e6ead5b06598f80fc0c974c.
//!
//! pflag also answers `--help`/`-h` (print usage, exit) without registering a flag; it is not
//! listed. `healthcheck` (PR #3336, closed) and `sensitive-logging`, `logging-level`,
//! `logging-format` (unmerged branches) are not in v7.15.3 and are not listed.

/// How oauth2-proxy parses a flag's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    Bool,
    String,
    List,
    Int,
    Duration,
    Float,
}

/// Every flag, sorted by name (binary search relies on it).
pub const FLAGS: &[(&str, FlagKind)] = &[
    ("acr-values", FlagKind::String),
    ("allow-query-semicolons", FlagKind::Bool),
    ("allowed-group", FlagKind::List),
    ("allowed-role", FlagKind::List),
    ("alpha-config", FlagKind::String),
    ("api-route", FlagKind::List),
    // Deprecated by OIDC prompt; still registered.
    ("approval-prompt", FlagKind::String),
    ("auth-logging", FlagKind::Bool),
    ("auth-logging-format", FlagKind::String),
    ("auth-request-response-mode", FlagKind::String),
    ("authenticated-emails-file", FlagKind::String),
    ("azure-graph-group-field", FlagKind::String),
    ("azure-tenant", FlagKind::String),
    ("backend-logout-url", FlagKind::String),
    ("banner", FlagKind::String),
    ("basic-auth-password", FlagKind::String),
    ("bearer-token-login-fallback", FlagKind::Bool),
    ("bitbucket-repository", FlagKind::String),
    ("bitbucket-team", FlagKind::String),
    ("client-id", FlagKind::String),
    ("client-secret", FlagKind::String),
    ("client-secret-file", FlagKind::String),
    ("code-challenge-method", FlagKind::String),
    ("config", FlagKind::String),
    // main.go configFlagSet (added v7.15.0, #3338).
    ("config-test", FlagKind::Bool),
    ("convert-config-to-alpha", FlagKind::Bool),
    ("cookie-csrf-expire", FlagKind::Duration),
    ("cookie-csrf-per-request", FlagKind::Bool),
    ("cookie-csrf-per-request-limit", FlagKind::Int),
    // Added v7.15.0 (#3347).
    ("cookie-csrf-samesite", FlagKind::String),
    ("cookie-domain", FlagKind::List),
    ("cookie-expire", FlagKind::Duration),
    ("cookie-httponly", FlagKind::Bool),
    ("cookie-name", FlagKind::String),
    ("cookie-path", FlagKind::String),
    ("cookie-refresh", FlagKind::Duration),
    ("cookie-samesite", FlagKind::String),
    ("cookie-secret", FlagKind::String),
    ("cookie-secret-file", FlagKind::String),
    ("cookie-secure", FlagKind::Bool),
    ("custom-sign-in-logo", FlagKind::String),
    ("custom-templates-dir", FlagKind::String),
    // legacy_options.go @5f80ede3; 7.15.x docs list it as bool.
    ("disable-keep-alives", FlagKind::Bool),
    ("display-htpasswd-form", FlagKind::Bool),
    ("email-domain", FlagKind::List),
    ("encode-state", FlagKind::Bool),
    ("entra-id-allowed-tenant", FlagKind::List),
    ("entra-id-federated-token-auth", FlagKind::Bool),
    ("errors-to-info-log", FlagKind::Bool),
    ("exclude-logging-path", FlagKind::List),
    ("extra-jwt-issuers", FlagKind::List),
    ("flush-interval", FlagKind::Duration),
    ("footer", FlagKind::String),
    // Deprecated alias of code-challenge-method; still registered.
    ("force-code-challenge-method", FlagKind::String),
    ("force-https", FlagKind::Bool),
    ("force-json-errors", FlagKind::Bool),
    // Deprecated; still registered.
    ("gcp-healthchecks", FlagKind::Bool),
    ("github-org", FlagKind::String),
    ("github-repo", FlagKind::String),
    ("github-team", FlagKind::String),
    ("github-token", FlagKind::String),
    ("github-user", FlagKind::List),
    ("gitlab-group", FlagKind::List),
    ("gitlab-project", FlagKind::List),
    ("google-admin-api-user-scope", FlagKind::String),
    ("google-admin-email", FlagKind::String),
    ("google-group", FlagKind::List),
    ("google-service-account-json", FlagKind::String),
    // pflag String (the 7.15.x docs wrongly say bool).
    ("google-target-principal", FlagKind::String),
    // pflag String, not Bool (docs say bool): any value parses at flag time.
    (
        "google-use-application-default-credentials",
        FlagKind::String,
    ),
    // pflag String, not Bool (docs say bool): any value parses at flag time.
    ("google-use-organization-id", FlagKind::String),
    ("htpasswd-file", FlagKind::String),
    ("htpasswd-user-group", FlagKind::List),
    ("http-address", FlagKind::String),
    ("https-address", FlagKind::String),
    ("insecure-oidc-allow-unverified-email", FlagKind::Bool),
    ("insecure-oidc-skip-issuer-verification", FlagKind::Bool),
    ("insecure-oidc-skip-nonce", FlagKind::Bool),
    ("jwt-key", FlagKind::String),
    ("jwt-key-file", FlagKind::String),
    ("keycloak-group", FlagKind::List),
    ("logging-compress", FlagKind::Bool),
    ("logging-filename", FlagKind::String),
    ("logging-local-time", FlagKind::Bool),
    ("logging-max-age", FlagKind::Int),
    ("logging-max-backups", FlagKind::Int),
    ("logging-max-size", FlagKind::Int),
    ("login-url", FlagKind::String),
    ("metrics-address", FlagKind::String),
    ("metrics-secure-address", FlagKind::String),
    ("metrics-tls-cert-file", FlagKind::String),
    ("metrics-tls-key-file", FlagKind::String),
    ("oidc-audience-claim", FlagKind::List),
    ("oidc-email-claim", FlagKind::String),
    // Added v7.15.0 (#2851); registration read only on the legacy-split
    // branch (legacy_provider.go @b23fdfd6), documented as `string | list` in 7.15.x docs.
    ("oidc-enabled-signing-alg", FlagKind::List),
    ("oidc-extra-audience", FlagKind::List),
    ("oidc-groups-claim", FlagKind::String),
    ("oidc-issuer-url", FlagKind::String),
    ("oidc-jwks-url", FlagKind::String),
    ("oidc-public-key-file", FlagKind::List),
    ("pass-access-token", FlagKind::Bool),
    ("pass-authorization-header", FlagKind::Bool),
    ("pass-basic-auth", FlagKind::Bool),
    ("pass-host-header", FlagKind::Bool),
    ("pass-user-headers", FlagKind::Bool),
    ("ping-path", FlagKind::String),
    ("ping-user-agent", FlagKind::String),
    ("prefer-email-to-user", FlagKind::Bool),
    ("profile-url", FlagKind::String),
    ("prompt", FlagKind::String),
    ("provider", FlagKind::String),
    ("provider-ca-file", FlagKind::List),
    ("provider-display-name", FlagKind::String),
    ("proxy-prefix", FlagKind::String),
    ("proxy-websockets", FlagKind::Bool),
    ("pubjwk-url", FlagKind::String),
    ("ready-path", FlagKind::String),
    ("real-client-ip-header", FlagKind::String),
    ("redeem-url", FlagKind::String),
    ("redirect-url", FlagKind::String),
    ("redis-ca-path", FlagKind::String),
    ("redis-cluster-connection-urls", FlagKind::List),
    ("redis-connection-idle-timeout", FlagKind::Int),
    ("redis-connection-url", FlagKind::String),
    ("redis-insecure-skip-tls-verify", FlagKind::Bool),
    ("redis-password", FlagKind::String),
    ("redis-sentinel-connection-urls", FlagKind::List),
    ("redis-sentinel-master-name", FlagKind::String),
    ("redis-sentinel-password", FlagKind::String),
    ("redis-use-cluster", FlagKind::Bool),
    ("redis-use-sentinel", FlagKind::Bool),
    // Registered in options.go @01579e79 but absent from the 7.15.x docs table.
    ("redis-username", FlagKind::String),
    ("relative-redirect-url", FlagKind::Bool),
    ("request-id-header", FlagKind::String),
    ("request-logging", FlagKind::Bool),
    ("request-logging-format", FlagKind::String),
    ("resource", FlagKind::String),
    ("reverse-proxy", FlagKind::Bool),
    ("scope", FlagKind::String),
    ("session-cookie-minimal", FlagKind::Bool),
    ("session-store-type", FlagKind::String),
    ("set-authorization-header", FlagKind::Bool),
    ("set-basic-auth", FlagKind::Bool),
    ("set-xauthrequest", FlagKind::Bool),
    ("show-debug-on-error", FlagKind::Bool),
    ("signature-key", FlagKind::String),
    ("silence-ping-logging", FlagKind::Bool),
    ("skip-auth-preflight", FlagKind::Bool),
    // Deprecated for skip-auth-route; still registered.
    ("skip-auth-regex", FlagKind::List),
    ("skip-auth-route", FlagKind::List),
    ("skip-auth-strip-headers", FlagKind::Bool),
    ("skip-claims-from-profile-url", FlagKind::Bool),
    ("skip-jwt-bearer-tokens", FlagKind::Bool),
    ("skip-oidc-discovery", FlagKind::Bool),
    ("skip-provider-button", FlagKind::Bool),
    ("ssl-insecure-skip-verify", FlagKind::Bool),
    ("ssl-upstream-insecure-skip-verify", FlagKind::Bool),
    ("standard-logging", FlagKind::Bool),
    ("standard-logging-format", FlagKind::String),
    ("tls-cert-file", FlagKind::String),
    ("tls-cipher-suite", FlagKind::List),
    ("tls-key-file", FlagKind::String),
    ("tls-min-version", FlagKind::String),
    ("trusted-ip", FlagKind::List),
    // Added v7.15.2 (GHSA-7x63-xv5r-3p2x); StringSlice in options.go @01579e79.
    ("trusted-proxy-ip", FlagKind::List),
    ("upstream", FlagKind::List),
    ("upstream-timeout", FlagKind::Duration),
    ("use-system-trust-store", FlagKind::Bool),
    // Deprecated for oidc-email-claim; still registered.
    ("user-id-claim", FlagKind::String),
    ("validate-url", FlagKind::String),
    ("version", FlagKind::Bool),
    ("whitelist-domain", FlagKind::List),
];

/// Look a flag up by name (without the leading `--`).
pub fn lookup(name: &str) -> Option<FlagKind> {
    FLAGS
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .map(|i| FLAGS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_strictly_sorted() {
        for pair in FLAGS.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "{:?} must sort before {:?}",
                pair[0].0,
                pair[1].0
            );
        }
    }

    #[test]
    fn names_have_no_dashes_prefix_or_spaces() {
        for (name, _) in FLAGS {
            assert!(!name.starts_with('-'), "{name}");
            assert!(!name.contains(' '), "{name}");
            assert!(!name.contains('_'), "{name}");
        }
    }

    #[test]
    fn spot_checks() {
        assert_eq!(lookup("skip-jwt-bearer-tokens"), Some(FlagKind::Bool));
        assert_eq!(lookup("oidc-extra-audience"), Some(FlagKind::List));
        assert_eq!(lookup("cookie-expire"), Some(FlagKind::Duration));
        assert_eq!(lookup("upstream"), Some(FlagKind::List));
        assert_eq!(lookup("whitelist-domain"), Some(FlagKind::List));
        assert_eq!(lookup("cookie-csrf-per-request-limit"), Some(FlagKind::Int));
        assert_eq!(lookup("config"), Some(FlagKind::String));
        assert_eq!(lookup("config-test"), Some(FlagKind::Bool));
        assert_eq!(lookup("trusted-proxy-ip"), Some(FlagKind::List));
        assert_eq!(lookup("approval-prompt"), Some(FlagKind::String));
        assert_eq!(lookup("acr-values"), Some(FlagKind::String));
        assert_eq!(lookup("version"), Some(FlagKind::Bool));
    }

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(lookup("cookie_secret"), None);
        assert_eq!(lookup("--upstream"), None);
        assert_eq!(lookup("upstreams"), None);
        assert_eq!(lookup("healthcheck"), None);
        assert_eq!(lookup(""), None);
    }

    #[test]
    fn flag_count() {
        assert_eq!(FLAGS.len(), 172);
    }
}
