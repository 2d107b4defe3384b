//! Diagnostics: a stable code, a severity, a location and a message with an optional fix.
//!
//! Every rule kexpose applies has one [`Code`]; the table below is the single list of them
//! (`docs/diagnostics.md`, via [`reference_markdown`], and a snapshot test are generated from it).

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
    ApiruleMethodDuplicate = "apirule-method-duplicate", Error, "a method listed twice in one rule (the controller inserts the path twice and reports a collision)";
    ApiruleTimeoutRange = "apirule-timeout-range", Error, "a timeout outside 1..3900 seconds";
    PortRange = "port-range", Error, "a port outside 1..65535";
    // ---- APIRule (api-gateway controller) ----
    ApirulePathWildcard = "apirule-path-wildcard", Error, "more than one `{**}` in a path, or `{*}` after `{**}`";
    ApirulePathConflict = "apirule-path-conflict", Error, "a rule order the controller's segment trie rejects for a shared method (an earlier path can match this one)";
    ApiruleJwtConfigDiffers = "apirule-jwt-config-differs", Error, "jwt rules of one workload use the same issuer and jwksUri with different fromHeaders/fromParams";
    ApiruleRootRuleBypass = "apirule-root-rule-bypass", Warning, "a protected rule on `/` before a noAuth `/*`: `/` is not excluded from the later ALLOW policy";
    JwtScopesScpClaim = "jwt-scopes-scp-claim", Warning, "`requiredScopes` with Microsoft Entra ID tokens, whose space-separated `scp` claim Istio does not split";
    ApiruleEmptyValue = "apirule-empty-value", Error, "an empty scope or audience, or an empty list of them";
    ApiruleCorsWithoutOptions = "apirule-cors-without-options", Warning, "CORS is configured but a rule does not allow OPTIONS (preflight requests fail)";
    ApiruleMethodShadowed = "apirule-method-shadowed", Warning, "an earlier rule's path is excluded from this rule's policies for all its methods, so requests with a method the earlier rule lacks get 403";
    SelectorInvalid = "selector-invalid", Error, "a pod selector that is empty or has a key or value Kubernetes refuses as a label";
    IngressPrincipalInvalid = "ingress-principal-invalid", Error, "an ingress gateway principal not of the form `<trust domain>/ns/<namespace>/sa/<service account>`";
    WorkloadSelectorMissing = "workload-selector-missing", Error, "a workload (or a rule's own service) without `selector` where policies must select its pods (`--target istio`, `allowInClusterCallers`)";
    AllowInClusterCallers = "allow-in-cluster-callers", Warning, "`allowInClusterCallers` admits every caller but the ingress gateway on every path, without token or authorizer";
    // ---- oauth2-proxy ----
    Oauth2ProxyIssuerInvalid = "oauth2-proxy-issuer-invalid", Error, "an issuer whose discovery fails or never matches: not the exact `https://<host>` of a SAP Cloud Identity Services tenant, or with a query, fragment or user info";
    Oauth2ProxyIssuerHttp = "oauth2-proxy-issuer-http", Warning, "an `http://` issuer: discovery and signing keys travel unprotected";
    Oauth2ProxyUnknownFlag = "oauth2-proxy-unknown-flag", Error, "an `extraArgs` key that is not an oauth2-proxy 7.15.3 flag (the process exits)";
    Oauth2ProxyOwnedFlag = "oauth2-proxy-owned-flag", Error, "a credential flag (kexpose never writes secrets), `alpha-config`, or a listen address other than the one chart 10.7.0 sets for its Service and probes";
    Oauth2ProxyFlagIgnored = "oauth2-proxy-flag-ignored", Warning, "an `extraArgs` flag the chart overrides (`config`: its own --config comes later)";
    Oauth2ProxyFlagValue = "oauth2-proxy-flag-value", Error, "an integer or duration flag with a value Go's strconv.ParseInt / time.ParseDuration refuses (the process exits)";
    Oauth2ProxyAudienceMismatch = "oauth2-proxy-audience-mismatch", Warning, "a restriction requires an audience that the oauth2-proxy authorizer (with `clientId` set) does not accept: 401";
    Oauth2ProxyBoolFlag = "oauth2-proxy-bool-flag", Error, "a boolean flag with a value Go's strconv.ParseBool refuses (the process exits)";
    Oauth2ProxyUnsafeValue = "oauth2-proxy-unsafe-value", Error, "an `extraArgs` value with `{{` (the chart runs values through tpl) or a line break";
    Oauth2ProxyUpstream = "oauth2-proxy-upstream", Warning, "`upstream` other than static://200: Envoy's ext_authz allows only on 200, so every call is denied";
    Oauth2ProxyCookieSamesite = "oauth2-proxy-cookie-samesite", Error, "`cookie-samesite` not one of \"\", lax, strict, none (the process exits)";
    Oauth2ProxyCookieSamesiteInsecure = "oauth2-proxy-cookie-samesite-insecure", Warning, "`cookie-samesite: none` without a secure cookie: browsers drop the cookie";
    Oauth2ProxyCookieDomain = "oauth2-proxy-cookie-domain", Warning, "a `cookie-domain` entry Go does not write into Set-Cookie (port, `*`, `_`): the cookie becomes host-only";
    Oauth2ProxyWhitelistDomain = "oauth2-proxy-whitelist-domain", Warning, "a `whitelist-domain` entry that can never match a redirect host";
    Oauth2ProxySkipDiscoveryWithoutJwks = "oauth2-proxy-skip-discovery-without-jwks", Error, "`skip-oidc-discovery: \"true\"` without `oidc-jwks-url` or `oidc-public-key-file` (the process exits)";
    Oauth2ProxyJwksAndPublicKey = "oauth2-proxy-jwks-and-public-key", Error, "`oidc-jwks-url` together with `oidc-public-key-file` (the process exits)";
    Oauth2ProxyProviderUnknown = "oauth2-proxy-provider-unknown", Error, "a `provider` oauth2-proxy 7.15.3 does not have (the process exits)";
    Oauth2ProxyExtraJwtIssuer = "oauth2-proxy-extra-jwt-issuer", Error, "an `extra-jwt-issuers` entry without `=<audience>` while skip-jwt-bearer-tokens is on (the process exits)";
    Oauth2ProxyCookieRefresh = "oauth2-proxy-cookie-refresh", Error, "`cookie-refresh` not below `cookie-expire` (default 168h) (the process exits)";
    Oauth2ProxySessionCookieMinimal = "oauth2-proxy-session-cookie-minimal", Error, "`session-cookie-minimal` with token headers or cookie-refresh that need tokens in the session (the process exits)";
    Oauth2ProxyEmailDomainEmpty = "oauth2-proxy-email-domain-empty", Error, "an empty `email-domain` and no emails file: no email validation left (the process exits)";
    Oauth2ProxyRealClientIpHeader = "oauth2-proxy-real-client-ip-header", Error, "a `real-client-ip-header` oauth2-proxy does not support, with reverse-proxy on (the process exits)";
    Oauth2ProxyIpInvalid = "oauth2-proxy-ip-invalid", Error, "a `trusted-ip` / `trusted-proxy-ip` entry that is not an IP or an exact CIDR (the process exits)";
    Oauth2ProxyRegexInvalid = "oauth2-proxy-regex-invalid", Error, "a `skip-auth-route` / `skip-auth-regex` / `api-route` entry Go's regexp refuses (the process exits)";
    Oauth2ProxySigningAlg = "oauth2-proxy-signing-alg", Error, "an `oidc-enabled-signing-alg` oauth2-proxy does not support (the process exits)";
    Oauth2ProxySessionStore = "oauth2-proxy-session-store", Error, "a `session-store-type` other than cookie or redis (the process exits)";
    Oauth2ProxyListValue = "oauth2-proxy-list-value", Error, "a list flag value pflag's CSV reader refuses (a stray `\"`) (the process exits)";
    Oauth2ProxyListSplit = "oauth2-proxy-list-split", Warning, "a comma inside a regex of a list flag: the regex is split in two";
    Oauth2ProxyAllowedGroup = "oauth2-proxy-allowed-group", Warning, "`allowed-group` on a bearer-only authorizer: client-credentials tokens carry no groups, every call is denied";
    Oauth2ProxyAllowedRole = "oauth2-proxy-allowed-role", Warning, "`allowed-role` with provider oidc is ignored (only keycloak-oidc reads it)";
    Oauth2ProxyEmailDomain = "oauth2-proxy-email-domain", Warning, "`email-domain` without `*` on a bearer-only authorizer: client-credentials tokens carry no email, every call gets 403";
    AuthorizerPathPrefixInvalid = "authorizer-path-prefix-invalid", Error, "a `pathPrefix` Istio refuses (not starting with `/`, a bad `%` escape, a control character): the provider is invalid and its CUSTOM policies deny every call";
    AuthorizerTimeoutWholeSeconds = "authorizer-timeout-whole-seconds", Error, "an authorizer timeout that is not a whole number of seconds (Kyma truncates it)";
    // ---- security ----
    AuthorizerExposesProxyEndpoints = "authorizer-exposes-proxy-endpoints", Warning, "`pathPrefix: \"\"` lets /ping, /ready, /robots.txt and oauth2-proxy's embedded /oauth2/static/ files of every protected workload pass without a token";
    Oauth2ProxyCookieInsecure = "oauth2-proxy-cookie-insecure", Warning, "`cookie-secure: \"false\"` sends the session cookie over plain http";
    Oauth2ProxySkipIssuerVerification = "oauth2-proxy-skip-issuer-verification", Warning, "`insecure-oidc-skip-issuer-verification: \"true\"` accepts tokens from any issuer";
    NoauthCatchAll = "noauth-catch-all", Warning, "a `noAuth` rule on `/*` makes every path of the host public";
    IdentityProviderJwksHttp = "identity-provider-jwks-http", Warning, "a `jwksUri` over plain http: signing keys can be tampered with in transit";
    StarterPlaceholder = "starter-placeholder", Warning, "a value is still a placeholder of `kexpose init`'s starter spec (no such cluster or tenant)";
    // ---- doctor (live identity provider and token; `kexpose doctor`) ----
    DoctorUnreachable = "doctor-unreachable", Error, "doctor: a request got no answer (connection, DNS, TLS, proxy or timeout): exit 2";
    DoctorDiscoveryFailed = "doctor-discovery-failed", Error, "doctor: the discovery document is not answered with 200 or is not JSON (oauth2-proxy exits at start)";
    DoctorIssuerMismatch = "doctor-issuer-mismatch", Error, "doctor: the discovery document's `issuer` is not byte-equal to the spec's issuer (oauth2-proxy exits at start: CrashLoop)";
    DoctorJwksUriMismatch = "doctor-jwks-uri-mismatch", Warning, "doctor: discovery names a `jwks_uri` other than the spec's (or derived) `jwksUri`; an error when the two key sets differ";
    DoctorJwksUnavailable = "doctor-jwks-unavailable", Error, "doctor: a JWKS cannot be fetched, is not a JWK set, or holds no signing key";
    DoctorGrantTypeMissing = "doctor-grant-type-missing", Warning, "doctor: discovery does not list `client_credentials` in `grant_types_supported`";
    DoctorNoCommonAlgorithm = "doctor-no-common-algorithm", Error, "doctor: no signing algorithm in common between the provider and oauth2-proxy, Istio and kexpose";
    DoctorTokenRequest = "doctor-token-request", Error, "doctor: the client-credentials token request failed, or its answer holds no JWT access token";
    DoctorTokenSignature = "doctor-token-signature", Error, "doctor: the token's signature cannot be verified against a JWKS its verifier uses";
    DoctorTokenDenied = "doctor-token-denied", Error, "doctor: the real token is denied by an oauth2-proxy authorizer or a rule (names the reason)";
    DoctorProbeMismatch = "doctor-probe-mismatch", Error, "doctor --probe: a live answer differs from what the access model predicts";
    // ---- import (`kexpose import`) ----
    ImportNothing = "import-nothing", Error, "the import inputs hold no APIRule and no Istio CR authorizer";
    ImportUnsupportedVersion = "import-unsupported-version", Error, "an APIRule version kexpose does not import (it reads v2, v2alpha1, v1beta1)";
    ImportInvalidObject = "import-invalid-object", Error, "an imported object lacks a field the API server requires, or has one of the wrong type";
    ImportAuthorizerUnknown = "import-authorizer-unknown", Error, "an imported extAuth rule names an authorizer that no imported Istio CR registers";
    ImportDuplicate = "import-duplicate", Warning, "the same APIRule or authorizer imported twice; the later copy is ignored";
    ImportExtraHosts = "import-extra-hosts", Warning, "an APIRule with several hosts: a workload has one, the others are not imported";
    ImportAuthorizerType = "import-authorizer-type", Warning, "an Istio CR authorizer that looks like oauth2-proxy, imported as `type: external` (its Helm values cannot be known)";
    ImportV1beta1InternalTraffic = "import-v1beta1-internal-traffic", Warning, "a v1beta1 APIRule let in-cluster callers through; APIRule v2 blocks them";
    ImportV1beta1CorsDefault = "import-v1beta1-cors-default", Warning, "a v1beta1 APIRule relied on the default CORS policy, which v2 does not apply";
    ImportV1beta1Gateway = "import-v1beta1-gateway", Warning, "a v1beta1 gateway name in neither the new nor the old form";
    ImportV1beta1Path = "import-v1beta1-path", Warning, "a v1beta1 regex path that v2 cannot express exactly";
    ImportV1beta1Handler = "import-v1beta1-handler", Warning, "a v1beta1 access strategy with no exact v2 equivalent (anonymous, unauthorized, several per rule)";
    ImportV1beta1Jwt = "import-v1beta1-jwt", Warning, "a v1beta1 jwt config that does not migrate exactly (no issuer, several issuers or JWKS URLs)";
    ImportV1beta1Oauth2 = "import-v1beta1-oauth2", Warning, "a v1beta1 Oathkeeper OAuth2 handler migrated to extAuth through oauth2-proxy: the user must check the authorizer";
    ImportV1beta1Mutator = "import-v1beta1-mutator", Warning, "a v1beta1 mutator other than header and cookie: not imported";
    // ---- platform and team specs ----
    TeamField = "team-field", Error, "a field a platform or team spec does not hold, or one of the wrong shape";
    TeamPlatformUnreadable = "team-platform-unreadable", Error, "a team spec whose `platform.path` cannot be read";
    TeamPlatformDigest = "team-platform-digest", Error, "the platform spec's bytes do not have the digest the team spec pins";
    TeamPlatformInvalid = "team-platform-invalid", Error, "the platform spec a team references is not a valid platform spec";
    TeamPlatformMismatch = "team-platform-mismatch", Error, "a team spec validated with a platform spec references a different platform file";
    TeamUnknown = "team-unknown", Error, "a team spec whose `metadata.name` has no grant in the platform spec";
    TeamNamespaceNotGranted = "team-namespace-not-granted", Error, "a workload or service namespace outside the team's grant";
    TeamHostNotGranted = "team-host-not-granted", Error, "a host outside the team's grant";
    TeamGatewayNotGranted = "team-gateway-not-granted", Error, "a gateway the team is not granted";
    TeamAuthorizerNotGranted = "team-authorizer-not-granted", Error, "an authorizer the platform does not offer to the team";
    TeamIdentityProviderNotGranted = "team-identity-provider-not-granted", Error, "an identity provider the platform does not offer to the team";
    // ---- rendering ----
    TemplateError = "template-error", Error, "a template failed to render (names the template file and line)";
    OutputSchema = "output-schema", Error, "a rendered object does not match its output schema (a template bug)";
}

