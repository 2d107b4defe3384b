// Command apivalidate validates kexpose's emitted custom resources the way kube-apiserver does on
// create, with the apiextensions-apiserver code kube-apiserver runs
// (k8s.io/apiextensions-apiserver, the version in conformance/go.mod):
//
//  1. the CRD's version schema → structural schema (schema.NewStructural, ValidateStructural);
//  2. decoding: objectmeta.Coerce, then pruning with unknown-field paths reported — kubectl's
//     default server-side field validation (Strict) turns each into an error;
//  3. defaulting (structural defaulting.Default);
//  4. the registry strategy's Validate (pkg/registry/customresource/strategy.go and validator.go):
//     ObjectMeta (names as DNS subdomains), the OpenAPI schema validator
//     (validation.ValidateCustomResource), embedded ObjectMeta, x-kubernetes-list-type
//     invariants, and CEL x-kubernetes-validations with the real cost budget.
//
// It reads objects from files and directories given as -objects, plus what `kexpose render`
// writes for every fixture and round-trip spec (-kexpose), and runs the negative cases of
// -cases (a valid emitted object with one change → must be rejected with a message).
// The Istio CR kexpose writes is a merge patch: it is merged (RFC 7386, as `kubectl patch --type
// merge` does) onto a minimal valid Istio CR before validation.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/santhosh-tekuri/jsonschema/v6"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

type version struct {
	kind       string
	namespaced bool
	internal   *apiextensions.JSONSchemaProps
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

// key: apiVersion + "/" + kind
type registry map[string]*version

func loadCRDs(dir string) (registry, error) {
	sums, err := recordedSums(filepath.Join(dir, "SOURCE.md"))
	if err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no CRD files in %s", dir)
	}
	reg := registry{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		want, ok := sums[filepath.Base(f)]
		if !ok || want != hex.EncodeToString(sum[:]) {
			return nil, fmt.Errorf("%s: sha256 %s is not the one recorded in SOURCE.md (%q): a CRD changed unnoticed; record its source, version and new sha256 there", f, hex.EncodeToString(sum[:]), want)
		}
		if err := reg.add(f, b); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// istioKinds: the kinds `kexpose render --target istio` writes.
var istioKinds = map[string]bool{"VirtualService": true, "AuthorizationPolicy": true, "RequestAuthentication": true}

// loadIstioCRDs adds the CRDs of istioKinds from Istio's generated CRD file (many documents),
// read from the istio.io/istio module that conformance/istio/go.mod pins (go.sum verifies it).
func (reg registry) loadIstioCRDs(f string) error {
	b, err := os.ReadFile(f)
	if err != nil {
		return err
	}
	n := 0
	for _, doc := range bytes.Split(b, []byte("\n---")) {
		var head struct {
			Kind string `json:"kind"`
			Spec struct {
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if head.Kind != "CustomResourceDefinition" || !istioKinds[head.Spec.Names.Kind] {
			continue
		}
		if err := reg.add(f, doc); err != nil {
			return err
		}
		n++
	}
	if n != len(istioKinds) {
		return fmt.Errorf("%s: found %d of the CRDs of %v", f, n, istioKinds)
	}
	return nil
}

// add registers every version of the CRD in b.
func (reg registry) add(f string, b []byte) error {
	{
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			internal := &apiextensions.CustomResourceValidation{}
			if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, internal, nil); err != nil {
				return fmt.Errorf("%s %s: %w", f, v.Name, err)
			}
			s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
			if err != nil {
				return fmt.Errorf("%s %s: not a structural schema: %w", f, v.Name, err)
			}
			if errs := structuralschema.ValidateStructural(nil, s); len(errs) > 0 {
				return fmt.Errorf("%s %s: %v", f, v.Name, errs.ToAggregate())
			}
			validator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
			if err != nil {
				return fmt.Errorf("%s %s: %w", f, v.Name, err)
			}
			reg[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = &version{
				kind:       crd.Spec.Names.Kind,
				namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
				internal:   internal.OpenAPIV3Schema,
				structural: s,
				validator:  validator,
				cel:        cel.NewValidator(s, true, celconfig.PerCallLimit),
			}
		}
	}
	return nil
}

// recordedSums reads the sha256 column of SOURCE.md's table: | file | ... | sha256 |.
func recordedSums(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(l), "|"), "|")
		if len(cells) < 2 {
			continue
		}
		name := strings.TrimSpace(cells[0])
		sum := strings.TrimSpace(cells[len(cells)-1])
		if strings.HasSuffix(name, ".yaml") && len(sum) == 64 {
			out[name] = sum
		}
	}
	return out, nil
}

