//! `kexpose import`: existing manifests in, a kexpose spec out.
//!
//! Reads APIRules (`gateway.kyma-project.io/v2`, `v2alpha1` and `v1beta1`) and the Istio custom
//! resource (`operator.kyma-project.io/v1alpha2`, for `spec.config.authorizers`) from
//! multi-document YAML files and `kubectl get … -o yaml` List output, and builds one
//! [`Spec`]. Every finding points at the source object (`file:line:col`, through the
//! loader's pointer table).
//!
//! - v2 and v2alpha1 map field for field: `render` of the imported spec gives back the same
//!   APIRules (normalised: generated labels, the default gateway written out, a workload
//!   service no rule uses dropped). `tests/import.rs` checks that round trip.
//! - v1beta1 follows Kyma's migration rules (`import/v1beta1.rs`); what cannot be migrated exactly is
//!   reported with what the user must decide.
//! - Identity providers are deduplicated by (issuer, JWKS, token location) and named from the
//!   issuer (`import/names.rs`); authorizers come from the Istio CR, always as `type: external` (what
//!   the registration says is all that is known; see `import-authorizer-type`).

mod names;
mod v1beta1;

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use crate::spec::{
    self, ApiVersion, Authorization, Authorizer, AuthorizerHeaders, AuthorizerType, Cors,
    ExtAuthAccess, FromHeader, IdentityProvider, Kind, RequestMutators, Rule, RuleService, Spec,
    TokenRequirements, Workload, WorkloadService,
};
use crate::yaml::{self, PointerTable};
use serde_json::Value;
use std::collections::HashMap;

/// The findings about one document of one input file.
#[derive(Debug)]
pub struct Findings {
    /// The document (the file's name; lines before the document are blank, so line numbers
    /// are the file's).
    pub source: SourceFile,
    /// What was found.
    pub diagnostics: Vec<Diagnostic>,
}

/// The result of an import.
#[derive(Debug)]
pub struct Imported {
    /// The spec, unless there are errors.
    pub spec: Option<Spec>,
    /// The spec as YAML (with a header naming the inputs), unless there are errors.
    pub text: Option<String>,
    /// Findings, per document.
    pub findings: Vec<Findings>,
    /// APIRules imported, by apiVersion (`v2`, `v2alpha1`, `v1beta1`).
    pub counts: Vec<(String, usize)>,
}

impl Imported {
    /// Did anything fail?
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.diagnostics.iter().any(Diagnostic::is_error))
    }
}

/// The APIRule group.
const APIRULE_GROUP: &str = "gateway.kyma-project.io/";
/// The Istio CR group.
const ISTIO_GROUP: &str = "operator.kyma-project.io/";

/// Import the given files (name, text), in order.
pub fn import(sources: Vec<SourceFile>) -> Imported {
    let mut im = Importer::default();
    let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    for src in sources {
        for doc_src in split(&src) {
            im.document(doc_src);
        }
    }
    im.finish(&names)
}

/// One document of a file, as a source of its own: the lines before it are blank, so that
/// line numbers are the file's; columns are unchanged.
fn split(src: &SourceFile) -> Vec<SourceFile> {
    let mut docs = Vec::new();
    let mut start_line = 0usize;
    let mut start = 0usize;
    let mut offset = 0usize;
    let mut push = |from_line: usize, text: &str| {
        let has_content = text
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        if has_content {
            let mut t = "\n".repeat(from_line);
            t.push_str(text);
            docs.push(SourceFile::new(src.name.clone(), t));
        }
    };
    for (line_no, line) in src.text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        if bare == "---" || bare.starts_with("--- ") || bare == "..." {
            push(start_line, &src.text[start..offset]);
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    push(start_line, &src.text[start..]);
    docs
}

/// Where a finding goes: the document and its pointer table.
struct Doc<'a> {
    pointers: &'a PointerTable,
    text: &'a str,
    diags: Vec<Diagnostic>,
}

