package main

// The data-driven cases of conformance/cases.yaml: diagnostic code → spec → real behaviour.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type caseTable struct {
	Probes []probe `json:"probes"`
	Cases  []tcase `json:"cases"`
}

// probe: one of oauth2-proxy's own endpoints and what it answers itself, unprefixed, with or
// without a token. `kexpose explain` must predict it: passes exactly when that is 200.
type probe struct {
	Path       string `json:"path"`
	Unprefixed int    `json:"unprefixed"`
}

type tcase struct {
	ID       string         `json:"id"`
	Code     string         `json:"code"`
	Fixture  string         `json:"fixture"`
	Provider string         `json:"provider"`
	Set      map[string]any `json:"set"`
	Kexpose  string         `json:"kexpose"`
	Values   map[string]any `json:"values"`
	Release  string         `json:"release"`
	Real     string         `json:"real"`
	Output   string         `json:"output"`
	Requests []struct {
		Token  string         `json:"token"`
		Claims map[string]any `json:"claims"`
		Path   string         `json:"path"`
		Status int            `json:"status"`
	} `json:"requests"`
	// Include replaces headers.inCheck.include of the authorizer entry the check request is
	// built from (for specs kexpose refuses over that list).
	Include *[]string `json:"include"`
	// Disagreement records, in words, where kexpose's verdict and the real behaviour part ways
	// (printed with the result; docs/conformance.md lists them).
	Disagreement string `json:"disagreement"`
	// Message: a substring of kexpose's diagnostic, tying its text to what the real process says.
	Message string `json:"message"`
}

func loadCases(path string) (*caseTable, error) {
	var t caseTable
	if err := readYAML(path, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ids := map[string]bool{}
	for i, c := range t.Cases {
		if c.ID == "" || ids[c.ID] {
			return nil, fmt.Errorf("%s: case %d: missing or duplicate id %q", path, i, c.ID)
		}
		ids[c.ID] = true
		switch c.Kexpose {
		case "error", "warning", "ok":
		default:
			return nil, fmt.Errorf("%s: case %s: kexpose must be error, warning or ok", path, c.ID)
		}
		switch c.Real {
		case "exits", "starts":
		default:
			return nil, fmt.Errorf("%s: case %s: real must be exits or starts", path, c.ID)
		}
	}
	return &t, nil
}

func loadCAPool(caFile string) (*tls.Config, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return &tls.Config{RootCAs: pool}, nil
}

func (e *env) expand(v any, p *provider) any {
	switch t := v.(type) {
	case string:
		r := strings.NewReplacer("${ISSUER}", p.Issuer, "${JWKS}", p.Issuer+"/jwks", "${OTHER_ISSUER}", e.other.Issuer, "${MAIN_ISSUER}", e.main.Issuer)
		return r.Replace(t)
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			out[k] = e.expand(x, p)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = e.expand(x, p)
		}
		return out
	}
	return v
}

// setPointer sets a JSON pointer (RFC 6901) in doc, creating maps on the way; a list index must
// exist, "-" appends.
func setPointer(doc any, ptr string, val any) error {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	cur := doc
	for i, raw := range parts {
		key := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if val == nil {
					delete(c, key)
				} else {
					c[key] = val
				}
				return nil
			}
			next, ok := c[key]
			if !ok || next == nil {
				next = map[string]any{}
				c[key] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(c) {
				return fmt.Errorf("%s: no list element %q", ptr, key)
			}
			if last {
				c[n] = val
				return nil
			}
			cur = c[n]
		default:
			return fmt.Errorf("%s: %q is not in a map or list", ptr, key)
		}
	}
	return nil
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

