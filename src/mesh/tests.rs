//! The reference's worked example (api-gateway translation, §3), object by object.

use super::*;

const ING: &str = DEFAULT_INGRESS_PRINCIPAL;

/// The worked example's APIRule, as kexpose renders APIRules.
pub(crate) fn orders_apirule() -> Value {
    json!({
        "apiVersion": "gateway.kyma-project.io/v2",
        "kind": "APIRule",
        "metadata": { "name": "orders", "namespace": "shop" },
        "spec": {
            "gateway": "kyma-system/kyma-gateway",
            "hosts": ["orders.example.com"],
            "service": { "name": "orders", "port": 8080 },
            "timeout": 60,
            "corsPolicy": {
                "allowOrigins": [{ "exact": "https://app.example.com" }],
                "allowMethods": ["GET", "POST", "DELETE"],
                "allowHeaders": ["Authorization", "Content-Type"],
                "allowCredentials": true,
                "maxAge": 600
            },
            "rules": [
                { "path": "/healthz", "methods": ["GET"], "noAuth": true },
                { "path": "/api/orders/{*}", "methods": ["GET", "DELETE"],
                  "jwt": {
                    "authentications": [{ "issuer": "https://idp.example.com",
                                          "jwksUri": "https://idp.example.com/.well-known/jwks.json" }],
                    "authorizations": [{ "requiredScopes": ["orders.read"], "audiences": ["orders-api"] }]
                  },
                  "request": { "headers": { "X-Api-Source": "apirule" } } },
                { "path": "/api/{**}", "methods": ["GET", "POST"], "timeout": 120,
                  "extAuth": {
                    "authorizers": ["oauth2-proxy"],
                    "restrictions": {
                      "authentications": [{ "issuer": "https://idp.example.com",
                                            "jwksUri": "https://idp.example.com/.well-known/jwks.json" }],
                      "authorizations": [{ "audiences": ["orders-api"] }]
                    }
                  } }
            ]
        }
    })
}

pub(crate) fn orders_settings() -> Settings {
    let mut sel = IndexMap::new();
    sel.insert("app".to_string(), "orders".to_string());
    let mut settings = Settings::default();
    settings
        .selectors
        .insert(("shop".into(), "orders".into()), sel);
    settings
}

fn cors() -> Value {
    json!({
        "allowOrigins": [{ "exact": "https://app.example.com" }],
        "allowMethods": ["GET", "POST", "DELETE"],
        "allowHeaders": ["Authorization", "Content-Type"],
        "maxAge": "600s",
        "allowCredentials": true
    })
}

fn route(uri: Value, methods: &str, timeout: &str, set: Value) -> Value {
    json!({
        "match": [{ "uri": uri, "method": { "regex": methods } }],
        "route": [{ "destination": { "host": "orders.shop.svc.cluster.local", "port": { "number": 8080 } }, "weight": 100 }],
        "timeout": timeout,
        "corsPolicy": cors(),
        "headers": { "request": { "set": set }, "response": { "remove": CORS_RESPONSE_REMOVE } }
    })
}

#[test]
fn worked_example_virtual_service() {
    let t = translate_apirule(&orders_apirule(), &orders_settings());
    assert_eq!(t.virtual_service.name, "orders");
    assert_eq!(t.virtual_service.namespace, "shop");
    let expected = json!({
        "hosts": ["orders.example.com"],
        "gateways": ["kyma-system/kyma-gateway"],
        "http": [
            route(json!({ "regex": "^/healthz$" }), "^(GET)$", "60s",
                  json!({ "x-forwarded-host": "orders.example.com" })),
            route(json!({ "regex": "^/api/orders/([A-Za-z0-9-._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$" }),
                  "^(GET|DELETE)$", "60s",
                  json!({ "x-forwarded-host": "orders.example.com", "X-Api-Source": "apirule" })),
            route(json!({ "regex": "^/api/([A-Za-z0-9-._~!$&'()*+,;=:@/]|%[0-9a-fA-F]{2})*$" }),
                  "^(GET|POST)$", "120s",
                  json!({ "x-forwarded-host": "orders.example.com" })),
        ]
    });
    assert_eq!(t.virtual_service.spec_json(), expected);
}

fn jwt_from() -> Value {
    json!([{ "source": { "principals": [ING], "requestPrincipals": ["https://idp.example.com/*"] } }])
}