impl Doc<'_> {
    /// The value's span; for a value over several lines (a mapping, a list), its key's: an
    /// excerpt never shows more than one line of the input (which may hold credentials, such
    /// as an introspection handler's `Authorization` header).
    fn span(&self, pointer: &str) -> Option<Span> {
        let v = self.pointers.value_span(pointer)?;
        let multi_line = self
            .text
            .get(v.start..v.end)
            .is_some_and(|t| t.contains('\n'));
        if multi_line {
            self.pointers.key_span(pointer)
        } else {
            Some(v)
        }
    }
    fn push(&mut self, code: Code, pointer: &str, message: String, help: &str) {
        let span = self.span(pointer);
        let mut d = Diagnostic::new(code, span, message);
        if !help.is_empty() {
            d = d.help(help);
        }
        self.diags.push(d);
    }
    fn invalid(&mut self, pointer: &str, message: String) {
        self.push(
            Code::ImportInvalidObject,
            pointer,
            message,
            "fix the manifest (the API server would not accept it either), or leave it out",
        );
    }
}

/// An authorizer as known from the Istio CR, with where it came from.
struct KnownAuthorizer {
    authorizer: Authorizer,
}

#[derive(Default)]
struct Importer {
    findings: Vec<Findings>,
    providers: Vec<IdentityProvider>,
    /// (issuer, jwks, fromHeaders, fromParams) as JSON → provider name.
    provider_keys: HashMap<String, String>,
    authorizers: Vec<KnownAuthorizer>,
    /// References to authorizers, checked once every Istio CR is read: (finding index, span).
    authorizer_refs: Vec<(usize, String, Option<Span>)>,
    workloads: Vec<Workload>,
    seen: HashMap<(String, String), usize>,
    counts: Vec<(String, usize)>,
    /// The oauth2-proxy authorizer created for migrated Oathkeeper OAuth2 handlers.
    migration_authorizer: Option<String>,
}

impl Importer {
    fn document(&mut self, src: SourceFile) {
        let parsed = match yaml::parse(&src, true) {
            Ok(d) => d,
            Err(diags) => {
                self.findings.push(Findings {
                    source: src,
                    diagnostics: diags,
                });
                return;
            }
        };
        let mut doc = Doc {
            pointers: &parsed.pointers,
            text: &src.text,
            diags: Vec::new(),
        };
        let index = self.findings.len();
        let mut objects = Vec::new();
        collect_objects(&parsed.value, "", &mut objects);
        for (pointer, obj) in objects {
            self.object(&mut doc, index, &pointer, obj);
        }
        let diags = doc.diags;
        self.findings.push(Findings {
            source: src,
            diagnostics: diags,
        });
    }

    fn object(&mut self, doc: &mut Doc, index: usize, p: &str, obj: &Value) {
        let api = obj["apiVersion"].as_str().unwrap_or_default();
        let kind = obj["kind"].as_str().unwrap_or_default();
        match (kind, api.strip_prefix(APIRULE_GROUP)) {
            ("APIRule", Some(version @ ("v2" | "v2alpha1"))) => {
                self.count(version);
                self.apirule_v2(doc, index, p, obj);
            }
            ("APIRule", Some("v1beta1")) => {
                self.count("v1beta1");
                v1beta1::apirule(self, doc, index, p, obj);
            }
            ("APIRule", _) => doc.push(
                Code::ImportUnsupportedVersion,
                &format!("{p}/apiVersion"),
                format!("APIRule `{api}` is not a version kexpose imports"),
                "kexpose imports gateway.kyma-project.io/v2, v2alpha1 and v1beta1; read the object back from the cluster (`kubectl get apirules.v2.gateway.kyma-project.io -A -o yaml`)",
            ),
            ("Istio", _) if api.starts_with(ISTIO_GROUP) => self.istio(doc, p, obj),
            // Deployments, Services and the rest: not kexpose's business.
            _ => {}
        }
    }