// validate runs the create path on obj; it returns the errors kube-apiserver would answer with.
func (reg registry) validate(obj map[string]any) []string {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	v, ok := reg[apiVersion+"/"+kind]
	if !ok {
		return []string{fmt.Sprintf("no CRD serves %s %s", apiVersion, kind)}
	}
	var out []string
	// decoding: metadata coercion, pruning (unknown fields), defaulting
	if err, _ := schemaobjectmeta.CoerceWithOptions(nil, obj, v.structural, true, schemaobjectmeta.CoerceOptions{}); err != nil {
		out = append(out, err.Error())
	}
	for _, p := range structuralpruning.PruneWithOptions(obj, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		out = append(out, fmt.Sprintf("unknown field %q (strict field validation rejects it; otherwise it is silently dropped)", p))
	}
	structuraldefaulting.Default(obj, v.structural)
	// strategy Validate
	u := &unstructured.Unstructured{Object: obj}
	var errs field.ErrorList
	errs = append(errs, metavalidation.ValidateObjectMetaAccessor(u, v.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(context.Background(), nil, obj, v.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, v.structural, obj)...)
	// CEL rules run only when no blocking error was found (strategy.go hasBlockingErr).
	blocking := false
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			blocking = true
		}
	}
	if blocking {
		errs = append(errs, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"))
	} else {
		celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// mergePatch is RFC 7386 JSON merge patch.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
		} else {
			tm[k] = mergePatch(tm[k], v)
		}
	}
	return tm
}

// minimalIstio is the smallest Istio CR the API server accepts; kexpose's partial registration is
// merged onto it.
func minimalIstio() map[string]any {
	return map[string]any{
		"apiVersion": "operator.kyma-project.io/v1alpha2",
		"kind":       "Istio",
		"metadata":   map[string]any{"name": "default", "namespace": "kyma-system"},
		"spec":       map[string]any{},
	}
}

// readObjects: every YAML document of a file that has apiVersion and kind. A bare Istio
// authorizer entry (tests/tutorial/istio-authorizer.yaml) is wrapped into a registration.
func readObjects(path string) ([]map[string]any, error) {
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
		if m == nil {
			continue
		}
		if _, ok := m["apiVersion"]; !ok {
			if _, isEntry := m["service"]; isEntry {
				m = map[string]any{"apiVersion": "operator.kyma-project.io/v1alpha2", "kind": "Istio",
					"metadata": map[string]any{"name": "default", "namespace": "kyma-system"},
					"spec":     map[string]any{"config": map[string]any{"authorizers": []any{m}}}}
			} else {
				continue
			}
		}
		if m["kind"] == "Istio" {
			m = mergePatch(minimalIstio(), m).(map[string]any)
		}
		if m["kind"] == "Namespace" || m["kind"] == "Kustomization" {
			continue // core / kustomize objects: no CRD
		}
		out = append(out, m)
	}
	return out, nil
}

type target struct{ label, path string }

