package main

import (
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

// The chart's rendering of values (helm/oauth2-proxy/templates/deployment.yaml, chart 10.7.0).
func TestRenderChart(t *testing.T) {
	var values map[string]any
	src := `
config:
  existingSecret: creds
  cookieName: ''
extraArgs:
  provider: oidc
  cookie-expire: 168h
  skip-provider-button: true
  redis-connection-idle-timeout: 1000000
  bare: null
`
	if err := yaml.Unmarshal([]byte(src), &values); err != nil {
		t.Fatal(err)
	}
	r, err := renderChart(values, secretData{"id", "secret", "cookie"}, "H", "S", "M")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"--http-address=H", "--https-address=S", "--metrics-address=M",
		// sorted keys, toString of YAML values (a number goes through float64: 1e+06)
		"--bare", "--cookie-expire=168h", "--provider=oidc", "--redis-connection-idle-timeout=1e+06",
		"--skip-provider-button=true",
	}
	if !reflect.DeepEqual(r.Args, want) {
		t.Errorf("args\n got %q\nwant %q", r.Args, want)
	}
	if r.ConfigFile != "email_domains = [\"*\"]\nupstreams = [\"file:///dev/null\"]" {
		t.Errorf("config file %q", r.ConfigFile)
	}
	if r.Env["OAUTH2_PROXY_CLIENT_ID"] != "id" || r.Env["OAUTH2_PROXY_CLIENT_SECRET"] != "secret" || r.Env["OAUTH2_PROXY_COOKIE_SECRET"] != "cookie" {
		t.Errorf("env %v", r.Env)
	}
}

func TestRenderChartRefusesWhatItDoesNotInterpret(t *testing.T) {
	for _, v := range []map[string]any{
		{"image": map[string]any{"tag": "x"}},
		{"config": map[string]any{"google": map[string]any{}}},
		{"extraArgs": map[string]any{"x": "{{ .Release.Name }}"}},
		{"alphaConfig": map[string]any{"enabled": true}},
	} {
		if _, err := renderChart(v, secretData{}, "H", "S", "M"); err == nil {
			t.Errorf("%v: rendered, want an error", v)
		}
	}
}

func TestRenderChartCookieNameAndMetricsOff(t *testing.T) {
	r, err := renderChart(map[string]any{
		"config":             map[string]any{"cookieName": "c", "requiredSecretKeys": []any{"client-id"}},
		"metrics":            map[string]any{"enabled": false},
		"proxyVarsAsSecrets": true,
	}, secretData{ClientID: "id"}, "H", "S", "M")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--http-address=H", "--https-address=S", "--cookie-name=c"}; !reflect.DeepEqual(r.Args, want) {
		t.Errorf("args %q", r.Args)
	}
	if len(r.Env) != 1 {
		t.Errorf("env %v: only the required secret keys", r.Env)
	}
}

// The check request: prefix + path, always-forwarded headers, others only when listed.
func TestCheckRequest(t *testing.T) {
	var e authorizerEntry
	e.PathPrefix = "/verify?original="
	e.Headers.InCheck.Include = []string{"x-forwarded-for"}
	req, err := checkRequest(e, original{Method: "POST", Host: "h.example.com", Path: "/a/b?c=d",
		Headers: map[string]string{"authorization": "Bearer t", "x-forwarded-for": "1.2.3.4", "cookie": "k=v"}}, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.Host != "h.example.com" || req.URL.RequestURI() != "/verify?original=/a/b?c=d" {
		t.Errorf("method %s host %s uri %s", req.Method, req.Host, req.URL.RequestURI())
	}
	if req.Header.Get("Authorization") != "Bearer t" || req.Header.Get("X-Forwarded-For") != "1.2.3.4" || req.Header.Get("Cookie") != "" {
		t.Errorf("headers %v", req.Header)
	}
}
