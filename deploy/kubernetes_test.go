package deploy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"tsgate/auth"
	"tsgate/gateway"
	"tsgate/internal/gatewaytest"
)

// kustomization is the part of kustomize's file the manifests use,
// decoded strictly: a key kustomize does not have is an error here too.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
}

// manifests is one variant as kustomize assembles it: the objects of its
// directory and of the bases it names.
type manifests struct {
	kust    kustomization
	objects []any
}

// newObject is the API type a manifest decodes into, by apiVersion and
// kind; a kind the manifests should not have is an error.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, nil
	}
	return nil, fmt.Errorf("unexpected %s %s", apiVersion, kind)
}

// loadVariant reads dir's kustomization and, recursively, every resource
// it lists, decoding each document strictly (unknown or repeated fields
// are errors) into its Kubernetes API type. Every YAML file in a
// directory must be listed: a manifest kustomize would not apply is a
// mistake.
func loadVariant(t *testing.T, dir string) manifests {
	t.Helper()
	var m manifests
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, &m.kust); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	if m.kust.APIVersion != "kustomize.config.k8s.io/v1beta1" || m.kust.Kind != "Kustomization" {
		t.Errorf("%s/kustomization.yaml: %s %s", dir, m.kust.APIVersion, m.kust.Kind)
	}
	listed := map[string]bool{"kustomization.yaml": true}
	for _, r := range m.kust.Resources {
		p := filepath.Join(dir, r)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s lists %s: %v", dir, r, err)
		}
		if st.IsDir() {
			base := loadVariant(t, p)
			m.objects = append(m.objects, base.objects...)
			continue
		}
		listed[r] = true
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s #%d: %v", p, i, err)
			}
			obj, err := newObject(tm.APIVersion, tm.Kind)
			if err != nil {
				t.Fatalf("%s #%d: %v", p, i, err)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s #%d (%s): %v", p, i, tm.Kind, err)
			}
			m.objects = append(m.objects, obj)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in %s/kustomization.yaml", f, dir)
		}
	}
	return m
}