    fn count(&mut self, version: &str) {
        match self.counts.iter_mut().find(|(v, _)| v == version) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((version.to_string(), 1)),
        }
    }

    /// The identity provider for an APIRule `authentications` entry, created on first use.
    fn provider(&mut self, auth: &Value) -> Option<String> {
        let issuer = auth["issuer"].as_str()?.to_string();
        let jwks = auth["jwksUri"].as_str().map(str::to_string);
        let from_headers: Option<Vec<FromHeader>> = auth
            .get("fromHeaders")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .filter(|v: &Vec<FromHeader>| !v.is_empty());
        let from_params: Option<Vec<String>> = auth
            .get("fromParams")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .filter(|v: &Vec<String>| !v.is_empty());
        Some(self.provider_for(issuer, jwks, from_headers, from_params))
    }

    fn provider_for(
        &mut self,
        issuer: String,
        jwks: Option<String>,
        from_headers: Option<Vec<FromHeader>>,
        from_params: Option<Vec<String>>,
    ) -> String {
        let key = serde_json::json!([issuer, jwks, from_headers, from_params]).to_string();
        if let Some(name) = self.provider_keys.get(&key) {
            return name.clone();
        }
        let taken: Vec<&str> = self.providers.iter().map(|p| p.name.as_str()).collect();
        let name = names::unique(&names::provider_name(&issuer), &taken);
        self.providers.push(IdentityProvider {
            name: name.clone(),
            issuer,
            jwks_uri: jwks,
            from_headers,
            from_params,
        });
        self.provider_keys.insert(key, name.clone());
        name
    }

    /// `authentications` + `authorizations` → token requirements.
    fn requirements(&mut self, doc: &mut Doc, p: &str, v: &Value) -> TokenRequirements {
        let mut req = TokenRequirements::default();
        let mut providers = Vec::new();
        if let Some(list) = v["authentications"].as_array() {
            for (i, a) in list.iter().enumerate() {
                match self.provider(a) {
                    Some(n) => providers.push(n),
                    None => doc.invalid(
                        &format!("{p}/authentications/{i}"),
                        "an authentication without an `issuer`".into(),
                    ),
                }
            }
        }
        providers.dedup();
        match providers.len() {
            0 => {}
            1 => req.identity_provider = providers.pop(),
            _ => req.identity_providers = Some(providers),
        }
        if let Some(list) = v["authorizations"].as_array() {
            let parsed: Vec<Authorization> = list
                .iter()
                .enumerate()
                .filter_map(|(i, a)| match serde_json::from_value(a.clone()) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        doc.invalid(&format!("{p}/authorizations/{i}"), format!("{e}"));
                        None
                    }
                })
                .collect();
            match parsed.as_slice() {
                [] => {}
                [one] if one.required_scopes.is_some() || one.audiences.is_some() => {
                    req.required_scopes = one.required_scopes.clone();
                    req.audiences = one.audiences.clone();
                }
                _ => req.authorizations = Some(parsed),
            }
        }
        req
    }

    fn apirule_v2(&mut self, doc: &mut Doc, index: usize, p: &str, obj: &Value) {
        let Some((name, namespace)) = self.identity(doc, p, obj) else {
            return;
        };
        let s = &obj["spec"];
        let sp = format!("{p}/spec");
        let Some(hosts) = s["hosts"].as_array().filter(|h| !h.is_empty()) else {
            doc.invalid(&sp, "an APIRule without `hosts`".into());
            return;
        };
        if hosts.len() > 1 {
            doc.push(
                Code::ImportExtraHosts,
                &format!("{sp}/hosts/1"),
                format!(
                    "`{namespace}/{name}` has {} hosts; a kexpose workload has one, so only the first is imported",
                    hosts.len()
                ),
                "add one workload per further host (each becomes its own APIRule, named as you choose)",
            );
        }
        let host = hosts[0].as_str().unwrap_or_default().to_string();
        let gateway = s["gateway"].as_str().map(str::to_string);
        let external_gateway = s["externalGateway"].as_str().map(str::to_string);
        let mut rules = Vec::new();
        let Some(list) = s["rules"].as_array() else {
            doc.invalid(&sp, "an APIRule without `rules`".into());
            return;
        };
        for (i, r) in list.iter().enumerate() {
            let rp = format!("{sp}/rules/{i}");
            if let Some(rule) = self.rule_v2(doc, index, &rp, r) {
                rules.push(rule);
            }
        }
        let every_rule_has_service = !rules.is_empty() && rules.iter().all(|r| r.service.is_some());
        let service = s
            .get("service")
            .filter(|_| !every_rule_has_service)
            .and_then(|v| workload_service(doc, &format!("{sp}/service"), v, &name));
        let cors = s.get("corsPolicy").and_then(|v| {
            serde_json::from_value::<Cors>(v.clone())
                .map_err(|e| doc.invalid(&format!("{sp}/corsPolicy"), e.to_string()))
                .ok()
        });
        let w = Workload {
            name,
            namespace,
            host,
            gateway: gateway.filter(|g| g != spec::DEFAULT_GATEWAY || external_gateway.is_some()),
            external_gateway,
            service,
            timeout: s["timeout"].as_i64(),
            cors,
            rules,
            selector: None,
            allow_in_cluster_callers: None,
        };
        self.add_workload(doc, p, w);
    }

    /// `metadata.name` and `metadata.namespace`.
    fn identity(&mut self, doc: &mut Doc, p: &str, obj: &Value) -> Option<(String, String)> {
        let name = obj["metadata"]["name"].as_str();
        let namespace = obj["metadata"]["namespace"].as_str();
        match (name, namespace) {
            (Some(n), Some(ns)) => Some((n.to_string(), ns.to_string())),
            (None, _) => {
                doc.invalid(
                    &format!("{p}/metadata"),
                    "an APIRule without `metadata.name`".into(),
                );
                None
            }
            (Some(n), None) => {
                doc.push(
                    Code::ImportInvalidObject,
                    &format!("{p}/metadata"),
                    format!("APIRule `{n}` has no `metadata.namespace`"),
                    "add the namespace the APIRule is applied in (kubectl's `-n` is not recorded in the file)",
                );
                None
            }
        }
    }

    fn add_workload(&mut self, doc: &mut Doc, p: &str, w: Workload) {
        let key = (w.namespace.clone(), w.name.clone());
        if self.seen.contains_key(&key) {
            doc.push(
                Code::ImportDuplicate,
                &format!("{p}/metadata/name"),
                format!(
                    "APIRule `{}/{}` was already imported; this copy is ignored",
                    key.0, key.1
                ),
                "import each APIRule once (e.g. not both the repository's manifest and the cluster's copy)",
            );
            return;
        }
        self.seen.insert(key, self.workloads.len());
        self.workloads.push(w);
    }

    fn rule_v2(&mut self, doc: &mut Doc, index: usize, rp: &str, r: &Value) -> Option<Rule> {
        let path = r["path"].as_str().unwrap_or_default().to_string();
        let methods: Vec<String> = r["methods"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut rule = empty_rule(path, methods);
        let no_auth = r["noAuth"].as_bool() == Some(true);
        let jwt = r.get("jwt").filter(|v| !v.is_null());
        let ext = r.get("extAuth").filter(|v| !v.is_null());
        match (no_auth, jwt, ext) {
            (true, None, None) => rule.no_auth = Some(true),
            (false, Some(j), None) => {
                rule.jwt = Some(self.requirements(doc, &format!("{rp}/jwt"), j));
            }
            (false, None, Some(e)) => {
                let authorizers: Vec<String> = e["authorizers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                for (i, a) in authorizers.iter().enumerate() {
                    let span = doc.span(&format!("{rp}/extAuth/authorizers/{i}"));
                    self.authorizer_refs.push((index, a.clone(), span));
                }
                let req = match e.get("restrictions") {
                    Some(r) => self.requirements(doc, &format!("{rp}/extAuth/restrictions"), r),
                    None => TokenRequirements::default(),
                };
                rule.ext_auth = Some(ext_auth(authorizers, req));
            }
            _ => {
                doc.invalid(
                    rp,
                    "a rule without exactly one of `noAuth: true`, `jwt`, `extAuth` (the CRD rejects it)".into(),
                );
                return None;
            }
        }
        rule.service = r
            .get("service")
            .and_then(|v| rule_service(doc, &format!("{rp}/service"), v));
        rule.timeout = r["timeout"].as_i64();
        rule.request = r.get("request").and_then(|v| {
            serde_json::from_value::<RequestMutators>(v.clone())
                .map_err(|e| doc.invalid(&format!("{rp}/request"), e.to_string()))
                .ok()
        });
        Some(rule)
    }

    fn istio(&mut self, doc: &mut Doc, p: &str, obj: &Value) {
        let Some(list) = obj["spec"]["config"]["authorizers"].as_array() else {
            return;
        };
        for (i, a) in list.iter().enumerate() {
            let ap = format!("{p}/spec/config/authorizers/{i}");
            let (Some(name), Some(service), Some(port)) = (
                a["name"].as_str(),
                a["service"].as_str(),
                a["port"].as_i64(),
            ) else {
                doc.invalid(
                    &ap,
                    "an authorizer without `name`, `service` or `port` (the Istio CRD requires them)".into(),
                );
                continue;
            };
            if self.authorizers.iter().any(|k| k.authorizer.name == name) {
                doc.push(
                    Code::ImportDuplicate,
                    &format!("{ap}/name"),
                    format!("authorizer `{name}` was already imported; this one is ignored"),
                    "import one Istio CR (the cluster has one, `kyma-system/default`)",
                );
                continue;
            }
            let headers = match a.get("headers") {
                Some(h) => match serde_json::from_value::<AuthorizerHeaders>(h.clone()) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        doc.invalid(&format!("{ap}/headers"), e.to_string());
                        continue;
                    }
                },
                None => None,
            };
            if names::looks_like_oauth2_proxy(name, service) {
                doc.push(
                    Code::ImportAuthorizerType,
                    &format!("{ap}/service"),
                    format!(
                        "authorizer `{name}` looks like an oauth2-proxy; it is imported as `type: external` (kexpose registers it, someone else deploys it), because its identity provider, client and flags are not in the Istio CR"
                    ),
                    "to let kexpose write its Helm values, change it to `type: oauth2-proxy` with `identityProvider`, `namespace` and `credentialsSecret` (and drop `service`/`port`)",
                );
            }
            self.authorizers.push(KnownAuthorizer {
                authorizer: Authorizer {
                    name: name.to_string(),
                    kind: AuthorizerType::External,
                    identity_provider: None,
                    namespace: None,
                    chart_version: None,
                    credentials_secret: None,
                    client_id: None,
                    audiences: None,
                    extra_args: None,
                    service: Some(service.to_string()),
                    port: Some(port),
                    path_prefix: a["pathPrefix"].as_str().map(str::to_string),
                    timeout: a["timeout"].as_str().map(str::to_string),
                    headers,
                },
            });
        }
    }

    fn finish(mut self, inputs: &[String]) -> Imported {
        // References to authorizers no imported Istio CR registers.
        for (index, name, span) in std::mem::take(&mut self.authorizer_refs) {
            let known = self.authorizers.iter().any(|k| k.authorizer.name == name)
                || self.migration_authorizer.as_deref() == Some(name.as_str());
            if !known {
                self.findings[index].diagnostics.push(
                    Diagnostic::new(
                        Code::ImportAuthorizerUnknown,
                        span,
                        format!("authorizer `{name}` is not registered in any imported Istio CR"),
                    )
                    .help("import the Istio CR too: `kubectl get istio default -n kyma-system -o yaml > istio.yaml`"),
                );
            }
        }
        let failed = self
            .findings
            .iter()
            .any(|f| f.diagnostics.iter().any(Diagnostic::is_error));
        // Only a root cause: when objects were rejected, they are the reason.
        if self.workloads.is_empty() && self.authorizers.is_empty() && !failed {
            let source = SourceFile::new(inputs.join(", "), "");
            self.findings.push(Findings {
                source,
                diagnostics: vec![
                    Diagnostic::new(
                        Code::ImportNothing,
                        None,
                        "no APIRule and no Istio CR authorizer in the input".to_string(),
                    )
                    .help("pass files with APIRules (`kubectl get apirules -A -o yaml`) or the Istio CR"),
                ],
            });
        }
        let mut imported = Imported {
            spec: None,
            text: None,
            findings: self.findings,
            counts: self.counts,
        };
        if imported.has_errors() {
            return imported;
        }
        let spec = Spec {
            api_version: ApiVersion::V1Alpha1,
            kind: Kind::Exposure,
            metadata: None,
            cluster: None,
            identity_providers: self.providers,
            authorizers: self.authorizers.into_iter().map(|k| k.authorizer).collect(),
            workloads: self.workloads,
        };
        imported.text = Some(spec_text(&spec, inputs));
        imported.spec = Some(spec);
        imported
    }
}

