package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/gateway"
)

// instruction is one Dockerfile instruction: its keyword, leading
// --flags, and arguments (the JSON array of the exec form, else the
// whitespace-separated words).
type instruction struct {
	Cmd   string
	Flags map[string]string
	Args  []string
	JSON  bool
	Raw   string
	Line  int
}

// stage is a FROM and what follows it.
type stage struct {
	From, Name string
	Instrs     []instruction
}

// dockerfile is a parsed Dockerfile: the ARGs before the first FROM and
// the stages.
type dockerfile struct {
	GlobalArgs map[string]string
	Stages     []stage
}

// parseDockerfile reads Dockerfile syntax: comments, line continuations
// (comment lines inside one are dropped, as BuildKit does), flags, exec
// and shell forms. Global ARG defaults are expanded in FROM lines.
func parseDockerfile(src []byte) (*dockerfile, error) {
	df := &dockerfile{GlobalArgs: map[string]string{}}
	var (
		logical strings.Builder
		start   int
	)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	flush := func() error {
		line := strings.TrimSpace(logical.String())
		logical.Reset()
		if line == "" {
			return nil
		}
		ins, err := parseInstruction(line, start)
		if err != nil {
			return err
		}
		switch {
		case ins.Cmd == "FROM":
			if len(ins.Args) != 1 && !(len(ins.Args) == 3 && strings.EqualFold(ins.Args[1], "AS")) {
				return fmt.Errorf("line %d: FROM image [AS name]", ins.Line)
			}
			st := stage{From: expand(ins.Args[0], df.GlobalArgs)}
			if len(ins.Args) == 3 {
				st.Name = ins.Args[2]
			}
			df.Stages = append(df.Stages, st)
		case len(df.Stages) == 0:
			if ins.Cmd != "ARG" {
				return fmt.Errorf("line %d: %s before the first FROM", ins.Line, ins.Cmd)
			}
			for _, a := range ins.Args {
				k, v, _ := strings.Cut(a, "=")
				df.GlobalArgs[k] = strings.Trim(v, `"`)
			}
		default:
			st := &df.Stages[len(df.Stages)-1]
			st.Instrs = append(st.Instrs, ins)
		}
		return nil
	}
	for sc.Scan() {
		n++
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if logical.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = n
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(text, " \t"), `\`); ok {
			logical.WriteString(body + " ")
			continue
		}
		logical.WriteString(text)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if logical.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation at the end of the file", start)
	}
	if len(df.Stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return df, nil
}

func parseInstruction(line string, n int) (instruction, error) {
	cmd, rest, _ := strings.Cut(line, " ")
	ins := instruction{Cmd: strings.ToUpper(cmd), Flags: map[string]string{}, Raw: line, Line: n}
	rest = strings.TrimSpace(rest)
	for strings.HasPrefix(rest, "--") {
		var flag string
		flag, rest, _ = strings.Cut(rest, " ")
		k, v, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		ins.Flags[k] = v
		rest = strings.TrimSpace(rest)
	}
	if ins.Cmd == "HEALTHCHECK" {
		// HEALTHCHECK [flags] CMD …: the command is the arguments.
		kw, cmdRest, _ := strings.Cut(rest, " ")
		if !strings.EqualFold(kw, "CMD") && !strings.EqualFold(kw, "NONE") {
			return ins, fmt.Errorf("line %d: HEALTHCHECK needs CMD or NONE", n)
		}
		rest = strings.TrimSpace(cmdRest)
	}
	if strings.HasPrefix(rest, "[") {
		if err := json.Unmarshal([]byte(rest), &ins.Args); err == nil {
			ins.JSON = true
			return ins, nil
		}
	}
	ins.Args = strings.Fields(rest)
	return ins, nil
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

func expand(s string, args map[string]string) string {
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		return args[argRef.FindStringSubmatch(m)[1]]
	})
}

// all returns the stage's instructions of kind cmd.
func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, i := range s.Instrs {
		if i.Cmd == cmd {
			out = append(out, i)
		}
	}
	return out
}

func (s stage) last(cmd string) (instruction, bool) {
	all := s.all(cmd)
	if len(all) == 0 {
		return instruction{}, false
	}
	return all[len(all)-1], true
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := parseDockerfile(b)
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// listenPort is the port of a listen address like ":8000".
func listenPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDockerfile checks the image's instructions against what tsgate
// needs and its defaults: a Go build on Debian bookworm with the module's
// Go version, a bookworm-slim runtime, a non-root numeric user, the data
// directory as the /data volume, tsgate's default ports exposed, a health
// check that reaches /health, exec-form entry point, OCI labels, and
// COPY sources that exist.
func TestDockerfile(t *testing.T) {
	df := readDockerfile(t)
	root := repoRoot(t)
	if len(df.Stages) != 2 {
		t.Fatalf("%d stages, want build and runtime", len(df.Stages))
	}
	build, run := df.Stages[0], df.Stages[1]

	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if want := "golang:" + string(goVersion[1]) + "-bookworm"; build.From != want || build.Name != "build" {
		t.Errorf("build stage FROM %s AS %s, want %s AS build (go.mod's Go on the runtime's Debian)", build.From, build.Name, want)
	}
	if run.From != "debian:bookworm-slim" {
		t.Errorf("runtime FROM %s, want debian:bookworm-slim (glibc and libstdc++ for DuckDB)", run.From)
	}

	for _, st := range df.Stages {
		for _, c := range st.all("COPY") {
			if c.Flags["from"] != "" {
				continue
			}
			for _, src := range c.Args[:len(c.Args)-1] {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("line %d: COPY source %s: %v", c.Line, src, err)
				}
			}
		}
	}
	copies := run.all("COPY")
	if len(copies) != 1 || copies[0].Flags["from"] != "build" || copies[0].Args[1] != "/usr/local/bin/tsgate" {
		t.Errorf("runtime COPY %+v, want the binary from the build stage to /usr/local/bin/tsgate", copies)
	}

	user, ok := run.last("USER")
	if !ok {
		t.Fatal("no USER: the image would run as root")
	}
	uid, _, _ := strings.Cut(user.Args[0], ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %s: want a numeric non-root uid (Kubernetes runAsNonRoot checks numbers)", user.Args[0])
	}
	env := map[string]string{}
	for _, e := range run.all("ENV") {
		for _, kv := range e.Args {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	vol, _ := run.last("VOLUME")
	if d := cmp.Diff([]string{"/data"}, vol.Args); d != "" || env["TSGATE_DATA_DIR"] != "/data" {
		t.Errorf("VOLUME %v and TSGATE_DATA_DIR=%q: want the data directory /data as the volume", vol.Args, env["TSGATE_DATA_DIR"])
	}
	var exposed []int
	for _, e := range run.all("EXPOSE") {
		for _, p := range e.Args {
			n, err := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
			if err != nil {
				t.Errorf("EXPOSE %s", p)
			}
			exposed = append(exposed, n)
		}
	}
	def := gateway.Default()
	want := []int{listenPort(t, def.Arc.Listen), listenPort(t, def.Memtrace.Listen), listenPort(t, def.PGWire.Listen)}
	if d := cmp.Diff(want, exposed); d != "" {
		t.Errorf("EXPOSE differs from tsgate's default listeners (-want +got):\n%s", d)
	}
	hc, ok := run.last("HEALTHCHECK")
	if !ok || !hc.JSON || !slices.Equal(hc.Args, []string{"/usr/local/bin/tsgate", "healthcheck"}) {
		t.Errorf("HEALTHCHECK %q: want the exec form of tsgate healthcheck (GET /health)", hc.Raw)
	}
	for _, f := range []string{"interval", "timeout", "start-period", "retries"} {
		if hc.Flags[f] == "" {
			t.Errorf("HEALTHCHECK without --%s", f)
		}
	}
	ep, _ := run.last("ENTRYPOINT")
	cmd, _ := run.last("CMD")
	if !ep.JSON || !slices.Equal(ep.Args, []string{"/usr/local/bin/tsgate"}) || !cmd.JSON || !slices.Equal(cmd.Args, []string{"serve"}) {
		t.Errorf("ENTRYPOINT %q CMD %q: want exec form (tsgate is PID 1 and gets SIGTERM to drain)", ep.Raw, cmd.Raw)
	}
	labels := map[string]bool{}
	for _, l := range run.all("LABEL") {
		for _, m := range regexp.MustCompile(`(org\.opencontainers\.image\.[a-z.]+)=`).FindAllStringSubmatch(l.Raw, -1) {
			labels[m[1]] = true
		}
	}
	for _, k := range []string{"title", "description", "version", "revision", "created", "base.name"} {
		if !labels["org.opencontainers.image."+k] {
			t.Errorf("no OCI label org.opencontainers.image.%s", k)
		}
	}
}

// TestImageBuildSteps runs the build stage's RUN steps on this host (CI
// runs Debian bookworm, the build image's system) with the build stage's
// /out under a temporary directory, then checks what the runtime stage
// gets: a binary that prints its version, needs only libraries
// debian:bookworm-slim ships, and whose HEALTHCHECK command passes
// against it serving and fails when nothing serves.
func TestImageBuildSteps(t *testing.T) {
	df := readDockerfile(t)
	root := repoRoot(t)
	build := df.Stages[0]
	out := t.TempDir()
	args := map[string]string{}
	for _, a := range build.all("ARG") {
		k, v, _ := strings.Cut(a.Args[0], "=")
		args[k] = v
	}
	args["VERSION"] = "0.0.0-test"
	for _, r := range build.all("RUN") {
		script := strings.Join(r.Args, " ")
		if r.JSON {
			t.Fatalf("line %d: exec-form RUN; the build steps are shell commands", r.Line)
		}
		script = strings.ReplaceAll(script, "/out/", out+"/")
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = root
		cmd.Env = os.Environ()
		for k, v := range args {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("line %d: %s: %v\n%s", r.Line, script, err, b)
		}
		t.Logf("line %d: %s (%s)", r.Line, script, time.Since(start).Round(time.Second))
	}
	bin := filepath.Join(out, "tsgate")
	v, err := exec.Command(bin, "version").Output()
	if err != nil || strings.TrimSpace(string(v)) != "tsgate 0.0.0-test" {
		t.Errorf("version: %q %v", v, err)
	}
	ldd, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatalf("ldd: %v", err)
	}
	// What debian:bookworm-slim has: libc6 (libc, libm, the loader),
	// libgcc-s1 and libstdc++6 (apt needs them).
	slim := []string{"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libpthread.so.0", "libdl.so.2"}
	for _, line := range strings.Split(strings.TrimSpace(string(ldd)), "\n") {
		name := filepath.Base(strings.Fields(line)[0])
		if !slices.Contains(slim, name) {
			t.Errorf("the binary needs %s, which debian:bookworm-slim lacks", name)
		}
	}

	// The HEALTHCHECK command, as the image runs it: same environment as
	// the server, so it finds arc.listen from it.
	hc, _ := df.Stages[1].last("HEALTHCHECK")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env := append(os.Environ(), "TSGATE_DATA_DIR="+t.TempDir(), "TSGATE_ARC_LISTEN="+addr,
		"TSGATE_MEMTRACE_LISTEN=", "TSGATE_PGWIRE_LISTEN=", "TSGATE_AUTH_BOOTSTRAP_TOKEN=image-test-token-0123456789")
	check := func() error {
		c := exec.Command(bin, hc.Args[1:]...)
		c.Env = env
		return c.Run()
	}
	if err := check(); err == nil {
		t.Error("healthcheck passed with nothing serving")
	}
	srv := exec.Command(bin, "serve")
	srv.Env = env
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the built binary never served /health")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := check(); err != nil {
		t.Errorf("healthcheck against the serving binary: %v", err)
	}
}

// TestDockerignore: the build context leaves out what must not be in an
// image (VCS history, local state) and keeps what the build needs.
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines[l] = true
		}
	}
	for _, want := range []string{".git", "data/", "bin/"} {
		if !lines[want] {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
	for _, keep := range []string{"go.mod", "go.sum", "scripts", "cmd", "conformance"} {
		if lines[keep] || lines[keep+"/"] {
			t.Errorf(".dockerignore excludes %s, which the build needs", keep)
		}
	}
}

// FuzzDockerfile: the parser refuses or reads any input, never panics, and
// whatever it reads has a FROM first.
func FuzzDockerfile(f *testing.F) {
	f.Add([]byte("ARG V=1\nFROM a:${V} AS b\nRUN x \\\n # c\n y\nCMD [\"z\"]\n"))
	f.Add([]byte("FROM a\nHEALTHCHECK --interval=1s CMD [\"x\"]\nLABEL a=b \\\n  c=d\n"))
	f.Add([]byte("RUN x\n"))
	f.Add([]byte("FROM\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		df, err := parseDockerfile(src)
		if err != nil {
			return
		}
		if len(df.Stages) == 0 {
			t.Error("parsed without a stage")
		}
	})
}