// all returns the variant's objects of type T.
func all[T any](m manifests) []T {
	var out []T
	for _, o := range m.objects {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func one[T any](t *testing.T, m manifests) T {
	t.Helper()
	xs := all[T](m)
	if len(xs) != 1 {
		var zero T
		t.Fatalf("%d objects of type %T, want 1", len(xs), zero)
	}
	return xs[0]
}

// workload is what the Deployment and the StatefulSet share.
type workload struct {
	name     string
	replicas int32
	labels   map[string]string
	selector *metav1.LabelSelector
	pod      corev1.PodSpec
}

// containerEnv is the environment tsgate sees in the container: the
// variables set on it and those of the Secrets and ConfigMaps it takes
// whole.
func containerEnv(t *testing.T, m manifests, c corev1.Container) []string {
	t.Helper()
	var env []string
	for _, from := range c.EnvFrom {
		switch {
		case from.SecretRef != nil:
			var found bool
			for _, s := range all[*corev1.Secret](m) {
				if s.Name != from.SecretRef.Name {
					continue
				}
				found = true
				for k, v := range s.StringData {
					env = append(env, k+"="+v)
				}
				for k, v := range s.Data {
					env = append(env, k+"="+string(v))
				}
			}
			if !found {
				t.Errorf("envFrom names Secret %s, which the variant lacks", from.SecretRef.Name)
			}
		default:
			t.Errorf("envFrom other than a Secret: %+v", from)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("env %s: valueFrom; put secrets in the envFrom Secret", e.Name)
		}
		env = append(env, e.Name+"="+e.Value)
	}
	return env
}

// probePort resolves a probe's port (a container port's name or number)
// to the number.
func probePort(t *testing.T, c corev1.Container, p *corev1.Probe) int32 {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Fatalf("container %s: probe %+v is not an HTTP GET", c.Name, p)
	}
	if p.HTTPGet.Port.IntValue() != 0 {
		return int32(p.HTTPGet.Port.IntValue())
	}
	for _, cp := range c.Ports {
		if cp.Name == p.HTTPGet.Port.String() {
			return cp.ContainerPort
		}
	}
	t.Fatalf("probe port %s names no container port", p.HTTPGet.Port.String())
	return 0
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// dockerUID is the image's USER, which the pods must run as.
func dockerUID(t *testing.T) int64 {
	t.Helper()
	user, _ := readDockerfile(t).Stages[1].last("USER")
	uid, _, _ := strings.Cut(user.Args[0], ":")
	n, err := strconv.ParseInt(uid, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKubernetesManifests decodes both variants into the Kubernetes API
// types and checks them against tsgate itself: the ConfigMap's
// tsgate.toml with the Secrets' variables loads with tsgate's own
// configuration loader; container ports are the configured listeners and
// tsgate's defaults; the probes GET /ready and /health on the Arc port,
// and those paths (and the ServiceMonitor's) answer 200 on a gateway run
// from that configuration; the grace period outlasts shutdown_timeout and
// the preStop pause; the Service, ServiceMonitor, autoscaler and
// disruption budget select what they should. The remote variant shares
// tokens and memtrace metadata through PostgreSQL; the embedded one is a
// single replica on a persistent volume.
func TestKubernetesManifests(t *testing.T) {
	def := gateway.Default()
	defaultPorts := map[string]int32{
		"arc":      int32(listenPort(t, def.Arc.Listen)),
		"memtrace": int32(listenPort(t, def.Memtrace.Listen)),
		"pgwire":   int32(listenPort(t, def.PGWire.Listen)),
	}
	uid := dockerUID(t)
	for _, variant := range []string{"remote", "embedded"} {
		t.Run(variant, func(t *testing.T) {
			m := loadVariant(t, filepath.Join("kubernetes", variant))
			var w workload
			switch variant {
			case "remote":
				d := one[*appsv1.Deployment](t, m)
				w = workload{d.Name, *d.Spec.Replicas, d.Spec.Template.Labels, d.Spec.Selector, d.Spec.Template.Spec}
				if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable.IntValue() != 0 {
					t.Error("rolling update may take a serving replica away before its successor is ready")
				}
			case "embedded":
				s := one[*appsv1.StatefulSet](t, m)
				w = workload{s.Name, *s.Spec.Replicas, s.Spec.Template.Labels, s.Spec.Selector, s.Spec.Template.Spec}
			}
			sel, err := metav1.LabelSelectorAsSelector(w.selector)
			if err != nil || !sel.Matches(labels.Set(w.labels)) {
				t.Fatalf("%s: selector %v does not match its pods' labels %v", w.name, w.selector, w.labels)
			}
			if len(w.pod.Containers) != 1 {
				t.Fatalf("%d containers", len(w.pod.Containers))
			}
			c := w.pod.Containers[0]

			// The image kustomize sets.
			name, tag, _ := strings.Cut(c.Image, ":")
			if len(m.kust.Images) != 1 || m.kust.Images[0].Name != name || m.kust.Images[0].NewTag == "" || tag == "latest" {
				t.Errorf("image %s, kustomization images %+v: want a pinned tag set through kustomize", c.Image, m.kust.Images)
			}

			// The configuration, loaded as tsgate loads it.
			cm := one[*corev1.ConfigMap](t, m)
			if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/tsgate/tsgate.toml"}) {
				t.Errorf("args %v", c.Args)
			}
			mounts := map[string]string{}
			for _, vm := range c.VolumeMounts {
				mounts[vm.Name] = vm.MountPath
			}
			var configVolume bool
			for _, v := range w.pod.Volumes {
				if v.ConfigMap != nil && v.ConfigMap.Name == cm.Name && mounts[v.Name] == "/etc/tsgate" {
					configVolume = true
				}
			}
			if !configVolume {
				t.Errorf("ConfigMap %s is not mounted at /etc/tsgate", cm.Name)
			}
			file := filepath.Join(t.TempDir(), "tsgate.toml")
			if err := os.WriteFile(file, []byte(cm.Data["tsgate.toml"]), 0o600); err != nil {
				t.Fatal(err)
			}
			env := containerEnv(t, m, c)
			cfg, _, err := gateway.LoadConfig(file, env)
			if err != nil {
				t.Fatalf("tsgate.toml with the container's environment: %v", err)
			}

			// Ports: the configured listeners, which are tsgate's defaults.
			for _, l := range []struct{ name, listen string }{
				{"arc", cfg.Arc.Listen}, {"memtrace", cfg.Memtrace.Listen}, {"pgwire", cfg.PGWire.Listen},
			} {
				got := containerPort(c, l.name)
				if got != int32(listenPort(t, l.listen)) || got != defaultPorts[l.name] {
					t.Errorf("container port %s = %d; configured %s, default %d", l.name, got, l.listen, defaultPorts[l.name])
				}
			}

			// Probes.
			for _, p := range []struct {
				what  string
				probe *corev1.Probe
				path  string
			}{
				{"readiness", c.ReadinessProbe, "/ready"},
				{"liveness", c.LivenessProbe, "/health"},
				{"startup", c.StartupProbe, "/health"},
			} {
				if got := probePort(t, c, p.probe); got != defaultPorts["arc"] || p.probe.HTTPGet.Path != p.path {
					t.Errorf("%s probe GET %s on %d, want %s on the Arc port %d", p.what, p.probe.HTTPGet.Path, got, p.path, defaultPorts["arc"])
				}
			}
			// /ready waits up to 5 s for the backend (wire/arc readyz).
			if c.ReadinessProbe.TimeoutSeconds <= 5 {
				t.Errorf("readiness timeout %ds: /ready may take 5 s to ask the backend", c.ReadinessProbe.TimeoutSeconds)
			}
			if c.LivenessProbe.FailureThreshold*c.LivenessProbe.PeriodSeconds < 30 {
				t.Error("liveness restarts the pod within 30 s of trouble: a long query or GC pause would kill it")
			}

			// Graceful termination.
			var preStop time.Duration
			if ps := c.Lifecycle; ps != nil && ps.PreStop != nil && ps.PreStop.Sleep != nil {
				preStop = time.Duration(ps.PreStop.Sleep.Seconds) * time.Second
			}
			grace := time.Duration(*w.pod.TerminationGracePeriodSeconds) * time.Second
			if grace <= cfg.ShutdownTimeout.Duration+preStop || cfg.ShutdownTimeout.Duration < def.ShutdownTimeout.Duration {
				t.Errorf("terminationGracePeriodSeconds %s must exceed shutdown_timeout %s (default %s) plus the preStop pause %s",
					grace, cfg.ShutdownTimeout, def.ShutdownTimeout, preStop)
			}

			// Storage: the data directory is a volume.
			if mounts["data"] != cfg.DataDir {
				t.Errorf("volume data mounted at %q, data_dir is %q", mounts["data"], cfg.DataDir)
			}

			// Security: the image's user, nothing writable but volumes.
			psc, sc := w.pod.SecurityContext, c.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != uid ||
				psc.FSGroup == nil || *psc.FSGroup != uid {
				t.Errorf("pod security context %+v: want runAsNonRoot as the image's user %d (and its group for the volume)", psc, uid)
			}
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
				*sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("container security context %+v", sc)
			}

			// Resources: requests to schedule by, a memory limit above
			// what DuckDB is allowed.
			req, lim := c.Resources.Requests, c.Resources.Limits
			if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
				t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
			}
			if cfg.DuckDB.MemoryLimit != "" {
				q, err := resource.ParseQuantity(strings.TrimSuffix(cfg.DuckDB.MemoryLimit, "B"))
				if err != nil || q.Cmp(*lim.Memory()) >= 0 {
					t.Errorf("duckdb.memory_limit %s not below the memory limit %s", cfg.DuckDB.MemoryLimit, lim.Memory())
				}
			}

			// The Service and the scrape.
			var svc *corev1.Service
			for _, s := range all[*corev1.Service](m) {
				ssel := labels.SelectorFromSet(s.Spec.Selector)
				if !ssel.Matches(labels.Set(w.labels)) {
					t.Errorf("Service %s selects %v, not the pods", s.Name, s.Spec.Selector)
				}
				for _, p := range s.Spec.Ports {
					if got := containerPort(c, p.TargetPort.String()); got == 0 || got != p.Port {
						t.Errorf("Service %s port %s: targetPort %s is container port %d, service port %d", s.Name, p.Name, p.TargetPort.String(), got, p.Port)
					}
				}
				if s.Name == "tsgate" {
					svc = s
				}
			}
			if svc == nil || len(svc.Spec.Ports) != 3 {
				t.Fatalf("no Service tsgate with the three front ends")
			}
			sm := one[*monitoringv1.ServiceMonitor](t, m)
			smsel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
			if err != nil || !smsel.Matches(labels.Set(svc.Labels)) {
				t.Errorf("ServiceMonitor selects %v, not Service %s (%v)", sm.Spec.Selector, svc.Name, svc.Labels)
			}
			if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "arc" || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Errorf("ServiceMonitor endpoints %+v: want /metrics on the arc port once (memtrace's /metrics is the same registry)", sm.Spec.Endpoints)
			}

			// No real credential is committed: every secret value is a
			// placeholder tsgate refuses.
			for _, s := range all[*corev1.Secret](m) {
				for k, v := range s.StringData {
					if !strings.Contains(v, "REPLACE_ME") {
						t.Errorf("Secret %s %s holds a value, not a placeholder", s.Name, k)
					}
				}
			}

			switch variant {
			case "remote":
				// Replicas share state: tokens and memtrace's metadata in
				// PostgreSQL, data in the backend.
				if w.replicas < 2 || cfg.Backend.URL == "" || !auth.IsPostgresURL(cfg.Auth.StoreURL) || !auth.IsPostgresURL(cfg.Memtrace.Metadata.URL) {
					t.Errorf("%d replicas, backend.url %q, auth.store_url %q, memtrace.metadata.url %q: replicas need a remote backend and shared PostgreSQL state",
						w.replicas, cfg.Backend.URL, cfg.Auth.StoreURL, cfg.Memtrace.Metadata.URL)
				}
				hpa := one[*autoscalingv2.HorizontalPodAutoscaler](t, m)
				if ref := hpa.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != w.name || ref.APIVersion != "apps/v1" {
					t.Errorf("HPA scales %+v, not Deployment %s", ref, w.name)
				}
				if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas || len(hpa.Spec.Metrics) == 0 {
					t.Errorf("HPA %+v", hpa.Spec)
				}
				pdb := one[*policyv1.PodDisruptionBudget](t, m)
				psel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
				if err != nil || !psel.Matches(labels.Set(w.labels)) || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() < 1 {
					t.Errorf("PDB %+v does not leave room to drain one replica of %s", pdb.Spec, w.name)
				}
			case "embedded":
				s := one[*appsv1.StatefulSet](t, m)
				if w.replicas != 1 || cfg.Backend.URL != "" {
					t.Errorf("%d replicas, backend.url %q: the embedded store has one writer", w.replicas, cfg.Backend.URL)
				}
				var headless bool
				for _, hs := range all[*corev1.Service](m) {
					headless = headless || hs.Name == s.Spec.ServiceName && hs.Spec.ClusterIP == corev1.ClusterIPNone
				}
				if !headless {
					t.Errorf("serviceName %s is not a headless Service of the variant", s.Spec.ServiceName)
				}
				if len(s.Spec.VolumeClaimTemplates) != 1 || s.Spec.VolumeClaimTemplates[0].Name != "data" ||
					s.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().IsZero() {
					t.Errorf("volume claim templates %+v: want the data volume", s.Spec.VolumeClaimTemplates)
				}
				if n := len(all[*autoscalingv2.HorizontalPodAutoscaler](m)) + len(all[*policyv1.PodDisruptionBudget](m)); n != 0 {
					t.Errorf("%d autoscalers and disruption budgets for a single writer", n)
				}
			}

			// The probe and scrape paths on a gateway started from this
			// configuration (on loopback ports, in a temporary data
			// directory, on the embedded store: /ready asks the backend,
			// and the remote ones here are placeholders).
			run := cfg
			run.DataDir = t.TempDir()
			run.Arc.Listen, run.Memtrace.Listen, run.PGWire.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
			run.Backend.URL, run.Auth.StoreURL, run.Memtrace.Metadata.URL = "", "", ""
			run.Auth.BootstrapToken, run.Memtrace.BootstrapKey = "manifest-test-token-0123456789", ""
			base := serve(t, run)
			for _, path := range []string{c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path, c.StartupProbe.HTTPGet.Path, sm.Spec.Endpoints[0].Path} {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("GET %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(body))
				}
			}
		})
	}
}

// serve runs a gateway with cfg until the test ends and returns its Arc
// API's base URL once it is ready.
func serve(t testing.TB, cfg gateway.Config) string {
	t.Helper()
	base := gatewaytest.ArcBase(gatewaytest.Start(t, cfg))
	gatewaytest.WaitReady(t, base, 10*time.Second)
	return base
}
