// Command runner is kexpose's conformance suite against the real components: it renders specs
// with the kexpose binary (its CLI is the interface under test), starts the real oauth2-proxy with
// the command line the Helm chart renders from the emitted values, sends it the check requests
// Envoy would send, with tokens from a real OIDC provider on loopback, and compares every outcome
// with what kexpose said (validate's diagnostics, explain's prediction).
//
// Usage: runner -kexpose BIN -oauth2-proxy BIN -repo DIR -cases FILE [-report FILE]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

const testClientID = "kexpose-conformance"

// Values of the credentials Secret. Test-only, random per run would gain nothing: they never leave
// loopback and are never printed.
var testSecret = secretData{ClientSecret: "conformance-client-secret", CookieSecret: "0123456789abcdef0123456789abcdef"}

type env struct {
	kexpose, proxyBin, repo, work string
	tlsm                          *tlsMaterial
	main, other, plain, path      *provider
	client                        *http.Client
	results                       []result
	probes                        []probe
	o2pVersion                    string
}

type result struct {
	ID, Code, Kexpose, Real, Test string
	Pass                          bool
	Detail                        string
}

func main() {
	var e env
	var casesFile, report string
	flag.StringVar(&e.kexpose, "kexpose", "", "kexpose binary")
	flag.StringVar(&e.proxyBin, "oauth2-proxy", "", "oauth2-proxy binary")
	flag.StringVar(&e.repo, "repo", ".", "kexpose repository root")
	flag.StringVar(&casesFile, "cases", "", "case table (default <repo>/conformance/cases.yaml)")
	flag.StringVar(&report, "report", "", "write the results as JSON here")
	flag.Parse()
	if casesFile == "" {
		casesFile = filepath.Join(e.repo, "conformance/cases.yaml")
	}
	code := run(&e, casesFile)
	stopAll()
	for _, p := range []*provider{e.main, e.other, e.plain, e.path} {
		if p != nil {
			p.stop()
		}
	}
	if report != "" {
		b, _ := json.MarshalIndent(e.results, "", "  ")
		_ = os.WriteFile(report, b, 0o644)
	}
	if e.work != "" && code == 0 {
		_ = os.RemoveAll(e.work)
	} else if e.work != "" {
		fmt.Printf("work directory kept for inspection: %s\n", e.work)
	}
	os.Exit(code)
}

func run(e *env, casesFile string) int {
	var err error
	e.work, err = os.MkdirTemp("", "kexpose-conformance-")
	if err != nil {
		fmt.Println(err)
		return 2
	}
	e.o2pVersion = proxyVersion(e.repo)
	if e.tlsm, err = newTLSMaterial(e.work); err != nil {
		fmt.Println(err)
		return 2
	}
	for _, s := range []struct {
		p      **provider
		n      string
		tls    bool
		prefix string
	}{{&e.main, "main", true, ""}, {&e.other, "other", true, ""}, {&e.plain, "plain", false, ""}, {&e.path, "path", true, "/realms/conformance"}} {
		t := e.tlsm
		if !s.tls {
			t = nil
		}
		if *s.p, err = startProvider(s.n, t, testClientID, testSecret.ClientSecret, s.prefix); err != nil {
			fmt.Println(err)
			return 2
		}
	}
	tlsConfig, err := loadCAPool(e.tlsm.caFile)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	e.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}

	table, err := loadCases(casesFile)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	e.probes = table.Probes
	if len(e.probes) == 0 {
		fmt.Println(casesFile + ": no probes")
		return 2
	}
	specs, _ := filepath.Glob(filepath.Join(e.repo, "fixtures/*/kexpose.yaml"))
	rt, _ := filepath.Glob(filepath.Join(e.repo, "tests/roundtrip/*/kexpose.yaml"))
	specs = append(specs, rt...)
	if len(specs) == 0 || len(table.Cases) == 0 {
		fmt.Printf("no specs under %s or no cases in %s: nothing would be checked\n", e.repo, casesFile)
		return 2
	}
	for _, s := range specs {
		e.runSpec(s)
	}
	for _, c := range table.Cases {
		e.runCase(c)
	}
	failed := 0
	for _, r := range e.results {
		mark := "ok  "
		if !r.Pass {
			mark = "FAIL"
			failed++
		}
		fmt.Printf("%s %-58s %s\n", mark, r.ID, r.Detail)
	}
	fmt.Printf("\nconformance (oauth2-proxy %s): %d checks, %d failed\n", e.o2pVersion, len(e.results), failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func (e *env) add(r result) { e.results = append(e.results, r) }

// proxyVersion reads the pinned oauth2-proxy version from conformance/oauth2-proxy/go.mod.
func proxyVersion(repo string) string {
	b, _ := os.ReadFile(filepath.Join(repo, "conformance/oauth2-proxy/go.mod"))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require "))
		if len(f) >= 2 && f[0] == "github.com/oauth2-proxy/oauth2-proxy/v7" {
			return f[1]
		}
	}
	return "unknown"
}