func collect(repo, work, kexpose string, istio bool) ([]target, []string) {
	var ts []target
	var problems []string
	add := func(label, dir string) {
		_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && strings.HasSuffix(p, ".yaml") && (strings.Contains(p, "/apirules/") || strings.Contains(p, "/istio/")) {
				rel, _ := filepath.Rel(dir, p)
				ts = append(ts, target{label + "/" + rel, p})
			}
			return nil
		})
	}
	golden, _ := filepath.Glob(filepath.Join(repo, "fixtures/*/expected"))
	if istio {
		// the plain-Istio golden trees (conformance/istio validates fresh renders too); the mesh
		// config files are Helm values and an IstioOperator overlay, not objects of these CRDs
		ig, _ := filepath.Glob(filepath.Join(repo, "fixtures/*/expected-istio"))
		for _, g := range ig {
			rel, _ := filepath.Rel(repo, g)
			_ = filepath.Walk(filepath.Join(g, "istio"), func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() && strings.HasSuffix(p, ".yaml") && !strings.Contains(p, "/mesh-config/") {
					r, _ := filepath.Rel(g, p)
					ts = append(ts, target{rel + "/" + r, p})
				}
				return nil
			})
		}
	}
	for _, g := range golden {
		rel, _ := filepath.Rel(repo, g)
		add(rel, g)
	}
	specs, _ := filepath.Glob(filepath.Join(repo, "fixtures/*/kexpose.yaml"))
	rt, _ := filepath.Glob(filepath.Join(repo, "tests/roundtrip/*/kexpose.yaml"))
	specs = append(specs, rt...)
	for _, s := range specs {
		rel, _ := filepath.Rel(repo, filepath.Dir(s))
		out := filepath.Join(work, strings.ReplaceAll(rel, "/", "_"))
		cmd := exec.Command(kexpose, "render", s, "-o", out, "--color", "never")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			problems = append(problems, fmt.Sprintf("kexpose render %s: %v: %s", rel, err, strings.TrimSpace(stderr.String())))
			continue
		}
		add("render of "+rel, out)
	}
	// reference objects the tests compare with (hand-restated real-world APIRules, the tutorial)
	refs, _ := filepath.Glob(filepath.Join(repo, "tests/roundtrip/*/apirule.yaml"))
	tut, _ := filepath.Glob(filepath.Join(repo, "tests/tutorial/*.yaml"))
	for _, r := range append(refs, tut...) {
		rel, _ := filepath.Rel(repo, r)
		if strings.HasSuffix(r, "extra-args.yaml") {
			continue
		}
		ts = append(ts, target{rel, r})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].label < ts[j].label })
	return ts, problems
}

type negCase struct {
	ID     string         `json:"id"`
	Code   string         `json:"code"`
	Base   string         `json:"base"`
	Set    map[string]any `json:"set"`
	Reject string         `json:"reject"`
	Accept bool           `json:"accept"`
	Schema string         `json:"schema"`
	Note   string         `json:"note"`
}

// kexpose's own output schemas (schemas/*.json), by kind: compared with the API server.
type ownSchemas map[string]*jsonschema.Schema

func loadOwnSchemas(dir string) (ownSchemas, error) {
	out := ownSchemas{}
	c := jsonschema.NewCompiler()
	for kind, file := range map[string]string{"APIRule": "apirule-v2.schema.json", "Istio": "istio-authorizers.schema.json"} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := c.AddResource(file, doc); err != nil {
			return nil, err
		}
		if out[kind], err = c.Compile(file); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return out, nil
}

// verdict of kexpose's schema: "" when it accepts, else its error.
func (o ownSchemas) verdict(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	s, ok := o[kind]
	if !ok {
		return "no kexpose schema for " + kind
	}
	raw, _ := json.Marshal(obj)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err.Error()
	}
	if err := s.Validate(inst); err != nil {
		return strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return ""
}

