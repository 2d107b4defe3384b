package main

// The container command line and environment that the oauth2-proxy Helm chart 10.7.0 renders
// from a values file, reproduced from helm/oauth2-proxy/templates/deployment.yaml and
// templates/_helpers.tpl at tag oauth2-proxy-10.7.0 of github.com/oauth2-proxy/manifests, with the
// chart defaults of its values.yaml at that tag. Only the values keys kexpose writes (and those the
// suite's cases set) are interpreted; any other key fails the suite instead of being ignored, so a
// template change cannot slip past a half-read values file.
//
// Listen addresses: the chart binds 0.0.0.0:4180 / 0.0.0.0:4443 / 0.0.0.0:44180; the suite binds
// the same flags to free ports on 127.0.0.1 (the only deviation, and no flag is added or removed).

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

type chartRender struct {
	Args       []string
	Env        map[string]string // name → value (credentials from the Secret)
	ConfigFile string            // content of /etc/oauth2_proxy/oauth2_proxy.cfg ("" = none mounted)
}

// Credentials the test puts in the Secret `config.existingSecret` names.
type secretData struct{ ClientID, ClientSecret, CookieSecret string }

// knownValueKeys: top-level and config.* keys this renderer interprets.
var knownTop = map[string]bool{"config": true, "extraArgs": true, "extraEnv": true, "proxyVarsAsSecrets": true, "metrics": true, "alphaConfig": true}
var knownConfig = map[string]bool{"existingSecret": true, "cookieName": true, "requiredSecretKeys": true, "configFile": true, "existingConfig": true, "forceLegacyConfig": true, "emailDomains": true, "upstreams": true, "clientID": true, "clientSecret": true, "cookieSecret": true}