// ---------------------------------------------------------------------------------------------
// specs: load, rewrite issuers onto the loopback provider, render with kexpose

type specDoc = map[string]any

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, into)
}

// loopbackSpec reads a spec and points every identity provider at p (issuer, and jwksUri when
// the spec sets one).
func loopbackSpec(path string, p *provider) (specDoc, error) {
	var doc specDoc
	if err := readYAML(path, &doc); err != nil {
		return nil, err
	}
	idps, _ := doc["identityProviders"].([]any)
	for i, x := range idps {
		m := x.(map[string]any)
		orig, _ := m["issuer"].(string)
		m["issuer"] = p.Issuer
		// kexpose derives <issuer>/oauth2/certs for SAP IAS issuers only; on loopback the spec
		// names the provider's JWKS instead, which keeps the spec's meaning.
		if _, ok := m["jwksUri"]; ok || strings.HasSuffix(strings.TrimSuffix(orig, "/"), ".accounts.ondemand.com") {
			m["jwksUri"] = p.Issuer + "/jwks"
			// Distinct providers stay distinct: the api-gateway controller (and kexpose,
			// apirule-jwt-config-differs) refuses one issuer+jwksUri read from different token
			// locations, so each later provider gets its own JWKS address (the query is
			// ignored by the loopback provider's routing; the keys are the same).
			if i > 0 {
				m["jwksUri"] = p.Issuer + "/jwks?idp=" + fmt.Sprint(i)
			}
		}
	}
	return doc, nil
}

func writeSpec(dir string, doc specDoc) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "kexpose.yaml")
	return p, os.WriteFile(p, b, 0o644)
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func (e *env) kx(args ...string) cliResult {
	cmd := exec.Command(e.kexpose, append(args, "--color", "never")...)
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	err := cmd.Run()
	code := 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		code = -1
	}
	return cliResult{code, o.String(), er.String()}
}

// diagnostics returns "error[code]"/"warning[code]" markers kexpose printed.
func hasDiag(stderr, severity, code string) bool {
	return strings.Contains(stderr, severity+"["+code+"]")
}

type rendered struct {
	dir         string
	values      map[string]map[string]any // release → values
	authorizers map[string]authorizerEntry
	apirules    []apiRule
}

type apiRule struct {
	Spec struct {
		Hosts []string `json:"hosts"`
		Rules []struct {
			Path    string   `json:"path"`
			Methods []string `json:"methods"`
			ExtAuth *struct {
				Authorizers []string `json:"authorizers"`
			} `json:"extAuth"`
		} `json:"rules"`
	} `json:"spec"`
}