func main() {
	crds := flag.String("crds", "conformance/crds", "CRD directory (with SOURCE.md)")
	repo := flag.String("repo", ".", "kexpose repository root")
	kexpose := flag.String("kexpose", "", "kexpose binary (renders every fixture and round-trip spec)")
	schemas := flag.String("schemas", "", "kexpose's output schemas (default <repo>/schemas)")
	casesFile := flag.String("cases", "", "negative cases (default <repo>/conformance/apirule-cases.yaml)")
	istioCRDs := flag.String("istio-crds", "", "Istio's generated CRD file (crd-all.gen.yaml of the istio.io/istio module conformance/istio pins): also validate the plain-Istio golden trees")
	flag.Parse()
	if *casesFile == "" {
		*casesFile = filepath.Join(*repo, "conformance/apirule-cases.yaml")
	}
	if *schemas == "" {
		*schemas = filepath.Join(*repo, "schemas")
	}
	reg, err := loadCRDs(*crds)
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	if *istioCRDs != "" {
		if err := reg.loadIstioCRDs(*istioCRDs); err != nil {
			fmt.Println("FAIL", err)
			os.Exit(1)
		}
	}
	own, err := loadOwnSchemas(*schemas)
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	work, err := os.MkdirTemp("", "kexpose-apivalidate-")
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	defer os.RemoveAll(work)
	targets, problems := collect(*repo, work, *kexpose, *istioCRDs != "")
	failed := len(problems)
	for _, p := range problems {
		fmt.Println("FAIL", p)
	}
	n := 0
	for _, t := range targets {
		objs, err := readObjects(t.path)
		if err != nil {
			fmt.Println("FAIL", t.label, err)
			failed++
			continue
		}
		for _, o := range objs {
			n++
			if errs := reg.validate(o); len(errs) > 0 {
				failed++
				fmt.Printf("FAIL %s: the API server rejects it:\n  %s\n", t.label, strings.Join(errs, "\n  "))
			} else {
				fmt.Printf("ok   %s (%s)\n", t.label, o["kind"])
			}
		}
	}
	// negative cases
	var table struct {
		Cases []negCase `json:"cases"`
	}
	b, err := os.ReadFile(*casesFile)
	if err == nil {
		err = yaml.UnmarshalStrict(b, &table)
	}
	if err != nil {
		fmt.Println("FAIL", *casesFile, err)
		failed++
	}
	for _, c := range table.Cases {
		objs, err := readObjects(filepath.Join(*repo, c.Base))
		if err != nil || len(objs) == 0 {
			fmt.Println("FAIL case", c.ID, "base:", err)
			failed++
			continue
		}
		o := objs[0]
		raw, _ := json.Marshal(o)
		_ = json.Unmarshal(raw, &o)
		for ptr, v := range c.Set {
			if err := setPointer(o, ptr, v); err != nil {
				fmt.Println("FAIL case", c.ID, err)
				failed++
			}
		}
		schemaSays := "accept"
		if v := own.verdict(o); v != "" {
			schemaSays = "reject"
		}
		errs := reg.validate(o)
		joined := strings.Join(errs, "; ")
		if schemaSays != c.Schema {
			failed++
			fmt.Printf("FAIL case %s [%s]: kexpose's schema says %s, the table records %q (API server: %q)\n", c.ID, c.Code, schemaSays, c.Schema, joined)
			continue
		}
		apiSays := "reject"
		if len(errs) == 0 {
			apiSays = "accept"
		}
		if apiSays != schemaSays && c.Note == "" {
			failed++
			fmt.Printf("FAIL case %s [%s]: kexpose's schema says %s, the API server says %s: record why in `note` (the API server wins)\n", c.ID, c.Code, schemaSays, apiSays)
			continue
		}
		switch {
		case c.Accept && len(errs) == 0:
			fmt.Printf("ok   case %s [%s]: accepted\n", c.ID, c.Code)
		case c.Accept:
			failed++
			fmt.Printf("FAIL case %s [%s]: expected the API server to accept, it says: %s\n", c.ID, c.Code, joined)
		case c.Reject != "" && strings.Contains(joined, c.Reject):
			fmt.Printf("ok   case %s [%s]: rejected: %s\n", c.ID, c.Code, joined)
		default:
			failed++
			fmt.Printf("FAIL case %s [%s]: expected a rejection containing %q, got: %q\n", c.ID, c.Code, c.Reject, joined)
		}
	}
	if n == 0 || len(table.Cases) == 0 {
		failed++
		fmt.Println("FAIL no objects or no cases found: nothing was checked")
	}
	fmt.Printf("\napi server validation (k8s.io/apiextensions-apiserver %s): %d objects, %d cases, %d failed\n", apiextVersion(*repo), n, len(table.Cases), failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func apiextVersion(repo string) string {
	b, _ := os.ReadFile(filepath.Join(repo, "conformance/go.mod"))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "k8s.io/apiextensions-apiserver" {
			return f[1]
		}
	}
	return "unknown"
}

// setPointer sets a JSON pointer in doc; nil deletes; "-" appends to a list.
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
