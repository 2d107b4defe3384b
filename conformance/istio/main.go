// Command istiovalidate validates what `kexpose render --target istio` writes with Istio's own
// validation, as istiod runs it (istio.io/istio at the version conformance/istio/go.mod pins, the
// one place it is recorded):
//
//   - VirtualService, AuthorizationPolicy, RequestAuthentication (every object of
//     `istio/<namespace>/<name>.yaml`) go through istiod's validating admission webhook itself:
//     pkg/webhooks/validation/server, registered on an in-process ServeMux with the schemas istiod
//     gives it (collections.PilotGatewayAPI(), pilot/pkg/bootstrap/validation.go) and the default
//     domain suffix. Each object is sent as an AdmissionReview (admission.k8s.io/v1, CREATE) to
//     /validate, exactly as kube-apiserver calls the webhook: decoding (crd.ConvertObject), the
//     kind's validation function (pkg/config/validation: ValidateVirtualService,
//     ValidateAuthorizationPolicy, ValidateRequestAuthentication) and the top-level field check.
//     A denial fails; so does a warning the webhook returns.
//   - The mesh config (`istio/mesh-config/istiod-values.yaml` `meshConfig`, and
//     `istio-operator.yaml` `spec.meshConfig`): pkg/config/mesh.ApplyMeshConfigDefaults, what
//     istiod runs on the mesh ConfigMap it renders from them (defaults, then
//     agent.ValidateMeshConfig), then each provider through
//     agent.ValidateExtensionProviderEnvoyExtAuthzHTTP, the check istiod's policy builder makes
//     before it uses a provider (an invalid one turns its CUSTOM policies into denials).
//
// Objects come from the golden trees (fixtures/*/expected-istio) and from a fresh
// `kexpose render --target istio` of every fixture and round-trip spec (-kexpose). Then the cases
// of -cases: a valid emitted object with one change must be rejected with the recorded message.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/validation/agent"
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/webhooks/validation/server"
	"sigs.k8s.io/yaml"
)

// webhook: istiod's validation webhook, in process.
type webhook struct{ mux *http.ServeMux }

func newWebhook() (*webhook, error) {
	mux := http.NewServeMux()
	if _, err := server.New(server.Options{Schemas: collections.PilotGatewayAPI(), DomainSuffix: "cluster.local", Mux: mux}); err != nil {
		return nil, err
	}
	return &webhook{mux}, nil
}

