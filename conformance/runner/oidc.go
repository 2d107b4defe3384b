package main

// A real OIDC provider on loopback, enough for oauth2-proxy's oidc provider with
// skip-jwt-bearer-tokens: discovery (/.well-known/openid-configuration), JWKS, and a token
// endpoint for the client-credentials grant. Tokens are RS256 JWTs signed with go-jose; the test
// chooses every claim (iss, aud, scope, exp, ...). It serves https with a self-signed certificate
// (the CA is handed to oauth2-proxy through SSL_CERT_FILE, which Go's crypto/x509 reads on Linux),
// or plain http for the cases about http issuers.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

type provider struct {
	// Issuer is what discovery says and what tokens carry by default.
	Issuer string
	key    *rsa.PrivateKey
	kid    string
	srv    *http.Server
	// Client credentials the token endpoint accepts.
	clientID, clientSecret string
	tokens                 atomic.Int64
}

// tlsMaterial is one self-signed certificate for 127.0.0.1, shared by the https providers.
type tlsMaterial struct {
	cert   tls.Certificate
	caFile string
}

func newTLSMaterial(dir string) (*tlsMaterial, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kexpose conformance loopback"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	caFile := dir + "/loopback-ca.pem"
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return &tlsMaterial{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile: caFile}, nil
}

// startProvider listens on 127.0.0.1 (a free port). tlsm nil → plain http. The issuer is
// <scheme>://127.0.0.1:<port><prefix> (a prefix like Keycloak's /realms/<name>); every endpoint
// lives under it.
func startProvider(name string, tlsm *tlsMaterial, clientID, clientSecret, prefix string) (*provider, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if tlsm != nil {
		scheme = "https"
	}
	p := &provider{
		Issuer:       fmt.Sprintf("%s://%s%s", scheme, ln.Addr().String(), prefix),
		key:          key,
		kid:          name + "-1",
		clientID:     clientID,
		clientSecret: clientSecret,
	}
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+"/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc(prefix+"/jwks", p.jwks)
	mux.HandleFunc(prefix+"/token", p.token)
	mux.HandleFunc(prefix+"/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "interactive login is not part of the conformance suite", http.StatusBadRequest)
	})
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if tlsm != nil {
		p.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{tlsm.cert}, MinVersion: tls.VersionTLS12}
		go p.srv.ServeTLS(ln, "", "")
	} else {
		go p.srv.Serve(ln)
	}
	return p, nil
}

func (p *provider) stop() { _ = p.srv.Close() }

func (p *provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"userinfo_endpoint":                     p.Issuer + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
	})
}

func (p *provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

// token implements the client-credentials grant (RFC 6749 §4.4) with client_secret_basic or
// client_secret_post. The token's aud is the client ID, as IAS issues them.
func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	// Any client ID with the suite's secret: the authorizers under test use different IDs.
	if id == "" || secret != p.clientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	scope := r.PostForm.Get("scope")
	tok, err := p.sign(map[string]any{"aud": id, "sub": id, "azp": id, "scope": scope})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// sign issues a token: defaults (iss, sub, azp = client ID, iat, exp = +1h) overridden by
// claims; a claim set to nil is removed.
func (p *provider) sign(claims map[string]any) (string, error) {
	p.tokens.Add(1)
	now := time.Now()
	all := map[string]any{
		"iss": p.Issuer,
		"sub": p.clientID,
		"azp": p.clientID,
		"aud": p.clientID,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"jti": fmt.Sprintf("%d", p.tokens.Load()),
	}
	for k, v := range claims {
		if v == nil {
			delete(all, k)
		} else {
			all[k] = v
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.kid))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(all).Serialize()
}

// clientCredentialsToken fetches a token from the token endpoint like a real client would.
func (p *provider) clientCredentialsToken(c *http.Client, clientID, scope string) (string, error) {
	body := "grant_type=client_credentials&scope=" + strings.ReplaceAll(scope, " ", "+")
	req, err := http.NewRequest(http.MethodPost, p.Issuer+"/token", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(clientID, p.clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("token endpoint: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.AccessToken, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