func (e *env) render(specPath, out string) (*rendered, cliResult) {
	res := e.kx("render", specPath, "-o", out)
	if res.code != 0 {
		return nil, res
	}
	r := &rendered{dir: out, values: map[string]map[string]any{}, authorizers: map[string]authorizerEntry{}}
	vals, _ := filepath.Glob(filepath.Join(out, "helm/*/values.yaml"))
	for _, v := range vals {
		var m map[string]any
		if err := readYAML(v, &m); err != nil {
			res.stderr += "\n" + err.Error()
			res.code = -1
			return nil, res
		}
		r.values[filepath.Base(filepath.Dir(v))] = m
	}
	var istio struct {
		Spec struct {
			Config struct {
				Authorizers []authorizerEntry `json:"authorizers"`
			} `json:"config"`
		} `json:"spec"`
	}
	if err := readYAML(filepath.Join(out, "istio/authorizers.yaml"), &istio); err == nil {
		for _, a := range istio.Spec.Config.Authorizers {
			r.authorizers[a.Name] = a
		}
	}
	ars, _ := filepath.Glob(filepath.Join(out, "apirules/*/*.yaml"))
	sort.Strings(ars)
	for _, a := range ars {
		var ar apiRule
		if err := readYAML(a, &ar); err == nil {
			r.apirules = append(r.apirules, ar)
		}
	}
	return r, res
}

// secretFor: the Secret's client-id is the authorizer's clientId when the spec sets one.
func secretFor(doc specDoc, name string) secretData {
	s := testSecret
	s.ClientID = testClientID
	auths, _ := doc["authorizers"].([]any)
	for _, x := range auths {
		m, _ := x.(map[string]any)
		if m["name"] == name {
			if id, ok := m["clientId"].(string); ok && id != "" {
				s.ClientID = id
			}
		}
	}
	return s
}

// concretePath turns an APIRule path pattern into one request path it matches.
func concretePath(p string) string {
	switch {
	case p == "/*":
		return "/anything"
	}
	p = strings.ReplaceAll(p, "{**}", "a/b")
	p = strings.ReplaceAll(p, "{*}", "x")
	return p
}

// ---------------------------------------------------------------------------------------------
// every spec kexpose accepts: it renders, each oauth2-proxy starts, tokens and explain agree

func (e *env) runSpec(specPath string) {
	rel, _ := filepath.Rel(e.repo, specPath)
	id := filepath.Dir(rel)
	doc, err := loopbackSpec(specPath, e.main)
	if err != nil {
		e.add(result{ID: id, Detail: err.Error()})
		return
	}
	dir := filepath.Join(e.work, strings.ReplaceAll(id, "/", "_"))
	sp, err := writeSpec(dir, doc)
	if err != nil {
		e.add(result{ID: id, Detail: err.Error()})
		return
	}
	val := e.kx("validate", sp)
	r, res := e.render(sp, filepath.Join(dir, "out"))
	if r == nil {
		e.add(result{ID: id + " renders", Detail: "kexpose render failed: " + firstLine(res.stderr)})
		return
	}
	if len(r.values) == 0 {
		return // no oauth2-proxy authorizer: nothing to start
	}
	names := make([]string, 0, len(r.values))
	for n := range r.values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		sec := secretFor(doc, name)
		pdir := filepath.Join(dir, "proc-"+name)
		_ = os.MkdirAll(pdir, 0o755)
		p, _, err := startProxy(e.proxyBin, pdir, r.values[name], sec, e.tlsm.caFile)
		tid := id + " / " + name
		if err != nil {
			e.add(result{ID: tid + " starts", Detail: err.Error()})
			continue
		}
		if p.exited() {
			e.add(result{ID: tid + " starts", Detail: "oauth2-proxy exited: " + lastLines(p.out.String(), 1)})
			continue
		}
		e.add(result{ID: tid + " starts", Pass: true, Detail: "ready: /ping and /ready answer 200 (the chart's probes)"})
		entry := r.authorizers[name]
		e.tokenMatrix(tid, doc, r, name, entry, p, sec)
		e.pathPrefixProbe(tid, val, r, name, entry, p, sec)
		p.stop()
	}
}