/// The groups of the code table, each with the code it starts at (in the order of
/// [`Code::ALL`]); headings of the generated diagnostics reference.
const SECTIONS: &[(Code, &str)] = &[
    (Code::InputNotUtf8, "Input and YAML"),
    (Code::SchemaUnknownField, "Spec shape (JSON Schema)"),
    (Code::NameInvalid, "Names and references"),
    (
        Code::ApiruleHostInvalid,
        "APIRule: the CRD schema and its CEL rules",
    ),
    (
        Code::ApirulePathWildcard,
        "APIRule: the api-gateway controller",
    ),
    (
        Code::Oauth2ProxyIssuerInvalid,
        "oauth2-proxy and authorizers",
    ),
    (Code::AuthorizerExposesProxyEndpoints, "Security"),
    (
        Code::DoctorUnreachable,
        "`kexpose doctor` (live identity provider and token)",
    ),
    (Code::ImportNothing, "`kexpose import`"),
    (Code::TeamField, "Platform and team specs"),
    (
        Code::TemplateError,
        "Rendering (template bugs, never caused by a spec)",
    ),
];

/// The code table as Markdown, one table per group: code, severity, what it checks. This is
/// the generated part of `docs/diagnostics.md` (`kexpose codes --markdown`); a test keeps the
/// committed file equal to it.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "<!-- Generated from the code table in src/diag.rs by `kexpose codes --markdown`; \
         do not edit by hand. -->\n",
    );
    for code in Code::ALL {
        if let Some((_, heading)) = SECTIONS.iter().find(|(first, _)| first == code) {
            out.push_str(&format!(
                "\n### {heading}\n\n| code | severity | what it checks |\n|---|---|---|\n"
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.default_severity(),
            code.description().replace('|', "\\|")
        ));
    }
    out.push_str(
        "\n### Retired codes\n\nNever reported again and never reused; `--allow` accepts them \
         and silences nothing.\n\n| code | why it was withdrawn |\n|---|---|\n",
    );
    for (code, why) in RETIRED {
        out.push_str(&format!("| `{code}` | {} |\n", why.replace('|', "\\|")));
    }
    out
}