func renderChart(values map[string]any, sec secretData, httpAddr, httpsAddr, metricsAddr string) (*chartRender, error) {
	for k := range values {
		if !knownTop[k] {
			return nil, fmt.Errorf("values key %q is not interpreted by the suite's chart renderer (extend runner/chart.go)", k)
		}
	}
	config, _ := values["config"].(map[string]any)
	if config == nil {
		config = map[string]any{}
	}
	for k := range config {
		if !knownConfig[k] {
			return nil, fmt.Errorf("values key config.%s is not interpreted by the suite's chart renderer", k)
		}
	}
	if a, ok := values["alphaConfig"].(map[string]any); ok && truthy(a["enabled"]) {
		return nil, fmt.Errorf("alphaConfig.enabled is not interpreted by the suite's chart renderer")
	}
	r := &chartRender{Env: map[string]string{}}
	// args: (alphaConfig disabled) http/https addresses, metrics when metrics.enabled (default true)
	r.Args = append(r.Args, "--http-address="+httpAddr, "--https-address="+httpsAddr)
	metricsEnabled := true
	if m, ok := values["metrics"].(map[string]any); ok {
		if e, ok := m["enabled"]; ok {
			metricsEnabled = truthy(e)
		}
	}
	if metricsEnabled {
		r.Args = append(r.Args, "--metrics-address="+metricsAddr)
	}
	// {{- if .Values.config.cookieName }} - --cookie-name={{ tpl .Values.config.cookieName $ }}
	if cn := config["cookieName"]; truthy(cn) {
		s, err := tplString(toString(cn))
		if err != nil {
			return nil, fmt.Errorf("config.cookieName: %w", err)
		}
		r.Args = append(r.Args, "--cookie-name="+s)
	}
	// extraArgs as a map: `range $key, $value` (Go templates visit map keys in sorted order);
	// a null value gives `--key`, anything else `--key={{ tpl ($value | toString) $ }}`.
	// As a list: toYaml'd verbatim as the list of args.
	switch ea := values["extraArgs"].(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(ea))
		for k := range ea {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ea[k] == nil {
				r.Args = append(r.Args, "--"+k)
				continue
			}
			s, err := tplString(toString(ea[k]))
			if err != nil {
				return nil, fmt.Errorf("extraArgs.%s: %w", k, err)
			}
			r.Args = append(r.Args, "--"+k+"="+s)
		}
	case []any:
		for _, v := range ea {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("extraArgs list entry %v is not a string", v)
			}
			r.Args = append(r.Args, s)
		}
	default:
		return nil, fmt.Errorf("extraArgs is neither a map nor a list")
	}
	// legacy config mode (_helpers.tpl "oauth2-proxy.legacy-config.mode"), alphaConfig disabled:
	// existingConfig → existing-configmap; configFile → inline-custom; forceLegacyConfig (default
	// true) → generated-legacy; else no-config.
	forceLegacy := true
	if v, ok := config["forceLegacyConfig"]; ok {
		forceLegacy = truthy(v)
	}
	switch {
	case truthy(config["existingConfig"]):
		return nil, fmt.Errorf("config.existingConfig names a ConfigMap the suite cannot see")
	case truthy(config["configFile"]):
		s, err := tplString(toString(config["configFile"]))
		if err != nil {
			return nil, err
		}
		r.ConfigFile = s
	case forceLegacy:
		emailDomains := []any{"*"}
		if v, ok := config["emailDomains"].([]any); ok {
			emailDomains = v
		}
		upstreams := []any{"file:///dev/null"}
		if v, ok := config["upstreams"].([]any); ok {
			upstreams = v
		}
		r.ConfigFile = "email_domains = " + toJSONList(emailDomains) + "\nupstreams = " + toJSONList(upstreams)
	}
	// env: proxyVarsAsSecrets (default true) → one env var per requiredSecretKeys entry
	// (default client-id, client-secret, cookie-secret), from the Secret.
	proxyVars := true
	if v, ok := values["proxyVarsAsSecrets"]; ok {
		proxyVars = truthy(v)
	}
	if proxyVars {
		keys := []any{"client-id", "client-secret", "cookie-secret"}
		if v, ok := config["requiredSecretKeys"].([]any); ok {
			keys = v
		}
		for _, k := range keys {
			switch k {
			case "client-id":
				r.Env["OAUTH2_PROXY_CLIENT_ID"] = sec.ClientID
			case "client-secret":
				r.Env["OAUTH2_PROXY_CLIENT_SECRET"] = sec.ClientSecret
			case "cookie-secret":
				r.Env["OAUTH2_PROXY_COOKIE_SECRET"] = sec.CookieSecret
			}
		}
	}
	if ee, ok := values["extraEnv"].([]any); ok {
		for _, e := range ee {
			m, _ := e.(map[string]any)
			name, _ := m["name"].(string)
			val, hasVal := m["value"]
			if name == "" || !hasVal {
				return nil, fmt.Errorf("extraEnv entry %v: only name/value entries are interpreted", e)
			}
			r.Env[name] = toString(val)
		}
	}
	return r, nil
}

// toString is sprig's toString (strval): strings as they are, everything else fmt's %v. Values
// come from sigs.k8s.io/yaml (as Helm reads them), so numbers are float64: 1000000 → "1e+06".
func toString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return "<nil>"
	case float64:
		return fmt.Sprintf("%v", t)
	case bool:
		return strconv.FormatBool(t)
	default:
		return fmt.Sprintf("%v", t)
	}
}

// tplString: the chart passes the value through `tpl`. Text without template actions renders to
// itself; text with `{{` would be evaluated by Helm, which this suite does not emulate.
func tplString(s string) (string, error) {
	if strings.Contains(s, "{{") {
		return "", fmt.Errorf("value contains `{{`, which the chart's tpl would evaluate")
	}
	return s, nil
}

// truthy is Go template truth for the value types YAML yields.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case float64:
		return t != 0
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

// toJSONList is sprig's toJson (encoding/json.Marshal) of a list.
func toJSONList(l []any) string {
	b, err := json.Marshal(l)
	if err != nil {
		return "[]"
	}
	return string(b)
}