func (e *env) runCase(c tcase) {
	res := result{ID: "case " + c.ID, Code: c.Code, Test: "cases.yaml: " + c.ID}
	defer func() {
		if c.Disagreement != "" {
			res.Detail += " | DISAGREEMENT: " + c.Disagreement
		}
		e.add(res)
	}()
	prov := e.main
	switch c.Provider {
	case "", "main":
	case "plain":
		prov = e.plain
	case "path":
		prov = e.path
	default:
		res.Detail = "unknown provider " + c.Provider
		return
	}
	base := filepath.Join(e.repo, "fixtures", c.Fixture, "kexpose.yaml")
	doc, err := loopbackSpec(base, prov)
	if err != nil {
		res.Detail = err.Error()
		return
	}
	// The base (rendered when kexpose refuses the case's spec) always uses the main provider;
	// a case about the issuer overrides oidc-issuer-url in `values`.
	baseDoc, _ := loopbackSpec(base, e.main)
	release := c.Release
	if release == "" {
		auths, _ := doc["authorizers"].([]any)
		if len(auths) > 0 {
			release, _ = auths[0].(map[string]any)["name"].(string)
		}
	}
	extraArgs := map[string]any{}
	for ptr, v := range c.Set {
		v = e.expand(v, prov)
		if err := setPointer(doc, ptr, v); err != nil {
			res.Detail = err.Error()
			return
		}
		// /authorizers/N/extraArgs/K of the release → the same extraArgs key in its values
		parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
		if len(parts) == 4 && parts[0] == "authorizers" && parts[2] == "extraArgs" {
			n, _ := strconv.Atoi(parts[1])
			if a, _ := doc["authorizers"].([]any); n < len(a) && a[n].(map[string]any)["name"] == release {
				extraArgs[parts[3]] = v
			}
		}
	}
	dir := filepath.Join(e.work, "case-"+c.ID)
	sp, err := writeSpec(dir, doc)
	if err != nil {
		res.Detail = err.Error()
		return
	}
	// kexpose's verdict
	val := e.kx("validate", sp)
	switch {
	case hasDiag(val.stderr, "error", c.Code):
		res.Kexpose = "error"
	case hasDiag(val.stderr, "warning", c.Code):
		res.Kexpose = "warning"
	case val.code == 0:
		res.Kexpose = "ok"
	default:
		res.Kexpose = "rejected (other codes): " + firstLine(val.stderr)
	}
	// the values the chart gets
	var values map[string]any
	var r *rendered
	if val.code == 0 {
		var rr cliResult
		r, rr = e.render(sp, filepath.Join(dir, "out"))
		if r == nil {
			res.Detail = "kexpose validate accepted but render failed: " + firstLine(rr.stderr)
			return
		}
		values = r.values[release]
	} else {
		bsp, err := writeSpec(filepath.Join(dir, "base"), baseDoc)
		if err != nil {
			res.Detail = err.Error()
			return
		}
		var rr cliResult
		r, rr = e.render(bsp, filepath.Join(dir, "base", "out"))
		if r == nil {
			res.Detail = "the base fixture does not render: " + firstLine(rr.stderr)
			return
		}
		values = r.values[release]
		if values == nil {
			res.Detail = "no values for release " + release
			return
		}
		ea, _ := values["extraArgs"].(map[string]any)
		if ea == nil {
			ea = map[string]any{}
			values["extraArgs"] = ea
		}
		for k, v := range extraArgs {
			if v == nil {
				delete(ea, k)
			} else {
				ea[k] = v
			}
		}
		if c.Values != nil {
			deepMerge(values, e.expand(c.Values, prov).(map[string]any))
		}
	}
	if values == nil {
		res.Detail = "no values for release " + release
		return
	}
	sec := secretFor(doc, release)
	pdir := filepath.Join(dir, "proc")
	_ = os.MkdirAll(pdir, 0o755)
	p, _, err := startProxy(e.proxyBin, pdir, values, sec, e.tlsm.caFile)
	if err != nil {
		res.Detail = err.Error()
		return
	}
	defer p.stop()
	kexposeOK := res.Kexpose == c.Kexpose
	if c.Message != "" && !strings.Contains(val.stderr, c.Message) {
		kexposeOK = false
		res.Kexpose += fmt.Sprintf(" (its message lacks %q)", c.Message)
	}
	if p.exited() {
		code := -1
		if p.cmd.ProcessState != nil {
			code = p.cmd.ProcessState.ExitCode()
		}
		res.Real = fmt.Sprintf("exits (status %d): %s", code, matchLine(p.out.String(), c.Output))
		res.Pass = kexposeOK && c.Real == "exits" && c.Output != "" && strings.Contains(p.out.String(), c.Output)
		res.Detail = fmt.Sprintf("kexpose %s (want %s); oauth2-proxy %s", res.Kexpose, c.Kexpose, res.Real)
		if !res.Pass && !strings.Contains(p.out.String(), c.Output) {
			res.Detail += " | output: " + lastLines(p.out.String(), 4)
		}
		return
	}
	if c.Real == "exits" {
		res.Real = "starts"
		res.Detail = fmt.Sprintf("kexpose %s (want %s); oauth2-proxy started, expected it to exit with %q", res.Kexpose, c.Kexpose, c.Output)
		return
	}
	// starts: the check requests
	entry, host, path := r.authorizers[release], "", ""
	if c.Include != nil {
		entry.Headers.InCheck.Include = *c.Include
	}
	for _, ar := range r.apirules {
		for _, rule := range ar.Spec.Rules {
			if host == "" && rule.ExtAuth != nil && contains(rule.ExtAuth.Authorizers, release) && len(ar.Spec.Hosts) > 0 {
				host, path = ar.Spec.Hosts[0], concretePath(rule.Path)
			}
		}
	}
	if host == "" {
		host, path = "workload.example.com", "/anything"
	}
	var got []string
	allOK := true
	for _, q := range c.Requests {
		h, err := e.caseToken(q.Token, e.expand(q.Claims, prov), prov, sec)
		if err != nil {
			res.Detail = err.Error()
			return
		}
		hdrs := map[string]string{"x-forwarded-for": "203.0.113.7"}
		if h != "" {
			hdrs["authorization"] = h
		}
		qp := path
		if q.Path != "" {
			qp = q.Path
		}
		status, err := e.check(entry, original{Method: "GET", Host: host, Path: qp, Headers: hdrs}, p)
		if err != nil {
			res.Detail = err.Error()
			return
		}
		got = append(got, fmt.Sprintf("%s %s→%d", q.Token, qp, status))
		if status != q.Status {
			allOK = false
			got[len(got)-1] += fmt.Sprintf(" (want %d)", q.Status)
		}
	}
	res.Real = "starts; " + strings.Join(got, ", ")
	res.Pass = kexposeOK && allOK
	res.Detail = fmt.Sprintf("kexpose %s (want %s); oauth2-proxy %s", res.Kexpose, c.Kexpose, res.Real)
	if !allOK {
		res.Detail += " | log: " + lastLines(p.out.String(), 3)
	}
}

func (e *env) caseToken(kind string, claims any, prov *provider, sec secretData) (string, error) {
	cl, _ := claims.(map[string]any)
	all := map[string]any{"aud": sec.ClientID, "sub": sec.ClientID, "azp": sec.ClientID}
	var t string
	var err error
	switch kind {
	case "none":
		return "", nil
	case "valid":
		t, err = prov.sign(all)
	case "claims":
		for k, v := range cl {
			all[k] = v
		}
		t, err = prov.sign(all)
	case "expired":
		all["iat"], all["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		t, err = prov.sign(all)
	case "other-issuer":
		t, err = e.other.sign(all)
	default:
		return "", fmt.Errorf("unknown token kind %q", kind)
	}
	return "Bearer " + t, err
}

func matchLine(out, want string) string {
	for _, l := range strings.Split(out, "\n") {
		if want != "" && strings.Contains(l, want) {
			return strings.TrimSpace(l)
		}
	}
	return lastLines(out, 1)
}
