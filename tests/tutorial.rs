//! The seed fixture restates the Kyma client-credentials tutorial: its render must equal the
//! tutorial's Helm flags, Istio authorizer entry and APIRule (restated in `tests/tutorial/`).
//! The hardened fixture may differ only in `cookie-secure` and `pathPrefix`.

mod common;
use common::*;
use serde_json::{Value, json};

fn render(case: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let spec = root().join("fixtures").join(case).join("kexpose.yaml");
    let run = kexpose(&["render", spec.to_str().unwrap(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    tmp
}

fn without_labels(mut apirule: Value) -> Value {
    apirule["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("labels");
    apirule
}

#[test]
fn seed_equals_the_tutorial() {
    let out = render("seed-client-credentials");
    let out = out.path().join("out");
    let tutorial = root().join("tests/tutorial");

    let values = yaml_file(&out.join("helm/oauth2-proxy/values.yaml"));
    let want_args = yaml_file(&tutorial.join("extra-args.yaml"));
    assert_eq!(
        values["extraArgs"], want_args,
        "extraArgs differ from the tutorial's flags"
    );
    // Same order as the tutorial, too.
    let got_keys: Vec<&String> = values["extraArgs"].as_object().unwrap().keys().collect();
    let want_keys: Vec<&String> = want_args.as_object().unwrap().keys().collect();
    assert_eq!(got_keys, want_keys);
    assert_eq!(values["config"]["cookieName"], json!(""));

    let istio = yaml_file(&out.join("istio/authorizers.yaml"));
    let entries = istio["spec"]["config"]["authorizers"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0],
        yaml_file(&tutorial.join("istio-authorizer.yaml"))
    );

    let apirule = yaml_file(&out.join("apirules/httpbin-system/httpbin.yaml"));
    assert_eq!(
        without_labels(apirule),
        yaml_file(&tutorial.join("apirule.yaml"))
    );
}

#[test]
fn hardened_differs_only_in_cookie_secure_and_path_prefix() {
    let seed = render("seed-client-credentials");
    let hard = render("hardened");
    let (s, h) = (seed.path().join("out"), hard.path().join("out"));

    let mut sv = yaml_file(&s.join("helm/oauth2-proxy/values.yaml"));
    let hv = yaml_file(&h.join("helm/oauth2-proxy/values.yaml"));
    assert_eq!(sv["extraArgs"]["cookie-secure"], json!("false"));
    assert_eq!(hv["extraArgs"]["cookie-secure"], json!("true"));
    sv["extraArgs"]["cookie-secure"] = json!("true");
    // The Secret name is the only other spec-level difference (the seed names the tutorial's).
    sv["config"]["existingSecret"] = hv["config"]["existingSecret"].clone();
    assert_eq!(sv, hv);

    let si = yaml_file(&s.join("istio/authorizers.yaml"));
    let mut hi = yaml_file(&h.join("istio/authorizers.yaml"));
    assert_eq!(
        hi["spec"]["config"]["authorizers"][0]["pathPrefix"],
        json!("/verify?original=")
    );
    assert!(
        si["spec"]["config"]["authorizers"][0]
            .get("pathPrefix")
            .is_none()
    );
    hi["spec"]["config"]["authorizers"][0]
        .as_object_mut()
        .unwrap()
        .remove("pathPrefix");
    assert_eq!(si, hi);

    let sa = without_labels(yaml_file(&s.join("apirules/httpbin-system/httpbin.yaml")));
    let ha = without_labels(yaml_file(&h.join("apirules/httpbin-system/httpbin.yaml")));
    assert_eq!(sa, ha);
}