/// The spec as YAML, with a header naming the inputs.
pub fn spec_text(spec: &Spec, inputs: &[String]) -> String {
    let value = serde_json::to_value(spec).expect("spec types are JSON");
    let body = yaml::emit(&value, false).expect("a spec is YAML");
    let mut out = String::from("# Written by `kexpose import` from:\n");
    for i in inputs {
        out.push_str(&format!("#   {}\n", i.replace('\n', " ")));
    }
    out.push_str("# Review every warning it printed before rendering.\n");
    out.push_str(&body);
    out
}

/// Every object of a document: the document itself, or the items of a `…List`.
fn collect_objects<'a>(v: &'a Value, p: &str, out: &mut Vec<(String, &'a Value)>) {
    let kind = v["kind"].as_str().unwrap_or_default();
    if kind.ends_with("List") {
        if let Some(items) = v["items"].as_array() {
            for (i, item) in items.iter().enumerate() {
                collect_objects(item, &format!("{p}/items/{i}"), out);
            }
        }
        return;
    }
    if v.is_object() {
        out.push((p.to_string(), v));
    }
}

fn empty_rule(path: String, methods: Vec<String>) -> Rule {
    Rule {
        path,
        methods,
        no_auth: None,
        jwt: None,
        ext_auth: None,
        service: None,
        timeout: None,
        request: None,
    }
}