type tokenKind struct {
	name   string
	want   int // 200 allow; 0 = any denial
	header func(sec secretData) (string, error)
}

func (e *env) tokens() []tokenKind {
	bearer := func(t string, err error) (string, error) { return "Bearer " + t, err }
	return []tokenKind{
		{"valid client-credentials token", 200, func(sec secretData) (string, error) {
			// from the token endpoint, as a real client gets it (client_secret_basic)
			return bearer(e.main.clientCredentialsToken(e.client, sec.ClientID, "openid"))
		}},
		{"no token", 0, func(secretData) (string, error) { return "", nil }},
		{"wrong audience", 0, func(sec secretData) (string, error) {
			return bearer(e.main.sign(map[string]any{"aud": "someone-else", "sub": sec.ClientID}))
		}},
		{"expired", 0, func(sec secretData) (string, error) {
			now := time.Now()
			return bearer(e.main.sign(map[string]any{"aud": sec.ClientID, "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}))
		}},
		{"other issuer", 0, func(sec secretData) (string, error) {
			return bearer(e.other.sign(map[string]any{"aud": sec.ClientID, "sub": sec.ClientID}))
		}},
	}
}

// tokenMatrix: for each APIRule rule that uses this authorizer, explain must say a token
// oauth2-proxy accepts is needed, and the real check request must allow exactly the valid token.
func (e *env) tokenMatrix(tid string, doc specDoc, r *rendered, name string, entry authorizerEntry, p *proxyProc, sec secretData) {
	specPath := filepath.Join(filepath.Dir(r.dir), "kexpose.yaml")
	seen := 0
	for _, ar := range r.apirules {
		for _, rule := range ar.Spec.Rules {
			if rule.ExtAuth == nil || !contains(rule.ExtAuth.Authorizers, name) || len(ar.Spec.Hosts) == 0 || len(rule.Methods) == 0 {
				continue
			}
			host := ar.Spec.Hosts[0]
			if strings.HasPrefix(host, "*.") {
				host = "any" + host[1:]
			}
			if !strings.Contains(host, ".") {
				continue // short host: completed by the gateway's domain, not known here
			}
			method, path := rule.Methods[0], concretePath(rule.Path)
			url := "https://" + host + path
			ex := e.kx("explain", specPath, method, url)
			// explain answers from the Istio model: its verdict line says the authorizer decides.
			predicted := ex.code == 0 && strings.Contains(ex.stdout, "→ "+name+" must allow it")
			for _, tk := range e.tokens() {
				h, err := tk.header(sec)
				res := result{ID: fmt.Sprintf("%s %s %s: %s", tid, method, path, tk.name), Test: "runner: token matrix"}
				if err != nil {
					res.Detail = err.Error()
					e.add(res)
					continue
				}
				hdrs := map[string]string{"x-forwarded-for": "203.0.113.7"}
				if h != "" {
					hdrs["authorization"] = h
				}
				status, err := e.check(entry, original{Method: method, Host: host, Path: path, Headers: hdrs}, p)
				if err != nil {
					res.Detail = err.Error()
				} else {
					allowed := status == 200
					res.Pass = predicted && allowed == (tk.want == 200)
					res.Detail = fmt.Sprintf("oauth2-proxy %d; explain: %q", status, explainLine(ex.stdout))
				}
				e.add(res)
			}
			seen++
		}
	}
	if seen == 0 {
		e.add(result{ID: tid + " is used by a rule", Pass: true, Detail: "no extAuth rule with a full host uses it: start only"})
	}
}

// pathPrefixProbe: oauth2-proxy's own endpoints (the `probes` of cases.yaml), asked through the
// check request without a token and with a valid one. With a prefix they need a token (401
// without, 200 with). With pathPrefix "" oauth2-proxy answers each itself, the same with or
// without a token (`unprefixed`); kexpose warns (authorizer-exposes-proxy-endpoints) exactly then,
// and `kexpose explain` must say "PASSES WITHOUT A TOKEN" exactly for the paths answered with 200
// (Envoy allows only 200) and "DENIED, WITH OR WITHOUT A TOKEN" for the other /oauth2/static/ ones.
func (e *env) pathPrefixProbe(tid string, val cliResult, r *rendered, name string, entry authorizerEntry, p *proxyProc, sec secretData) {
	warned := hasDiag(val.stderr, "warning", "authorizer-exposes-proxy-endpoints")
	host := ""
	for _, ar := range r.apirules {
		for _, rule := range ar.Spec.Rules {
			if host == "" && rule.ExtAuth != nil && contains(rule.ExtAuth.Authorizers, name) && len(ar.Spec.Hosts) > 0 && strings.Contains(ar.Spec.Hosts[0], ".") && !strings.HasPrefix(ar.Spec.Hosts[0], "*.") {
				host = ar.Spec.Hosts[0]
			}
		}
	}
	specPath := filepath.Join(filepath.Dir(r.dir), "kexpose.yaml")
	valid := e.tokens()[0]
	for _, ep := range e.probes {
		res := result{ID: fmt.Sprintf("%s pathPrefix %q: GET %s", tid, entry.PathPrefix, ep.Path), Code: "authorizer-exposes-proxy-endpoints", Test: "runner: pathPrefix probe"}
		status, err := e.check(entry, original{Method: "GET", Host: "workload.example.com", Path: ep.Path, Headers: map[string]string{}}, p)
		if err != nil {
			res.Detail = err.Error()
			e.add(res)
			continue
		}
		h, err := valid.header(sec)
		withToken := 0
		if err == nil {
			withToken, err = e.check(entry, original{Method: "GET", Host: "workload.example.com", Path: ep.Path, Headers: map[string]string{"authorization": h}}, p)
		}
		if err != nil {
			res.Detail = err.Error()
			e.add(res)
			continue
		}
		want, wantToken := 401, 200
		if entry.PathPrefix == "" {
			want, wantToken = ep.Unprefixed, ep.Unprefixed
		}
		res.Pass = status == want && withToken == wantToken && warned == (entry.PathPrefix == "")
		res.Detail = fmt.Sprintf("oauth2-proxy without token %d (want %d), with a valid token %d (want %d), kexpose warned: %v", status, want, withToken, wantToken, warned)
		if host != "" {
			// explain's prediction for the same path on a host this authorizer protects (only
			// meaningful where the rule for that path uses this authorizer)
			ex := e.kx("explain", specPath, "GET", "https://"+host+ep.Path)
			if strings.Contains(ex.stdout, "asks `"+name+"`") {
				passes := strings.Contains(ex.stdout, "PASSES WITHOUT A TOKEN")
				denied := strings.Contains(ex.stdout, "DENIED, WITH OR WITHOUT A TOKEN")
				wantPasses := entry.PathPrefix == "" && ep.Unprefixed == 200
				wantDenied := entry.PathPrefix == "" && ep.Unprefixed != 200 && strings.HasPrefix(ep.Path, "/oauth2/static/")
				res.Pass = res.Pass && passes == wantPasses && denied == wantDenied
				res.Detail += fmt.Sprintf(", explain: %q (want passes %v, denied %v)", explainLine(ex.stdout), wantPasses, wantDenied)
			} else if entry.PathPrefix == "" {
				res.Detail += ", explain not asked: no rule of this authorizer serves the path"
			}
		}
		e.add(res)
	}
}

func (e *env) check(entry authorizerEntry, o original, p *proxyProc) (int, error) {
	req, err := checkRequest(entry, o, p.HTTP)
	if err != nil {
		return 0, err
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func explainLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "→") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}
