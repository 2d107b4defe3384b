//! Why the built-in outputs skip their output schemas: every constrained node of each output
//! schema in [`super::OUTPUTS`] is listed here with what enforces it on the built-in path —
//! the check that refuses the spec value it constrains (with its diagnostic code, which a
//! case in `tests/bad/` triggers), or the built-in writer itself (constants, the template's
//! keys). A schema that gains a constraint no entry covers fails
//! `every_output_schema_constraint_is_enforced`; a removed one fails it too (stale entry).
//!
//! `type` is not listed: the typed writers write each field from a typed value. Beside this
//! table, `tests/properties.rs` renders random valid specs with the built-in writer and
//! through the templates (which validate every object against its schema) and compares the
//! bytes, and `render_validates_boundary_specs` below validates boundary values.

use crate::diag::Code;

/// What enforces a schema constraint for the built-in outputs.
#[derive(Debug, Clone, Copy)]
enum Proof {
    /// The check that refuses a spec whose output would break the constraint, and the spec
    /// fields it reads.
    Check(Code, &'static str),
    /// The built-in writer writes only values that meet it.
    Writer(&'static str),
}
use Proof::{Check, Writer};

/// (schema file without `.schema.json`, pointer of the node in the schema, keyword, proof).
const TABLE: &[(&str, &str, &str, Proof)] = &[
    (
        "apirule-v2",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "apirule-v2",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "apirule-v2",
        "/properties/apiVersion",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "apirule-v2",
        "/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "apirule-v2",
        "/properties/metadata",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "apirule-v2",
        "/properties/metadata",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "apirule-v2",
        "/properties/spec",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "apirule-v2",
        "/properties/spec",
        "required",
        Check(
            Code::GatewayConflict,
            "gateway and externalGateway; the writer writes the default gateway when neither is set",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/properties/hosts",
        "minItems",
        Writer("one host per APIRule"),
    ),
    (
        "apirule-v2",
        "/properties/spec/properties/hosts",
        "maxItems",
        Writer("one host per APIRule"),
    ),
    (
        "apirule-v2",
        "/properties/spec/properties/hosts/items",
        "maxLength",
        Check(
            Code::ApiruleHostInvalid,
            "workloads[].host, completed with cluster.domain",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/properties/hosts/items",
        "pattern",
        Check(
            Code::ApiruleHostInvalid,
            "workloads[].host, completed with cluster.domain",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/properties/corsPolicy",
        "additionalProperties",
        Check(
            Code::SchemaUnknownField,
            "workloads[].corsPolicy (spec schema Cors)",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/properties/corsPolicy/properties/maxAge",
        "minimum",
        Check(Code::ApiruleCorsInvalid, "workloads[].corsPolicy.maxAge"),
    ),
    (
        "apirule-v2",
        "/properties/spec/properties/rules",
        "minItems",
        Check(Code::ApiruleRulesEmpty, "workloads[].rules"),
    ),
    (
        "apirule-v2",
        "/properties/spec",
        "oneOf",
        Check(
            Code::GatewayConflict,
            "gateway and externalGateway; the writer writes the default gateway when neither is set",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/oneOf/0",
        "required",
        Check(
            Code::GatewayConflict,
            "gateway and externalGateway; the writer writes the default gateway when neither is set",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/oneOf/1",
        "required",
        Check(
            Code::GatewayConflict,
            "gateway and externalGateway; the writer writes the default gateway when neither is set",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec",
        "if",
        Check(
            Code::RuleMissingService,
            "workloads[].service or every rule's service",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/if",
        "not",
        Check(
            Code::RuleMissingService,
            "workloads[].service or every rule's service",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/if/not",
        "required",
        Check(
            Code::RuleMissingService,
            "workloads[].service or every rule's service",
        ),
    ),
    (
        "apirule-v2",
        "/properties/spec/then/properties/rules/items",
        "required",
        Check(
            Code::RuleMissingService,
            "workloads[].rules[].service when the workload has none",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rfc1123Label",
        "maxLength",
        Check(Code::NameInvalid, "workload name and namespace"),
    ),
    (
        "apirule-v2",
        "/$defs/rfc1123Label",
        "pattern",
        Check(Code::NameInvalid, "workload name and namespace"),
    ),
    (
        "apirule-v2",
        "/$defs/labels",
        "propertyNames",
        Writer(
            "label keys are kexpose's own (app.kubernetes.io/managed-by, part-of, instance); APIRules get no annotations",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/labels/propertyNames",
        "pattern",
        Writer(
            "label keys are kexpose's own (app.kubernetes.io/managed-by, part-of, instance); APIRules get no annotations",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/labels/additionalProperties",
        "maxLength",
        Check(
            Code::NameInvalid,
            "metadata.name (a DNS label, so a label value); the kexpose and --instance values are checked by the writer's constants and Target::new",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/labels/additionalProperties",
        "pattern",
        Check(
            Code::NameInvalid,
            "metadata.name (a DNS label, so a label value); the kexpose and --instance values are checked by the writer's constants and Target::new",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/annotations",
        "propertyNames",
        Writer(
            "label keys are kexpose's own (app.kubernetes.io/managed-by, part-of, instance); APIRules get no annotations",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/annotations/propertyNames",
        "pattern",
        Writer(
            "label keys are kexpose's own (app.kubernetes.io/managed-by, part-of, instance); APIRules get no annotations",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/namespacedName",
        "maxLength",
        Check(
            Code::ApiruleGatewayInvalid,
            "cluster.gateway, workloads[].gateway/externalGateway",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/namespacedName",
        "pattern",
        Check(
            Code::ApiruleGatewayInvalid,
            "cluster.gateway, workloads[].gateway/externalGateway",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/timeout",
        "minimum",
        Check(
            Code::ApiruleTimeoutRange,
            "workloads[].timeout, rules[].timeout",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/timeout",
        "maximum",
        Check(
            Code::ApiruleTimeoutRange,
            "workloads[].timeout, rules[].timeout",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/service",
        "additionalProperties",
        Check(
            Code::SchemaMissingField,
            "service.name and service.port (spec schema WorkloadService/RuleService; unknown fields: schema-unknown-field)",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/service",
        "required",
        Check(
            Code::SchemaMissingField,
            "service.name and service.port (spec schema WorkloadService/RuleService; unknown fields: schema-unknown-field)",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/service/properties/name",
        "minLength",
        Check(Code::SchemaInvalidValue, "service.name"),
    ),
    (
        "apirule-v2",
        "/$defs/service/properties/namespace",
        "maxLength",
        Check(Code::NameInvalid, "service.namespace"),
    ),
    (
        "apirule-v2",
        "/$defs/service/properties/namespace",
        "pattern",
        Check(Code::NameInvalid, "service.namespace"),
    ),
    (
        "apirule-v2",
        "/$defs/service/properties/port",
        "minimum",
        Check(Code::PortRange, "service.port"),
    ),
    (
        "apirule-v2",
        "/$defs/service/properties/port",
        "maximum",
        Check(Code::PortRange, "service.port"),
    ),
    (
        "apirule-v2",
        "/$defs/authentication",
        "additionalProperties",
        Check(
            Code::IdentityProviderJwksRequired,
            "identity provider issuer and jwksUri (derived or given); the writer writes issuer, jwksUri, fromHeaders/fromParams only",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/authentication",
        "required",
        Check(
            Code::IdentityProviderJwksRequired,
            "identity provider issuer and jwksUri (derived or given); the writer writes issuer, jwksUri, fromHeaders/fromParams only",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/authentication/properties/fromHeaders/items",
        "additionalProperties",
        Check(
            Code::SchemaMissingField,
            "identityProviders[].fromHeaders[].name (spec schema FromHeader)",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/authentication/properties/fromHeaders/items",
        "required",
        Check(
            Code::SchemaMissingField,
            "identityProviders[].fromHeaders[].name (spec schema FromHeader)",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/authorization",
        "additionalProperties",
        Check(
            Code::SchemaUnknownField,
            "authorizations[] (spec schema Authorization)",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule",
        "additionalProperties",
        Writer("the writer writes path, methods and only the rule keys of the template"),
    ),
    (
        "apirule-v2",
        "/$defs/rule",
        "required",
        Writer("the writer writes path, methods and only the rule keys of the template"),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/path",
        "pattern",
        Check(Code::ApirulePathInvalid, "rules[].path"),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/path",
        "not",
        Check(Code::ApirulePathWildcard, "rules[].path"),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/path/not",
        "pattern",
        Check(Code::ApirulePathWildcard, "rules[].path"),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/methods",
        "minItems",
        Check(Code::ApiruleMethodsEmpty, "rules[].methods"),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/methods/items",
        "enum",
        Check(Code::ApiruleMethodInvalid, "rules[].methods[]"),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/jwt",
        "additionalProperties",
        Writer(
            "the writer writes the template's keys: jwt {authentications, authorizations}, extAuth {authorizers, restrictions}",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/extAuth",
        "additionalProperties",
        Writer(
            "the writer writes the template's keys: jwt {authentications, authorizations}, extAuth {authorizers, restrictions}",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/extAuth",
        "required",
        Writer(
            "the writer writes the template's keys: jwt {authentications, authorizations}, extAuth {authorizers, restrictions}",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/extAuth/properties/authorizers",
        "minItems",
        Check(Code::ApiruleEmptyValue, "rules[].extAuth.authorizers"),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/extAuth/properties/restrictions",
        "additionalProperties",
        Writer(
            "the writer writes the template's keys: jwt {authentications, authorizations}, extAuth {authorizers, restrictions}",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/properties/request",
        "additionalProperties",
        Check(
            Code::SchemaUnknownField,
            "rules[].request (spec schema RequestMutators)",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule",
        "oneOf",
        Check(
            Code::ApiruleAccessStrategy,
            "rules[]: exactly one access kind; the writer writes one of noAuth, jwt, extAuth per Access",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/oneOf/0",
        "required",
        Check(
            Code::ApiruleAccessStrategy,
            "rules[]: exactly one access kind; the writer writes one of noAuth, jwt, extAuth per Access",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/oneOf/1",
        "required",
        Check(
            Code::ApiruleAccessStrategy,
            "rules[]: exactly one access kind; the writer writes one of noAuth, jwt, extAuth per Access",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/oneOf/2",
        "required",
        Check(
            Code::ApiruleAccessStrategy,
            "rules[]: exactly one access kind; the writer writes one of noAuth, jwt, extAuth per Access",
        ),
    ),
    (
        "apirule-v2",
        "/$defs/rule/oneOf/2/properties/noAuth",
        "const",
        Writer("noAuth: true is a literal"),
    ),
    (
        "istio-authorizers",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/apiVersion",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/metadata",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/metadata",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/metadata/properties/name",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/metadata/properties/namespace",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/spec",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/spec",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/spec/properties/config",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/spec/properties/config",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "istio-authorizers",
        "/properties/spec/properties/config/properties/authorizers",
        "minItems",
        Writer("written only when the spec has authorizers"),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer",
        "additionalProperties",
        Writer("the writer writes name, service, port, pathPrefix, timeout, headers"),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer",
        "required",
        Writer("the writer writes name, service, port, pathPrefix, timeout, headers"),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/name",
        "minLength",
        Check(Code::NameInvalid, "authorizers[].name"),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/service",
        "minLength",
        Check(
            Code::AuthorizerTypeField,
            "authorizers[].service of an external authorizer (oauth2-proxy: the chart's Service name)",
        ),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/port",
        "minimum",
        Check(Code::PortRange, "authorizers[].port (oauth2-proxy: 80)"),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/port",
        "maximum",
        Check(Code::PortRange, "authorizers[].port (oauth2-proxy: 80)"),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/timeout",
        "pattern",
        Check(Code::AuthorizerTimeoutWholeSeconds, "authorizers[].timeout"),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/headers",
        "additionalProperties",
        Check(
            Code::SchemaUnknownField,
            "authorizers[].headers (spec schema AuthorizerHeaders, InCheck, ToUpstream, ToDownstream)",
        ),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/headers/properties/inCheck",
        "additionalProperties",
        Check(
            Code::SchemaUnknownField,
            "authorizers[].headers (spec schema AuthorizerHeaders, InCheck, ToUpstream, ToDownstream)",
        ),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/headers/properties/toUpstream",
        "additionalProperties",
        Check(
            Code::SchemaUnknownField,
            "authorizers[].headers (spec schema AuthorizerHeaders, InCheck, ToUpstream, ToDownstream)",
        ),
    ),
    (
        "istio-authorizers",
        "/$defs/authorizer/properties/headers/properties/toDownstream",
        "additionalProperties",
        Check(
            Code::SchemaUnknownField,
            "authorizers[].headers (spec schema AuthorizerHeaders, InCheck, ToUpstream, ToDownstream)",
        ),
    ),
    (
        "oauth2-proxy-values",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "oauth2-proxy-values",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "oauth2-proxy-values",
        "/properties/config",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "oauth2-proxy-values",
        "/properties/config",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "oauth2-proxy-values",
        "/properties/config/properties/existingSecret",
        "minLength",
        Writer(
            "credentials_secret: the spec's credentialsSecret (checked as a name) or <name>-credentials",
        ),
    ),
    (
        "oauth2-proxy-values",
        "/properties/extraArgs",
        "propertyNames",
        Check(
            Code::Oauth2ProxyUnknownFlag,
            "authorizers[].extraArgs keys (flags of oauth2-proxy 7.15.3; kexpose's own flags are constants)",
        ),
    ),
    (
        "oauth2-proxy-values",
        "/properties/extraArgs/propertyNames",
        "pattern",
        Check(
            Code::Oauth2ProxyUnknownFlag,
            "authorizers[].extraArgs keys (flags of oauth2-proxy 7.15.3; kexpose's own flags are constants)",
        ),
    ),
    (
        "namespace",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "namespace",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "namespace",
        "/properties/apiVersion",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "namespace",
        "/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "namespace",
        "/properties/metadata",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "namespace",
        "/properties/metadata",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "namespace",
        "/properties/metadata/properties/name",
        "maxLength",
        Check(
            Code::NameInvalid,
            "workload namespaces and authorizer namespaces",
        ),
    ),
    (
        "namespace",
        "/properties/metadata/properties/name",
        "pattern",
        Check(
            Code::NameInvalid,
            "workload namespaces and authorizer namespaces",
        ),
    ),
    (
        "namespace",
        "/properties/metadata/properties/labels",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "namespace",
        "/properties/metadata/properties/labels/properties/istio-injection",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "kustomization",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "kustomization",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "kustomization",
        "/properties/apiVersion",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "kustomization",
        "/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "kustomization",
        "/properties/resources",
        "uniqueItems",
        Check(
            Code::WorkloadDuplicate,
            "one file per (namespace, name); the other files are single",
        ),
    ),
    (
        "kustomization",
        "/properties/resources/items",
        "pattern",
        Writer("relative paths the renderer builds from checked names"),
    ),
    (
        "argocd-application",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/apiVersion",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/metadata",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/metadata",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/metadata/properties/finalizers/items",
        "minLength",
        Writer("no finalizers are written"),
    ),
    (
        "argocd-application",
        "/properties/spec",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/project",
        "minLength",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/source",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/source",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/source/properties/repoURL",
        "pattern",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/source/properties/chart",
        "minLength",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/source/properties/targetRevision",
        "minLength",
        Check(
            Code::SchemaInvalidValue,
            "authorizers[].chartVersion (SemVer)",
        ),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/source/properties/helm",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/source/properties/helm/properties/releaseName",
        "minLength",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/destination",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/destination",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/destination/properties/server",
        "pattern",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/syncPolicy",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/syncPolicy/properties/automated",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/syncPolicy/properties/syncOptions/items",
        "pattern",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/syncPolicy/properties/retry",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/properties/spec/properties/syncPolicy/properties/retry/properties/backoff",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "argocd-application",
        "/$defs/rfc1123Label",
        "maxLength",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "argocd-application",
        "/$defs/rfc1123Label",
        "pattern",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "argocd-application",
        "/$defs/dnsSubdomain",
        "maxLength",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "argocd-application",
        "/$defs/dnsSubdomain",
        "pattern",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrepository",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "/properties/apiVersion",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "/properties/metadata",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "/properties/metadata",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "/properties/spec",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "/properties/spec",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrepository",
        "/properties/spec/properties/url",
        "pattern",
        Writer("the constant chart repository URL; no type is written"),
    ),
    (
        "flux-helmrepository",
        "/properties/spec/properties/type",
        "enum",
        Writer("the constant chart repository URL; no type is written"),
    ),
    (
        "flux-helmrepository",
        "/$defs/duration",
        "pattern",
        Writer("constant intervals 10m and 1h"),
    ),
    (
        "flux-helmrepository",
        "/$defs/rfc1123Label",
        "maxLength",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrepository",
        "/$defs/rfc1123Label",
        "pattern",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrepository",
        "/$defs/dnsSubdomain",
        "maxLength",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrepository",
        "/$defs/dnsSubdomain",
        "pattern",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrelease",
        "",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/apiVersion",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/metadata",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/metadata",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/releaseName",
        "minLength",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart/properties/spec",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart/properties/spec",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart/properties/spec/properties/chart",
        "minLength",
        Writer(
            "constants (chart repository, chart, project, server, sync option) and the release name",
        ),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart/properties/spec/properties/version",
        "minLength",
        Check(
            Code::SchemaInvalidValue,
            "authorizers[].chartVersion (SemVer)",
        ),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart/properties/spec/properties/sourceRef",
        "additionalProperties",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart/properties/spec/properties/sourceRef",
        "required",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/properties/spec/properties/chart/properties/spec/properties/sourceRef/properties/kind",
        "const",
        Writer("the writer writes the template's keys and constants"),
    ),
    (
        "flux-helmrelease",
        "/$defs/duration",
        "pattern",
        Writer("constant intervals 10m and 1h"),
    ),
    (
        "flux-helmrelease",
        "/$defs/rfc1123Label",
        "maxLength",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrelease",
        "/$defs/rfc1123Label",
        "pattern",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrelease",
        "/$defs/dnsSubdomain",
        "maxLength",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
    (
        "flux-helmrelease",
        "/$defs/dnsSubdomain",
        "pattern",
        Check(
            Code::NameInvalid,
            "authorizers[].name and namespace; --argocd-namespace by Target::new",
        ),
    ),
];

/// The keywords that constrain an instance (`type` aside, see the module comment);
/// `additionalProperties` only where it is `false`.
const KEYWORDS: &[&str] = &[
    "pattern",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "required",
    "format",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "oneOf",
    "anyOf",
    "not",
    "additionalProperties",
    "propertyNames",
    "allOf",
    "if",
    "dependentRequired",
    "patternProperties",
    "multipleOf",
    "contains",
];

/// Every constrained node of a schema: (pointer, keyword).
fn constrained(node: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match node {
        Value::Object(m) => {
            for (k, v) in m {
                if KEYWORDS.contains(&k.as_str())
                    && (k != "additionalProperties" || *v == Value::Bool(false))
                {
                    out.push((at.to_string(), k.clone()));
                }
                match k.as_str() {
                    "properties" | "$defs" | "patternProperties" => {
                        for (name, child) in v.as_object().into_iter().flatten() {
                            constrained(child, &format!("{at}/{k}/{name}"), out);
                        }
                    }
                    "enum" | "const" | "required" | "examples" | "default" => {}
                    _ => constrained(v, &format!("{at}/{k}"), out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                constrained(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn schema_file(kind: super::Kind) -> &'static str {
    use super::Kind;
    match kind {
        Kind::ApiRule => "apirule-v2",
        Kind::Istio => "istio-authorizers",
        Kind::HelmValues => "oauth2-proxy-values",
        Kind::Namespace => "namespace",
        Kind::Kustomization => "kustomization",
        Kind::ArgoApplication => "argocd-application",
        Kind::FluxHelmRepository => "flux-helmrepository",
        Kind::FluxHelmRelease => "flux-helmrelease",
        _ => unreachable!("only template outputs are in OUTPUTS"),
    }
}

#[test]
fn every_output_schema_constraint_is_enforced() {
    let mut found = Vec::new();
    for o in &super::OUTPUTS {
        let file = schema_file(o.kind);
        let schema: serde_json::Value = serde_json::from_str(o.schema).unwrap();
        let mut nodes = Vec::new();
        constrained(&schema, "", &mut nodes);
        assert!(!nodes.is_empty(), "{file}");
        for (at, keyword) in nodes {
            found.push((file, at, keyword));
        }
    }
    let uncovered: Vec<_> = found
        .iter()
        .filter(|(f, at, k)| {
            !TABLE
                .iter()
                .any(|(tf, tat, tk, _)| tf == f && tat == at && tk == k)
        })
        .collect();
    assert!(
        uncovered.is_empty(),
        "output schema constraints that no check or writer rule covers (add a check and a row, or keep the schema check for built-ins): {uncovered:#?}"
    );
    let stale: Vec<_> = TABLE
        .iter()
        .filter(|(tf, tat, tk, _)| {
            !found
                .iter()
                .any(|(f, at, k)| tf == f && tat == at && tk == k)
        })
        .collect();
    assert!(
        stale.is_empty(),
        "rows for constraints the schemas no longer have: {stale:#?}"
    );
}

/// Each code named in the table is the code of a real finding: some bad-input case expects it.
#[test]
fn every_proving_check_fires_on_a_bad_input() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut expected = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| l.starts_with("# expect: ")) {
            expected.push_str(line);
            expected.push('\n');
        }
    }
    for (file, at, keyword, proof) in TABLE {
        if let Check(code, fields) = proof {
            assert!(
                expected.contains(&format!("# expect: {} ", code.as_str())),
                "{file} {at} {keyword}: no bad-input case expects {} ({fields})",
                code.as_str()
            );
        }
        if let Writer(why) = proof {
            assert!(!why.is_empty());
        }
    }
}

/// A spec at the edges the checks allow: 63-character names and namespaces, a 253-character
/// host, ports 1 and 65535, timeouts 1 and 3900, every method, every access kind; for every
/// target, its built-in output validates against the output schemas.
#[test]
fn render_validates_boundary_specs() {
    use crate::plan::{ReleaseObjects, Target};
    let long = |c: char| format!("{c}{}", "-x".repeat(31)); // 63 characters
    let (ns, name, auth) = (long('n'), long('w'), format!("a{}", "-x".repeat(26))); // 53
    // A host of 253 characters: labels of 63 under the domain.
    let domain = "c.example.com";
    let host = format!(
        "{}.{}.{}.{}.{domain}",
        "h".repeat(63),
        "i".repeat(63),
        "j".repeat(63),
        "k".repeat(253 - 3 * 64 - 1 - domain.len())
    );
    assert_eq!(host.len(), 253);
    let methods = "[GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH]";
    for (port, timeout) in [(1, 1), (65535, 3900)] {
        let spec = format!(
            "apiVersion: kexpose.dev/v1alpha1
kind: Exposure
metadata:
  name: {name}
cluster:
  domain: {domain}
identityProviders:
  - name: idp
    issuer: https://idp.example.com
    jwksUri: https://idp.example.com/keys
authorizers:
  - name: {auth}
    type: oauth2-proxy
    identityProvider: idp
    namespace: {ns}
  - name: ext
    type: external
    service: ext.{ns}.svc.cluster.local
    port: {port}
    timeout: {timeout}s
workloads:
  - name: {name}
    namespace: {ns}
    host: {host}
    timeout: {timeout}
    service:
      name: {name}
      port: {port}
    cors:
      allowOrigins: [{{exact: https://x.example.com}}]
      maxAge: 1
    rules:
      - path: /a/{{*}}/b/{{**}}
        methods: {methods}
        noAuth: true
      - path: /j/{{**}}
        methods: [GET]
        jwt:
          identityProvider: idp
        timeout: {timeout}
      - path: /x/{{**}}
        methods: [POST]
        extAuth:
          authorizers: [{auth}, ext]
        service:
          name: other
          namespace: {ns}
          port: {port}
  - name: short
    namespace: {ns}
    host: '*.{domain}'
    externalGateway: {ns}/{name}
    service:
      name: s
      port: {port}
    rules:
      - path: /*
        methods: [GET]
        extAuth:
          authorizers: [ext]
          identityProviders: [idp]
          audiences: [a]
"
        );
        let targets = [
            Target::default(),
            Target::new(
                false,
                Some(ReleaseObjects::Argocd),
                Some(ns.clone()),
                Some((name.clone(), "--instance")),
            )
            .unwrap(),
            Target::new(true, Some(ReleaseObjects::Flux), None, None).unwrap(),
        ];
        for target in &targets {
            let c = crate::compile_for(
                crate::source::SourceFile::new("kexpose.yaml", spec.as_str()),
                "kexpose.yaml",
                &super::Templates::builtin(),
                &crate::diag::Policy::default(),
                target,
            );
            let errors: Vec<_> = c
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{} {}", d.code.as_str(), d.message))
                .collect();
            assert!(errors.is_empty(), "{errors:#?}\n{spec}");
            let outputs = c.outputs.expect("outputs");
            let mut validated = 0;
            for (path, text) in &outputs {
                let kind = match path.as_str() {
                    p if p.starts_with("apirules/") => super::Kind::ApiRule,
                    p if p.ends_with("values.yaml") => super::Kind::HelmValues,
                    p if p.ends_with("application.yaml") => super::Kind::ArgoApplication,
                    p if p.ends_with("helmrepository.yaml") => super::Kind::FluxHelmRepository,
                    p if p.ends_with("helmrelease.yaml") => super::Kind::FluxHelmRelease,
                    "istio/authorizers.yaml" => super::Kind::Istio,
                    "namespaces.yaml" => super::Kind::Namespace,
                    "kustomization.yaml" => super::Kind::Kustomization,
                    other => panic!("unexpected output {other}"),
                };
                for doc in crate::yaml::split_documents(text) {
                    let value = super::full_parse(path, doc).unwrap();
                    if let Err(e) = super::schemas::validate(kind, &value) {
                        panic!("{path}: {e}\n{doc}");
                    }
                    validated += 1;
                }
            }
            assert!(validated >= 6, "{validated}");
        }
    }
}
