package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// lockedBuffer collects a process's combined output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type proxyProc struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{}
	exitErr error
	HTTP    string // http://127.0.0.1:port
}

// every started process, so that main can stop them all (also on failure paths).
var (
	procsMu sync.Mutex
	procs   []*proxyProc
)

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startProxy starts oauth2-proxy with exactly the chart's args and env (config file path and
// listen addresses replaced by local ones), and waits until /ping answers or the process exits.
//
// The free ports are found by binding and closing, so another program on this shared machine can
// take one before oauth2-proxy binds it: a start that fails with "address already in use" is
// retried on fresh ports (a few times), and never counted as oauth2-proxy's verdict.
func startProxy(bin, workDir string, values map[string]any, sec secretData, caFile string) (*proxyProc, *chartRender, error) {
	for attempt := 1; ; attempt++ {
		p, r, err := startProxyOnce(bin, workDir, values, sec, caFile)
		if err == nil && p.exited() && strings.Contains(p.out.String(), "address already in use") && attempt < 5 {
			continue
		}
		return p, r, err
	}
}

func startProxyOnce(bin, workDir string, values map[string]any, sec secretData, caFile string) (*proxyProc, *chartRender, error) {
	httpAddr, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	httpsAddr, _ := freePort()
	metricsAddr, _ := freePort()
	r, err := renderChart(values, sec, httpAddr, httpsAddr, metricsAddr)
	if err != nil {
		return nil, nil, err
	}
	args := append([]string{}, r.Args...)
	if r.ConfigFile != "" {
		// The chart mounts the ConfigMap at /etc/oauth2_proxy/oauth2_proxy.cfg and passes
		// --config=/etc/oauth2_proxy/oauth2_proxy.cfg after extraArgs.
		cfg := workDir + "/oauth2_proxy.cfg"
		if err := os.WriteFile(cfg, []byte(r.ConfigFile), 0o600); err != nil {
			return nil, nil, err
		}
		args = append(args, "--config="+cfg)
	}
	cmd := exec.Command(bin, args...)
	env := []string{"SSL_CERT_FILE=" + caFile, "HOME=" + workDir}
	keys := make([]string, 0, len(r.Env))
	for k := range r.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+r.Env[k])
	}
	cmd.Env = env
	cmd.Dir = workDir
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Killed with the runner even if the runner itself is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	p := &proxyProc{cmd: cmd, out: out, done: make(chan struct{}), HTTP: "http://" + httpAddr}
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	go func() { p.exitErr = cmd.Wait(); close(p.done) }()
	client := &http.Client{Timeout: time.Second}
	// generous: the machine may be busy; a start normally takes well under a second
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return p, r, nil
		default:
		}
		// "Starts" as the chart's probes see it: livenessProbe GET /ping and readinessProbe
		// GET /ready (chart 10.7.0, oauth2-proxy > 7.4.0) both answer 200.
		if get200(client, p.HTTP+"/ping") && get200(client, p.HTTP+"/ready") {
			return p, r, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return nil, nil, fmt.Errorf("oauth2-proxy neither became ready (/ping and /ready 200) nor exited within 90s; output:\n%s", out.String())
}

func (p *proxyProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proxyProc) stop() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func stopAll() {
	procsMu.Lock()
	defer procsMu.Unlock()
	for _, p := range procs {
		p.stop()
	}
}

func get200(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}
