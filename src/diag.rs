//! Diagnostics: a stable code, a severity, a location and a message with an optional fix.
//!
//! Every rule kexpose applies has one [`Code`]; the table below is the single list of them
//! (the README's diagnostics table and a snapshot test are generated from it).

use crate::source::{SourceFile, Span};
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; the spec is still rendered (unless `--strict`).
    Warning,
    /// The spec is rejected; nothing is written.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $sev:ident, $desc:literal; )*) => {
        /// The stable code of a rule. Codes never change meaning once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $(#[$doc])* $variant ),* }

        impl Code {
            /// Every code, in the order of the table.
            pub const ALL: &'static [Code] = &[ $( Code::$variant ),* ];

            /// The kebab-case code users see, e.g. `apirule-path-conflict`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code ),* }
            }

            /// The severity unless `--strict` raises warnings to errors.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev ),* }
            }

            /// One line on what the rule checks.
            pub fn description(self) -> &'static str {
                match self { $( Code::$variant => $desc ),* }
            }
        }
    };
}

codes! {
    // ---- input and YAML ----
    InputNotUtf8 = "input-not-utf8", Error, "the spec file is not valid UTF-8";
    InputTooLarge = "input-too-large", Error, "the spec file is larger than the input limit (16 MiB)";
    YamlSyntax = "yaml-syntax", Error, "the file is not valid YAML";
    YamlDuplicateKey = "yaml-duplicate-key", Error, "a mapping has the same key twice";
    YamlAliasBudget = "yaml-alias-budget", Error, "aliases expand to more nodes than the budget allows (alias bomb)";
    YamlTooDeep = "yaml-too-deep", Error, "the YAML nests deeper than the depth limit (64)";
    YamlMultiDocument = "yaml-multi-document", Error, "the file holds more than one YAML document";
    YamlComplexKey = "yaml-complex-key", Error, "a mapping key is itself a mapping or a list";
    YamlMergeKey = "yaml-merge-key", Error, "YAML merge keys (`<<`) are not supported";
    YamlUnsupportedTag = "yaml-unsupported-tag", Error, "a YAML tag other than the core schema's";
    SpecEmpty = "spec-empty", Error, "the spec file has no content";
    // ---- spec shape (JSON Schema) ----
    SchemaUnknownField = "schema-unknown-field", Error, "a field the spec format does not define";
    SchemaType = "schema-type", Error, "a value of the wrong type";
    SchemaMissingField = "schema-missing-field", Error, "a required field is missing";
    SchemaInvalidValue = "schema-invalid-value", Error, "a value outside the allowed set or range";
    // ---- names and references ----
    NameInvalid = "name-invalid", Error, "a name is not a lowercase RFC 1123 label";
    NameDuplicate = "name-duplicate", Error, "two entries of one list share a name";
    WorkloadDuplicate = "workload-duplicate", Error, "two workloads share namespace and name (one APIRule would overwrite the other)";
    RefUnknownIdentityProvider = "ref-unknown-identity-provider", Error, "a reference to an identity provider the spec does not define";
    RefUnknownAuthorizer = "ref-unknown-authorizer", Error, "a reference to an authorizer the spec does not define";
    RefAmbiguousIdentityProvider = "ref-ambiguous-identity-provider", Error, "a jwt rule names no identity provider and the spec has several, or names them twice";
    AuthorizerReservedName = "authorizer-reserved-name", Error, "an authorizer named like one of Kyma's built-in extension providers";
    AuthorizerTypeField = "authorizer-type-field", Error, "a field that the authorizer's type does not use, or a missing one it needs";
    HostShortWithoutDomain = "host-short-without-domain", Error, "a short host but no `cluster.domain` to complete it";
    HostOccupied = "host-occupied", Error, "two workloads expose the same host (the controller rejects the second as occupied)";
    RuleMissingService = "rule-missing-service", Error, "a rule without a service while its workload has none";
    GatewayConflict = "gateway-conflict", Error, "both `gateway` and `externalGateway` are set";
    JwtShorthandWithAuthorizations = "jwt-shorthand-with-authorizations", Error, "`requiredScopes`/`audiences` shorthand together with an `authorizations` list";
    RestrictionsWithoutIdentityProvider = "restrictions-without-identity-provider", Error, "extAuth restrictions but no identity provider to authenticate the token";
    IdentityProviderTokenLocation = "identity-provider-token-location", Error, "more than one `fromHeaders`/`fromParams` entry, or both";
    IdentityProviderIssuerInvalid = "identity-provider-issuer-invalid", Error, "an identity provider issuer that is not an absolute http(s) URL";
    IdentityProviderJwksRequired = "identity-provider-jwks-required", Error, "a jwt or restriction uses a provider with no `jwksUri` that kexpose cannot derive";
    // ---- APIRule (CRD schema and CEL rules) ----
    ApiruleHostInvalid = "apirule-host-invalid", Error, "a host that is not a lowercase label, an FQDN or a `*.` wildcard FQDN";
    ApiruleGatewayInvalid = "apirule-gateway-invalid", Error, "a gateway that is not in `namespace/name` form";
    ApiruleAccessStrategy = "apirule-access-strategy", Error, "a rule without exactly one of `noAuth: true`, `jwt`, `extAuth`";
    ApirulePathInvalid = "apirule-path-invalid", Error, "a path that does not match the APIRule path pattern";
    ApiruleMethodInvalid = "apirule-method-invalid", Error, "an HTTP method APIRule does not accept";
    ApiruleMethodsEmpty = "apirule-methods-empty", Error, "a rule with no methods";
    ApiruleRulesEmpty = "apirule-rules-empty", Error, "a workload with no rules (an APIRule needs at least one)";
    ApiruleCorsInvalid = "apirule-cors-invalid", Error, "a CORS policy value the CRD rejects (e.g. `maxAge` below 1)";
    ApiruleMethodDuplicate = "apirule-method-duplicate", Warning, "a method listed twice in one rule";
    ApiruleTimeoutRange = "apirule-timeout-range", Error, "a timeout outside 1..3900 seconds";
    PortRange = "port-range", Error, "a port outside 1..65535";
    // ---- APIRule (api-gateway controller) ----
    ApirulePathWildcard = "apirule-path-wildcard", Error, "more than one `{**}` in a path, or `{*}` after `{**}`";
    ApirulePathConflict = "apirule-path-conflict", Error, "an earlier rule with the same method already matches every request of this rule";
    ApiruleEmptyValue = "apirule-empty-value", Error, "an empty scope or audience, or an empty list of them";
    ApiruleCorsWithoutOptions = "apirule-cors-without-options", Warning, "CORS is configured but a rule does not allow OPTIONS (preflight requests fail)";
    ApiruleMethodShadowed = "apirule-method-shadowed", Warning, "an earlier rule's path is excluded from this rule's policies for all its methods, so requests with a method the earlier rule lacks get 403";
    SelectorInvalid = "selector-invalid", Error, "a pod selector that is empty or has a key or value Kubernetes refuses as a label";
    IngressPrincipalInvalid = "ingress-principal-invalid", Error, "an ingress gateway principal not of the form `<trust domain>/ns/<namespace>/sa/<service account>`";
    WorkloadSelectorMissing = "workload-selector-missing", Error, "a workload (or a rule's own service) without `selector` where policies must select its pods (`--target istio`, `allowInClusterCallers`)";
    AllowInClusterCallers = "allow-in-cluster-callers", Warning, "`allowInClusterCallers` admits every caller but the ingress gateway on every path, without token or authorizer";
    // ---- oauth2-proxy ----
    Oauth2ProxyIssuerInvalid = "oauth2-proxy-issuer-invalid", Error, "an issuer oauth2-proxy would reject: not https, or with a trailing slash, path, query or fragment";
    Oauth2ProxyUnknownFlag = "oauth2-proxy-unknown-flag", Error, "an `extraArgs` key that is not an oauth2-proxy 7.15.3 flag (the process exits)";
    Oauth2ProxyOwnedFlag = "oauth2-proxy-owned-flag", Error, "an `extraArgs` flag that the chart or the credentials Secret sets";
    Oauth2ProxyFlagValue = "oauth2-proxy-flag-value", Error, "an integer or duration flag with a value oauth2-proxy cannot parse (the process exits)";
    Oauth2ProxyAudienceMismatch = "oauth2-proxy-audience-mismatch", Warning, "a restriction requires an audience that the oauth2-proxy authorizer (with `clientId` set) does not accept: 401";
    Oauth2ProxyBoolFlag = "oauth2-proxy-bool-flag", Error, "a boolean flag with a value other than \"true\" or \"false\"";
    Oauth2ProxyUnsafeValue = "oauth2-proxy-unsafe-value", Error, "an `extraArgs` value with `{{` (the chart runs values through tpl) or a line break";
    Oauth2ProxyUpstream = "oauth2-proxy-upstream", Error, "`upstream` other than static://200 (Envoy's ext_authz allows only 200)";
    Oauth2ProxyCookieSamesite = "oauth2-proxy-cookie-samesite", Error, "`cookie-samesite` not one of \"\", lax, strict, none; or none without cookie-secure";
    Oauth2ProxyWhitelistDomain = "oauth2-proxy-whitelist-domain", Error, "a `whitelist-domain` entry oauth2-proxy cannot parse";
    Oauth2ProxySkipDiscoveryWithoutJwks = "oauth2-proxy-skip-discovery-without-jwks", Error, "`skip-oidc-discovery: \"true\"` without `oidc-jwks-url`";
    Oauth2ProxyAllowedGroup = "oauth2-proxy-allowed-group", Warning, "`allowed-group`: client-credentials tokens carry no groups, every call is denied";
    Oauth2ProxyAllowedRole = "oauth2-proxy-allowed-role", Warning, "`allowed-role` with provider oidc is ignored (only keycloak-oidc reads it)";
    Oauth2ProxyEmailDomain = "oauth2-proxy-email-domain", Warning, "`email-domain` without `*`: client-credentials tokens carry no email, every call gets 403";
    AuthorizerTimeoutWholeSeconds = "authorizer-timeout-whole-seconds", Error, "an authorizer timeout that is not a whole number of seconds (Kyma truncates it)";
    AuthorizerIncludeAuthorization = "authorizer-include-authorization", Error, "`headers.inCheck.include` without `authorization`: tokens never reach the authorizer";
    // ---- security ----
    AuthorizerExposesProxyEndpoints = "authorizer-exposes-proxy-endpoints", Warning, "`pathPrefix: \"\"` lets /ping, /ready, /robots.txt and /oauth2/static/* of every protected workload pass without a token";
    Oauth2ProxyCookieInsecure = "oauth2-proxy-cookie-insecure", Warning, "`cookie-secure: \"false\"` sends the session cookie over plain http";
    Oauth2ProxySkipIssuerVerification = "oauth2-proxy-skip-issuer-verification", Warning, "`insecure-oidc-skip-issuer-verification: \"true\"` accepts tokens from any issuer";
    NoauthCatchAll = "noauth-catch-all", Warning, "a `noAuth` rule on `/*` makes every path of the host public";
    IdentityProviderJwksHttp = "identity-provider-jwks-http", Warning, "a `jwksUri` over plain http: signing keys can be tampered with in transit";
    // ---- rendering ----
    TemplateError = "template-error", Error, "a template failed to render (names the template file and line)";
    OutputSchema = "output-schema", Error, "a rendered object does not match its output schema (a template bug)";
}