fn ext_auth(authorizers: Vec<String>, req: TokenRequirements) -> ExtAuthAccess {
    ExtAuthAccess {
        authorizers,
        identity_provider: req.identity_provider,
        identity_providers: req.identity_providers,
        required_scopes: req.required_scopes,
        audiences: req.audiences,
        authorizations: req.authorizations,
    }
}

fn workload_service(doc: &mut Doc, p: &str, v: &Value, workload: &str) -> Option<WorkloadService> {
    let Some(port) = v["port"].as_i64() else {
        doc.invalid(p, "a service without `port`".into());
        return None;
    };
    Some(WorkloadService {
        name: v["name"]
            .as_str()
            .filter(|n| *n != workload)
            .map(str::to_string),
        port,
        namespace: v["namespace"].as_str().map(str::to_string),
        external: v["external"].as_bool(),
    })
}

fn rule_service(doc: &mut Doc, p: &str, v: &Value) -> Option<RuleService> {
    let (Some(name), Some(port)) = (v["name"].as_str(), v["port"].as_i64()) else {
        doc.invalid(p, "a rule service without `name` or `port`".into());
        return None;
    };
    Some(RuleService {
        name: name.to_string(),
        port,
        namespace: v["namespace"].as_str().map(str::to_string),
        external: v["external"].as_bool(),
        selector: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_line_numbers() {
        let src = SourceFile::new("f.yaml", "# c\na: 1\n---\n# only a comment\n---\nb: 2\n");
        let docs = split(&src);
        assert_eq!(docs.len(), 2);
        let d = yaml::parse(&docs[1], true).unwrap();
        assert_eq!(d.pointers.value_span("/b").unwrap().line, 6);
    }
}