#[test]
fn worked_example_authorization_policies() {
    let t = translate_apirule(&orders_apirule(), &orders_settings());
    let sel = json!({ "matchLabels": { "app": "orders" } });
    let names: Vec<&str> = t.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "orders-r0-allow",
            "orders-r1-allow-0",
            "orders-r2-custom-oauth2-proxy",
            "orders-r2-allow-0"
        ]
    );
    assert!(t.policies.iter().all(|p| p.namespace == "shop"));
    // Rule 0, noAuth: one ALLOW from the ingress principal.
    assert_eq!(
        t.policies[0].spec_json(),
        json!({
            "selector": sel, "action": "ALLOW",
            "rules": [{
                "from": [{ "source": { "principals": [ING] } }],
                "to": [{ "operation": { "hosts": ["orders.example.com"], "methods": ["GET"], "paths": ["/healthz"] } }]
            }]
        })
    );
    // Rule 1, jwt with scopes and audience: one ALLOW, three rules (scp, scope, scopes).
    let to1 = json!([{ "operation": { "hosts": ["orders.example.com"], "methods": ["GET", "DELETE"],
                                      "paths": ["/api/orders/{*}"], "notPaths": ["/healthz"] } }]);
    let rules1: Vec<Value> = ["scp", "scope", "scopes"]
        .iter()
        .map(|k| {
            json!({
                "from": jwt_from(), "to": to1,
                "when": [
                    { "key": format!("request.auth.claims[{k}]"), "values": ["orders.read"] },
                    { "key": "request.auth.claims[aud]", "values": ["orders-api"] }
                ]
            })
        })
        .collect();
    assert_eq!(
        t.policies[1].spec_json(),
        json!({ "selector": sel, "action": "ALLOW", "rules": rules1 })
    );
    // Rule 2, extAuth: CUSTOM for the authorizer, no from, no when.
    let to2 = json!([{ "operation": { "hosts": ["orders.example.com"], "methods": ["GET", "POST"],
                                      "paths": ["/api/{**}"], "notPaths": ["/healthz", "/api/orders/{*}"] } }]);
    assert_eq!(
        t.policies[2].spec_json(),
        json!({ "selector": sel, "action": "CUSTOM", "provider": { "name": "oauth2-proxy" },
                "rules": [{ "to": to2 }] })
    );
    // Rule 2, restrictions with one audience-only authorization.
    assert_eq!(
        t.policies[3].spec_json(),
        json!({ "selector": sel, "action": "ALLOW", "rules": [{
            "from": jwt_from(), "to": to2,
            "when": [{ "key": "request.auth.claims[aud]", "values": ["orders-api"] }]
        }] })
    );
}

#[test]
fn worked_example_request_authentication() {
    let t = translate_apirule(&orders_apirule(), &orders_settings());
    // Rules 1 and 2 share selector, issuer and namespace: one object.
    assert_eq!(t.request_authentications.len(), 1);
    let ra = &t.request_authentications[0];
    assert_eq!(
        (ra.name.as_str(), ra.namespace.as_str()),
        ("orders-jwt-0", "shop")
    );
    assert_eq!(
        ra.spec_json(),
        json!({
            "selector": { "matchLabels": { "app": "orders" } },
            "jwtRules": [{
                "issuer": "https://idp.example.com",
                "jwksUri": "https://idp.example.com/.well-known/jwks.json",
                "forwardOriginalToken": true
            }]
        })
    );
}

#[test]
fn not_paths_follow_generate_not_paths() {
    let rules = |v: &[(&str, &[&str])]| -> Vec<(String, Vec<String>)> {
        v.iter()
            .map(|(p, m)| (p.to_string(), m.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    // The docs' rule-order example: the second rule excludes the first's path for GET too.
    let r = rules(&[
        ("/anything/{*}/one", &["POST"]),
        ("/anything/{**}", &["POST", "GET"]),
    ]);
    assert_eq!(not_paths(&r, 1), ["/anything/{*}/one"]);
    // A catch-all current rule never stops: later rules with shared methods are excluded
    // (processor_test.go around line 263: `/` before `/new-path`).
    let r = rules(&[("/", &["GET"]), ("/new-path", &["GET"])]);
    assert_eq!(not_paths(&r, 0), ["/new-path"]);
    // An earlier `/` is never excluded (the reference's possible gap).
    let r = rules(&[("/", &["GET"]), ("/{**}", &["GET"])]);
    assert!(not_paths(&r, 1).is_empty());
    // Methods that do not intersect: nothing excluded.
    let r = rules(&[("/a", &["POST"]), ("/{**}", &["GET"])]);
    assert!(not_paths(&r, 1).is_empty());
}

#[test]
fn extension_provider_flattens_headers() {
    let p = extension_provider(&json!({
        "name": "oauth2-proxy", "service": "oauth2-proxy.oauth2-proxy.svc.cluster.local",
        "port": 80, "pathPrefix": "/verify?original=", "timeout": "5s",
        "headers": { "inCheck": { "include": ["authorization", "cookie"], "add": { "x-a": "b" } },
                     "toUpstream": { "onAllow": ["authorization"] },
                     "toDownstream": { "onAllow": ["x-u"], "onDeny": ["set-cookie"] } }
    }));
    assert_eq!(p.name, "oauth2-proxy");
    assert_eq!(
        p.envoy_ext_authz_http,
        json!({
            "service": "oauth2-proxy.oauth2-proxy.svc.cluster.local", "port": 80, "timeout": "5s",
            "pathPrefix": "/verify?original=",
            "includeRequestHeadersInCheck": ["authorization", "cookie"],
            "includeAdditionalHeadersInCheck": { "x-a": "b" },
            "headersToUpstreamOnAllow": ["authorization"],
            "headersToDownstreamOnAllow": ["x-u"],
            "headersToDownstreamOnDeny": ["set-cookie"]
        })
    );
}

#[test]
fn in_cluster_policy_is_the_documented_workaround() {
    let mut settings = orders_settings();
    settings.allow_in_cluster.push("shop/orders".into());
    let t = translate_apirule(&orders_apirule(), &settings);
    let p = t.policies.last().unwrap();
    assert_eq!(p.name, "orders-allow-in-cluster");
    assert_eq!(
        p.spec_json(),
        json!({ "selector": { "matchLabels": { "app": "orders" } }, "action": "ALLOW",
                "rules": [{ "from": [{ "source": { "notPrincipals": [ING] } }] }] })
    );
}