impl Code {
    /// Look a code up by its kebab-case name.
    pub fn parse(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, located in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule.
    pub code: Code,
    /// Its severity (the code's default unless raised by `--strict`).
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where: `None` only for findings about the file as a whole.
    pub span: Option<Span>,
    /// A short label under the marked text.
    pub label: Option<String>,
    /// How to fix it, when known.
    pub help: Option<String>,
    /// Other places worth showing (e.g. the first of two duplicates).
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A finding with the code's default severity.
    pub fn new(code: Code, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// Add a fix hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Add a label under the marked text.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Point at another place too.
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Is this an error (after any `--strict` promotion)?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// What to do with warnings.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Treat every warning as an error.
    pub strict: bool,
    /// Warning codes to drop.
    pub allow: Vec<Code>,
}

impl Policy {
    /// Apply the policy: drop allowed warnings, promote the rest when strict.
    pub fn apply(&self, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        diags
            .into_iter()
            .filter(|d| !(d.severity == Severity::Warning && self.allow.contains(&d.code)))
            .map(|mut d| {
                if self.strict {
                    d.severity = Severity::Error;
                }
                d
            })
            .collect()
    }
}

/// Render diagnostics the way rustc does: `error[code]: message`, ` --> file:line:col`,
/// the source line with a marker, and `= help:` where a fix is known.
pub fn render(diags: &[Diagnostic], source: &SourceFile, color: bool) -> String {
    use annotate_snippets::{Group, Level, Renderer};
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(d.message.as_str()).id(d.code.as_str());
        let mut group = match d.span {
            Some(span) => {
                // Only the lines the annotations cover, so rendering stays proportional to what
                // is shown, not to the file: related places within a few lines of the primary
                // one share its snippet, farther ones get a snippet of their own.
                let near = |r: &Span| r.line + 4 >= span.line && r.line <= span.line + 4;
                let (close, far): (Vec<&Related>, Vec<&Related>) =
                    d.related.iter().partition(|(r, _)| near(r));
                let mut group =
                    title.element(window(source, Some((span, d.label.as_deref())), &close));
                for rel in far {
                    group = group.element(window(source, None, &[rel]));
                }
                group
            }
            None => title.element(annotate_snippets::Origin::path(source.name.as_str())),
        };
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let report: [Group<'_>; 1] = [group];
        out.push_str(&renderer.render(&report));
        out.push_str("\n\n");
    }
    out
}

/// A related place: span and label.
type Related = (Span, String);

/// A snippet of the lines from the first to the last of its annotations.
fn window<'a>(
    source: &'a SourceFile,
    primary: Option<(Span, Option<&'a str>)>,
    related: &[&'a Related],
) -> annotate_snippets::Snippet<'a, annotate_snippets::Annotation<'a>> {
    use annotate_snippets::{AnnotationKind, Snippet};
    let spans = primary
        .iter()
        .map(|(s, _)| *s)
        .chain(related.iter().map(|(r, _)| *r));
    let first = spans.clone().map(|s| s.line).min().unwrap_or(1);
    let last_byte = spans.map(|s| s.end).max().unwrap_or(0);
    let (from, to) = source.line_window(first, last_byte);
    let shift =
        |r: std::ops::Range<usize>| r.start.clamp(from, to) - from..r.end.clamp(from, to) - from;
    let mut snippet = Snippet::source(&source.text[from..to])
        .line_start(first)
        .path(source.name.as_str())
        .fold(true);
    if let Some((span, label)) = primary {
        snippet = snippet.annotation(
            AnnotationKind::Primary
                .span(shift(span.range()))
                .label(label),
        );
    }
    for (rel, label) in related {
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(shift(rel.range()))
                .label(label.as_str()),
        );
    }
    snippet
}

/// A one-line summary such as `2 errors, 1 warning`.
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_described() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !s.starts_with('-')
                    && !s.ends_with('-')
                    && !s.contains("--"),
                "{s} is not kebab-case"
            );
            assert!(!code.description().is_empty());
            assert_eq!(Code::parse(s), Some(*code));
        }
    }

    #[test]
    fn code_table_snapshot() {
        let table: String = Code::ALL
            .iter()
            .map(|c| {
                format!(
                    "{} ({}): {}\n",
                    c.as_str(),
                    c.default_severity(),
                    c.description()
                )
            })
            .collect();
        insta::assert_snapshot!(table);
    }
}
