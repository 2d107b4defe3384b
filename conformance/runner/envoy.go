package main

// The HTTP check request Envoy's ext_authz filter sends for an Istio envoyExtAuthzHttp provider,
// built from the rendered Kyma Istio CR authorizer entry.
//
// Sources:
//   - Kyma istio operator a6a4fb3b, api/v1alpha2/istio_merge.go: authorizer → extension provider
//     (pathPrefix, port, headers.inCheck.include → includeRequestHeadersInCheck,
//     headers.inCheck.add → includeAdditionalHeadersInCheck).
//   - Istio pilot/pkg/security/authz/builder/extauthz.go: includeRequestHeadersInCheck →
//     ext_authz allowed_headers, pathPrefix → http_service.path_prefix.
//   - Envoy source/extensions/filters/http/ext_authz/ext_authz.cc (FilterConfig): for an HTTP
//     service the allowed-headers matcher is built with add_http_headers = true, and
//     source/extensions/filters/common/ext_authz/check_request_utils.cc toRequestMatchers then adds
//     Authorization, :method, :path and Host to the user's list — these four are ALWAYS forwarded.
//   - Envoy source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc (RawHttpClientImpl):
//     the check request keeps the original method, its :path is path_prefix + original :path, it
//     carries `content-length: 0` and no body (no with_request_body in Istio unless
//     includeRequestBodyInCheck), and only a 200 response allows; any other status denies.

import (
	"fmt"
	"net/http"
	"strings"
)

type authorizerEntry struct {
	Name       string `json:"name"`
	Service    string `json:"service"`
	Port       int    `json:"port"`
	PathPrefix string `json:"pathPrefix"`
	Timeout    string `json:"timeout"`
	Headers    struct {
		InCheck struct {
			Include []string          `json:"include"`
			Add     map[string]string `json:"add"`
		} `json:"inCheck"`
	} `json:"headers"`
}

// original is the request a client sends to the workload through the gateway.
type original struct {
	Method  string
	Host    string
	Path    string // with query
	Headers map[string]string
}

// checkRequest builds what Envoy sends to the authorizer at base (http://127.0.0.1:port).
func checkRequest(e authorizerEntry, o original, base string) (*http.Request, error) {
	allowed := map[string]bool{"authorization": true} // :method, :path, host handled below
	for _, h := range e.Headers.InCheck.Include {
		allowed[strings.ToLower(h)] = true
	}
	req, err := http.NewRequest(o.Method, base, nil)
	if err != nil {
		return nil, err
	}
	// :path = path_prefix + original :path, byte for byte (set as the raw request URI).
	req.URL.Opaque = ""
	path := e.PathPrefix + o.Path
	u, err := req.URL.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("check path %q: %w", path, err)
	}
	req.URL = u
	req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(base, "http://")
	req.Host = o.Host
	for k, v := range o.Headers {
		if allowed[strings.ToLower(k)] {
			req.Header.Set(k, v)
		}
	}
	for k, v := range e.Headers.InCheck.Add {
		if strings.Contains(v, "%") {
			return nil, fmt.Errorf("includeAdditionalHeadersInCheck value %q uses Envoy substitutions, not emulated", v)
		}
		req.Header.Set(k, v)
	}
	req.ContentLength = 0
	req.Header.Set("Content-Length", "0")
	return req, nil
}