/// Codes that were released and then withdrawn because the real component showed the hazard
/// does not exist: (code, why). They are never reported again and never reused for another
/// rule; `--allow` still accepts them (silencing nothing), so existing scripts keep working.
pub const RETIRED: &[(&str, &str)] = &[(
    "authorizer-include-authorization",
    "warned that `headers.inCheck.include` without `authorization` keeps tokens from the \
     authorizer. Envoy's HTTP ext_authz always forwards `Authorization` (with `Host`, `:method`, \
     `:path`, `Content-Length`) on top of the list (Envoy `ext_authz.proto`, `allowed_headers`; \
     Istio maps `includeRequestHeadersInCheck` to it, `pilot/pkg/security/authz/builder/extauthz.go`); \
     the conformance suite gets 200 for a valid token with `include: [x-forwarded-for, cookie]`",
)];

/// Is `name` a withdrawn code (see [`RETIRED`])?
pub fn is_retired(name: &str) -> bool {
    RETIRED.iter().any(|(c, _)| *c == name)
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
            message: no_empty_code(message.into()),
            span,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// Add a fix hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(no_empty_code(help.into()));
        self
    }

    /// Add a label under the marked text.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(no_empty_code(label.into()));
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

/// A message quoting an empty string (`name ``…`) reads as if the value were missing: show it
/// as `""`. (An absent value is called `nothing` where the message is built.)
pub(crate) fn no_empty_code(s: String) -> String {
    if s.contains("``") {
        s.replace("``", "`\"\"`")
    } else {
        s
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
///
/// Credential values of the source (see [`crate::secrets`]) are masked in every excerpt,
/// message, label and help: a secret pasted into the spec never reaches a CI log.
pub fn render(diags: &[Diagnostic], source: &SourceFile, color: bool) -> String {
    use annotate_snippets::{Group, Level, Renderer};
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let masker = source.masker();
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level
            .primary_title(masker.mask_str(&d.message))
            .id(d.code.as_str());
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
            group = group.element(Level::HELP.message(masker.mask_str(help)));
        }
        let report: [Group<'_>; 1] = [group];
        out.push_str(&renderer.render(&report));
        out.push_str("\n\n");
    }
    out
}

/// A related place: span and label.
type Related = (Span, String);

/// A snippet of the lines from the first to the last of its annotations, credentials masked.
fn window<'a>(
    source: &'a SourceFile,
    primary: Option<(Span, Option<&'a str>)>,
    related: &[&'a Related],
) -> annotate_snippets::Snippet<'a, annotate_snippets::Annotation<'a>> {
    use annotate_snippets::{AnnotationKind, Snippet};
    let masker = source.masker();
    let spans = primary
        .iter()
        .map(|(s, _)| *s)
        .chain(related.iter().map(|(r, _)| *r));
    let first = spans.clone().map(|s| s.line).min().unwrap_or(1);
    let last_byte = spans.map(|s| s.end).max().unwrap_or(0);
    let (from, to) = source.line_window(first, last_byte);
    let masked = masker.mask_window(&source.text, from, to);
    let shift = |r: std::ops::Range<usize>| {
        masked.map(r.start.clamp(from, to) - from)..masked.map(r.end.clamp(from, to) - from)
    };
    let primary_span = primary.map(|(span, label)| (shift(span.range()), label));
    let related: Vec<_> = related
        .iter()
        .map(|(rel, label)| (shift(rel.range()), masker.mask_str(label)))
        .collect();
    let mut snippet = Snippet::source(masked.text)
        .line_start(first)
        .path(source.name.as_str())
        .fold(true);
    if let Some((range, label)) = primary_span {
        snippet = snippet.annotation(
            AnnotationKind::Primary
                .span(range)
                .label(label.map(|l| masker.mask_str(l))),
        );
    }
    for (range, label) in related {
        snippet = snippet.annotation(AnnotationKind::Context.span(range).label(label));
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

    #[test]
    fn reference_sections_start_in_table_order() {
        let starts: Vec<usize> = SECTIONS
            .iter()
            .map(|(code, _)| Code::ALL.iter().position(|c| c == code).unwrap())
            .collect();
        assert_eq!(starts[0], 0, "the first group starts at the first code");
        assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
        let text = reference_markdown();
        for code in Code::ALL {
            assert!(text.contains(&format!("| `{}` |", code.as_str())));
        }
    }

    #[test]
    fn retired_codes_are_never_reused() {
        for (name, why) in RETIRED {
            assert_eq!(
                Code::parse(name),
                None,
                "{name} is retired and back in the table"
            );
            assert!(is_retired(name) && !why.is_empty());
            assert!(reference_markdown().contains(&format!("| `{name}` |")));
        }
    }
}