// review sends obj as kube-apiserver does and returns the webhook's verdict: "" when allowed,
// else its message; warnings as returned.
func (w *webhook) review(obj map[string]any) (denied string, warnings []string, err error) {
	apiVersion, _ := obj["apiVersion"].(string)
	group, version, _ := strings.Cut(apiVersion, "/")
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	namespace, _ := meta["namespace"].(string)
	raw, err := json.Marshal(obj)
	if err != nil {
		return "", nil, err
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request": map[string]any{
			"uid":       "kexpose-conformance",
			"kind":      map[string]any{"group": group, "version": version, "kind": kind},
			"resource":  map[string]any{"group": group, "version": version, "resource": strings.ToLower(kind) + "s"},
			"name":      name,
			"namespace": namespace,
			"operation": "CREATE",
			"userInfo":  map[string]any{"username": "kexpose-conformance"},
			"object":    json.RawMessage(raw),
		},
	})
	if err != nil {
		return "", nil, err
	}
	req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return "", nil, fmt.Errorf("webhook answered %d: %s", rec.Code, rec.Body.String())
	}
	var resp struct {
		Response *struct {
			UID      string   `json:"uid"`
			Allowed  bool     `json:"allowed"`
			Warnings []string `json:"warnings"`
			Status   *struct {
				Message string `json:"message"`
			} `json:"status"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Response == nil || resp.Response.UID != "kexpose-conformance" {
		return "", nil, fmt.Errorf("webhook answer not understood (%v): %s", err, rec.Body.String())
	}
	if resp.Response.Allowed {
		return "", resp.Response.Warnings, nil
	}
	msg := "denied"
	if resp.Response.Status != nil && resp.Response.Status.Message != "" {
		msg = resp.Response.Status.Message
	}
	return msg, resp.Response.Warnings, nil
}

// meshConfig validates a meshConfig (a map) the way istiod reads the mesh ConfigMap.
func meshConfig(mc any) error {
	y, err := yaml.Marshal(mc)
	if err != nil {
		return err
	}
	m, err := mesh.ApplyMeshConfigDefaults(string(y))
	if err != nil {
		return err
	}
	// ApplyMeshConfigDefaults runs agent.ValidateMeshConfig, which only logs an invalid extension
	// provider ("can be ignored if the given extension provider is not used"). kexpose's
	// providers are used by the CUSTOM policies it writes, and istiod's policy builder checks each
	// one with agent.ValidateExtensionProviderEnvoyExtAuthzHTTP before use
	// (pilot/pkg/security/authz/builder/extauthz.go processExtensionProvider); a provider that
	// fails turns its CUSTOM policies into denials. So that check fails here.
	for _, p := range m.ExtensionProviders {
		if h := p.GetEnvoyExtAuthzHttp(); h != nil {
			if err := agent.ValidateExtensionProviderEnvoyExtAuthzHTTP(h); err != nil {
				return fmt.Errorf("extension provider %q is invalid, its CUSTOM policies deny: %v", p.Name, err)
			}
		}
	}
	return nil
}

// one thing to validate: an Istio object or a mesh config
type item struct {
	label string
	kind  string // the object's kind, or "MeshConfig"
	obj   map[string]any
}

func readDocs(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, doc := range bytes.Split(b, []byte("\n---")) {
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// itemsOf reads one file of an istio/ tree: Istio objects, or a mesh config file.
func itemsOf(label, path string) ([]item, error) {
	docs, err := readDocs(path)
	if err != nil {
		return nil, err
	}
	var out []item
	for _, d := range docs {
		switch {
		case filepath.Base(path) == "istiod-values.yaml":
			mc, _ := d["meshConfig"].(map[string]any)
			out = append(out, item{label + " meshConfig", "MeshConfig", mc})
		case d["kind"] == "IstioOperator":
			spec, _ := d["spec"].(map[string]any)
			mc, _ := spec["meshConfig"].(map[string]any)
			out = append(out, item{label + " spec.meshConfig", "MeshConfig", mc})
		default:
			kind, _ := d["kind"].(string)
			meta, _ := d["metadata"].(map[string]any)
			out = append(out, item{fmt.Sprintf("%s %s/%v", label, kind, meta["name"]), kind, d})
		}
	}
	return out, nil
}

func collect(repo, work, kexpose string) ([]item, []string) {
	var items []item
	var problems []string
	add := func(label, dir string) {
		_ = filepath.Walk(filepath.Join(dir, "istio"), func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			its, err := itemsOf(label+"/"+rel, p)
			if err != nil {
				problems = append(problems, err.Error())
			}
			items = append(items, its...)
			return nil
		})
	}
	golden, _ := filepath.Glob(filepath.Join(repo, "fixtures/*/expected-istio"))
	for _, g := range golden {
		rel, _ := filepath.Rel(repo, g)
		add(rel, g)
	}
	specs, _ := filepath.Glob(filepath.Join(repo, "fixtures/*/kexpose.yaml"))
	rt, _ := filepath.Glob(filepath.Join(repo, "tests/roundtrip/*/kexpose.yaml"))
	for _, s := range append(specs, rt...) {
		rel, _ := filepath.Rel(repo, filepath.Dir(s))
		out := filepath.Join(work, strings.ReplaceAll(rel, "/", "_"))
		spec, added, err := withSelectors(s, out+".kexpose.yaml")
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", rel, err))
			continue
		}
		if added {
			rel += " (pod selectors added)"
		}
		cmd := exec.Command(kexpose, "render", spec, "-o", out, "--target", "istio", "--color", "never")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			problems = append(problems, fmt.Sprintf("kexpose render --target istio %s: %v: %s", rel, err, strings.TrimSpace(stderr.String())))
			continue
		}
		add("render of "+rel, out)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].label < items[j].label })
	return items, problems
}

// withSelectors: --target istio needs every workload's pod selector (and a rule's own Service's),
// which the round-trip specs (restated from Kyma APIRules, where Services are selected by name)
// do not carry. A spec lacking one is written to `to` with `{app: <service name>}` added, as a
// user would add the Service's spec.selector; one that has them all is used as it is.
func withSelectors(spec, to string) (string, bool, error) {
	b, err := os.ReadFile(spec)
	if err != nil {
		return "", false, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", false, err
	}
	added := false
	workloads, _ := doc["workloads"].([]any)
	for _, w := range workloads {
		wm, _ := w.(map[string]any)
		if wm == nil {
			continue
		}
		if _, ok := wm["selector"]; !ok {
			name := wm["name"]
			if svc, _ := wm["service"].(map[string]any); svc != nil && svc["name"] != nil {
				name = svc["name"]
			}
			wm["selector"] = map[string]any{"app": name}
			added = true
		}
		rules, _ := wm["rules"].([]any)
		for _, r := range rules {
			svc, _ := r.(map[string]any)["service"].(map[string]any)
			if svc != nil && svc["selector"] == nil {
				svc["selector"] = map[string]any{"app": svc["name"]}
				added = true
			}
		}
	}
	if !added {
		return spec, false, nil
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return "", false, err
	}
	return to, true, os.WriteFile(to, j, 0o644)
}

// validate: "" when Istio accepts it, else why not.
func (w *webhook) validate(it item) string {
	if it.kind == "MeshConfig" {
		if it.obj == nil {
			return "no meshConfig in the file"
		}
		if err := meshConfig(it.obj); err != nil {
			return err.Error()
		}
		return ""
	}
	denied, warnings, err := w.review(it.obj)
	switch {
	case err != nil:
		return err.Error()
	case denied != "":
		return denied
	case len(warnings) > 0:
		return "accepted with warnings: " + strings.Join(warnings, "; ")
	}
	return ""
}

type negCase struct {
	ID     string         `json:"id"`
	Base   string         `json:"base"`
	Kind   string         `json:"kind"`
	Set    map[string]any `json:"set"`
	Reject string         `json:"reject"`
	Note   string         `json:"note"`
}

func istioVersion(repo string) string {
	b, _ := os.ReadFile(filepath.Join(repo, "conformance/istio/go.mod"))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require "))
		if len(f) >= 2 && f[0] == "istio.io/istio" {
			return f[1]
		}
	}
	return "unknown"
}

func main() {
	repo := flag.String("repo", ".", "kexpose repository root")
	kexpose := flag.String("kexpose", "", "kexpose binary (renders every fixture and round-trip spec with --target istio)")
	casesFile := flag.String("cases", "", "negative cases (default <repo>/conformance/istio-cases.yaml)")
	flag.Parse()
	// istiod logs each rejection and warning; the verdicts are printed below instead
	for _, s := range log.Scopes() {
		s.SetOutputLevel(log.NoneLevel)
	}
	if *casesFile == "" {
		*casesFile = filepath.Join(*repo, "conformance/istio-cases.yaml")
	}
	w, err := newWebhook()
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	work, err := os.MkdirTemp("", "kexpose-istiovalidate-")
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	defer os.RemoveAll(work)
	items, problems := collect(*repo, work, *kexpose)
	failed := len(problems)
	for _, p := range problems {
		fmt.Println("FAIL", p)
	}
	kinds := map[string]int{}
	for _, it := range items {
		kinds[it.kind]++
		if why := w.validate(it); why != "" {
			failed++
			fmt.Printf("FAIL %s: Istio rejects it:\n  %s\n", it.label, why)
		} else {
			fmt.Printf("ok   %s\n", it.label)
		}
	}
	for _, k := range []string{"VirtualService", "AuthorizationPolicy", "RequestAuthentication", "MeshConfig"} {
		if kinds[k] == 0 {
			failed++
			fmt.Printf("FAIL no %s found: nothing of that kind was checked\n", k)
		}
	}
	var table struct {
		Cases []negCase `json:"cases"`
	}
	b, err := os.ReadFile(*casesFile)
	if err == nil {
		err = yaml.UnmarshalStrict(b, &table)
	}
	if err != nil || len(table.Cases) == 0 {
		fmt.Println("FAIL", *casesFile, err, "(no cases)")
		failed++
	}
	for _, c := range table.Cases {
		its, err := itemsOf(c.Base, filepath.Join(*repo, c.Base))
		var it *item
		for i := range its {
			if its[i].kind == c.Kind {
				it = &its[i]
				break
			}
		}
		if err != nil || it == nil {
			fmt.Printf("FAIL case %s: no %s in %s (%v)\n", c.ID, c.Kind, c.Base, err)
			failed++
			continue
		}
		if why := w.validate(*it); why != "" {
			fmt.Printf("FAIL case %s: the unchanged base is rejected already: %s\n", c.ID, why)
			failed++
			continue
		}
		for ptr, v := range c.Set {
			if err := setPointer(it.obj, ptr, v); err != nil {
				fmt.Println("FAIL case", c.ID, err)
				failed++
			}
		}
		why := w.validate(*it)
		if why != "" && strings.Contains(why, c.Reject) {
			fmt.Printf("ok   case %s: rejected: %s\n", c.ID, why)
		} else {
			failed++
			fmt.Printf("FAIL case %s: expected a rejection containing %q, got: %q\n", c.ID, c.Reject, why)
		}
	}
	fmt.Printf("\nistio validation (istio.io/istio %s): %d objects (%d VirtualService, %d AuthorizationPolicy, %d RequestAuthentication, %d mesh config), %d cases, %d failed\n",
		istioVersion(*repo), len(items), kinds["VirtualService"], kinds["AuthorizationPolicy"], kinds["RequestAuthentication"], kinds["MeshConfig"], len(table.Cases), failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// setPointer sets a JSON pointer in doc; nil deletes.
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
			if _, ok := c[key]; !ok {
				c[key] = map[string]any{}
			}
			cur = c[key]
		case []any:
			var n int
			if _, err := fmt.Sscanf(key, "%d", &n); err != nil || n < 0 || n >= len(c) {
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
