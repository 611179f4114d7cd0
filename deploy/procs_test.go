package deploy_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"linli/linlitest"
)

// The tools these tests run. scripts/test installs nginx and PgBouncer
// from Debian's packages when they are missing; without them a run that
// requires PostgreSQL fails, others skip.
func need(t *testing.T, tool string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/usr/local/sbin/"} {
		if p, err := exec.LookPath(dir + tool); err == nil {
			return p
		}
	}
	if linlitest.PostgresRequired() {
		t.Fatalf("%s is not installed (scripts/test installs it)", tool)
	}
	t.Skipf("%s is not installed", tool)
	return ""
}

// The server binary, built once per test run exactly as shipped.
var serverBin struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if serverBin.dir != "" {
		os.RemoveAll(serverBin.dir)
	}
	os.Exit(code)
}

func buildServer(t *testing.T) string {
	t.Helper()
	serverBin.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if serverBin.dir, serverBin.err = os.MkdirTemp("", "linli-deploy-"); serverBin.err != nil {
			return
		}
		serverBin.path = filepath.Join(serverBin.dir, "linli")
		out, err := exec.Command(goTool, "build", "-o", serverBin.path, "linli/server").CombinedOutput()
		if err != nil {
			serverBin.err = fmt.Errorf("go build ./server: %v\n%s", err, out)
		}
	})
	if serverBin.err != nil {
		t.Fatal(serverBin.err)
	}
	return serverBin.path
}

// freePort is a loopback address nobody listens on now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a child process of the test.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// start runs name args as a child process, killed when the test ends (or
// by stop).
func start(name string, args []string, env ...string) (*proc, error) {
	cmd := exec.Command(name, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: filepath.Base(name), cmd: cmd, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// kill SIGKILLs the process and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks the process to end (SIGTERM) and waits, killing it after 10 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// waitFor polls ready every 20 ms until it is true, the process exits, or
// timeout passes.
func (p *proc) waitFor(timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited: %s", p.name, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %s", p.name, timeout, p.out.String())
		}
	}
	return nil
}

func listening(addr string) func() bool {
	return func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
}

// linli is a running server process.
type linli struct {
	*proc
	addr string
}

// startLinli runs the server binary with args and waits until /readyz
// answers 200.
func startLinli(t *testing.T, args ...string) *linli {
	t.Helper()
	addr := freePort(t)
	args = append([]string{"-addr", addr, "-demo=false", "-log-level", "warn", "-id-key", linlitest.TestIDKey,
		"-login-rate", "0", "-max-connections-per-person", "-1"}, args...)
	p, err := start(buildServer(t), args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("linli %s output:\n%s", addr, p.out.String())
		}
	})
	err = p.waitFor(60*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		t.Fatal(err)
	}
	return &linli{p, addr}
}

// fill writes the template file name of this directory, filled with data,
// to dir.
func fill(t testing.TB, name, dir string, data any) string {
	t.Helper()
	tmpl, err := template.ParseFiles(name)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startNginx runs nginx with deploy/nginx.conf in front of replicas and
// returns its address.
func startNginx(t *testing.T, replicas ...string) string {
	t.Helper()
	bin := need(t, "nginx")
	dir := t.TempDir()
	listen := freePort(t)
	fill(t, "nginx.conf", dir, map[string]any{"Listen": listen, "Replicas": replicas})
	var temps string
	for _, d := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
		temps += fmt.Sprintf("    %s_temp_path %s;\n", d, filepath.Join(dir, d))
	}
	// The main configuration around the deployment's file: in the
	// foreground, everything in dir, workers as the test's user.
	main := fmt.Sprintf(`daemon off;
worker_processes 2;
pid %[1]s/nginx.pid;
error_log stderr warn;
%[2]s
events { worker_connections 1024; }
http {
    access_log off;
%[3]s    include %[1]s/nginx.conf;
}
`, dir, userDirective(), temps)
	conf := filepath.Join(dir, "main.conf")
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := start(bin, []string{"-p", dir, "-e", "stderr", "-c", conf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("nginx output:\n%s", p.out.String())
		}
	})
	if err := p.waitFor(20*time.Second, listening(listen)); err != nil {
		t.Fatal(err)
	}
	return listen
}

// userDirective keeps nginx's workers as the user running the test (as
// root nginx would switch them to nobody, who cannot read the temp dir).
func userDirective() string {
	if os.Geteuid() != 0 {
		return ""
	}
	u, err := user.Current()
	if err != nil {
		return "user root;"
	}
	return "user " + u.Username + ";"
}

// hostPort splits a URL's host:port.
func hostPort(t testing.TB, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}
