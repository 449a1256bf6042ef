package validate

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	gatewayName = "pleskgate" // the Deployment, its container, Service, HPA and PDB
	gatewayPort = 8080
	// apiKeysPlaceholder is the example Secret's stand-in hash; the gateway
	// refuses to start with it, so an unedited example cannot go live.
	apiKeysPlaceholder = "REPLACE_WITH_SHA256_HEX_OF_THE_KEY"
)

// TestBase renders the base alone: every object decodes strictly and holds
// together, though the base is meant to be used through an overlay.
func TestBase(t *testing.T) {
	objs := onDisk(t, "base")
	checkReferences(t, objs)
	for _, d := range ofType[*appsv1.Deployment](objs) {
		checkWorkload(t, d)
	}
	checkGateway(t, objs)
}

func TestSandboxOverlay(t *testing.T) {
	objs := onDisk(t, "overlays/sandbox")
	checkNamespace(t, objs, "pleskgate-sandbox")
	checkReferences(t, objs)
	for _, d := range ofType[*appsv1.Deployment](objs) {
		checkWorkload(t, d)
	}
	env := checkGateway(t, objs)

	// No upstream: each pod runs its own simulator, so nothing may be shared.
	for _, name := range []string{"PLESKGATE_UPSTREAM_URL", "PLESKGATE_REDIS_URL"} {
		if _, ok := env[name]; ok {
			t.Errorf("sandbox sets %s; it must run the in-process simulator with per-pod state", name)
		}
	}
	if env["PLESKGATE_AUTH_MODE"] != "passthrough" {
		t.Errorf("sandbox auth mode %q, want passthrough", env["PLESKGATE_AUTH_MODE"])
	}
	if _, ok := env["PLESKGATE_SANDBOX_PASSWORD"]; !ok {
		t.Error("sandbox pods need one shared PLESKGATE_SANDBOX_PASSWORD, or each has a random one")
	}
	if svc := named[*corev1.Service](objs, gatewayName); svc == nil || svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		t.Error("sandbox Service must pin callers to one pod (sessionAffinity: ClientIP): state is per pod")
	}
	if hpas := ofType[*autoscalingv2.HorizontalPodAutoscaler](objs); len(hpas) > 0 {
		t.Error("sandbox must not autoscale: a new pod is a fresh simulator")
	}
}

func TestProductionOverlay(t *testing.T) {
	objs := onDisk(t, "overlays/production")
	checkNamespace(t, objs, "pleskgate")
	checkReferences(t, objs)
	for _, d := range ofType[*appsv1.Deployment](objs) {
		checkWorkload(t, d)
	}
	env := checkGateway(t, objs)
	gw := named[*appsv1.Deployment](objs, gatewayName)

	if u, err := url.Parse(env["PLESKGATE_UPSTREAM_URL"]); err != nil || u.Scheme != "https" {
		t.Errorf("PLESKGATE_UPSTREAM_URL=%q: production talks to a panel over https", env["PLESKGATE_UPSTREAM_URL"])
	}
	if env["PLESKGATE_UPSTREAM_INSECURE"] == "true" {
		t.Error("production must not skip TLS verification")
	}
	if env["PLESKGATE_AUTH_MODE"] != "service" {
		t.Errorf("PLESKGATE_AUTH_MODE=%q, want service", env["PLESKGATE_AUTH_MODE"])
	}
	_, key := env["PLESKGATE_UPSTREAM_KEY"]
	_, login := env["PLESKGATE_UPSTREAM_LOGIN"]
	_, password := env["PLESKGATE_UPSTREAM_PASSWORD"]
	if !key && !(login && password) {
		t.Error("service mode needs PLESKGATE_UPSTREAM_KEY or PLESKGATE_UPSTREAM_LOGIN and _PASSWORD")
	}
	checkAPIKeysFile(t, objs, gw, env["PLESKGATE_API_KEYS_FILE"])
	checkRedis(t, objs, env["PLESKGATE_REDIS_URL"])
	checkStateSecret(t, gw)

	hpa := named[*autoscalingv2.HorizontalPodAutoscaler](objs, gatewayName)
	if hpa == nil {
		t.Fatal("production has no HorizontalPodAutoscaler")
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
		t.Errorf("HPA replicas min %v max %d: want min >= 2 <= max", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	cpu := slices.ContainsFunc(hpa.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
		return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU
	})
	if !cpu {
		t.Error("HPA does not scale on CPU")
	}
	if img := gw.Spec.Template.Spec.Containers[0].Image; strings.HasSuffix(img, ":latest") || !strings.Contains(path.Base(img), ":") && !strings.Contains(img, "@") {
		t.Errorf("production image %q: pin a tag or digest", img)
	}
}

// checkStateSecret: with Redis, PLESKGATE_STATE_SECRET is required
// (DESIGN.md §5), so it comes from a Secret that must exist, never from the
// ConfigMap or a literal.
func checkStateSecret(t *testing.T, gw *appsv1.Deployment) {
	t.Helper()
	for _, e := range gw.Spec.Template.Spec.Containers[0].Env {
		if e.Name != "PLESKGATE_STATE_SECRET" {
			continue
		}
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Fatal("PLESKGATE_STATE_SECRET must come from a Secret (secretKeyRef)")
		}
		if o := e.ValueFrom.SecretKeyRef.Optional; o != nil && *o {
			t.Error("PLESKGATE_STATE_SECRET's secretKeyRef must not be optional: the gateway refuses to start without it")
		}
		return
	}
	t.Error("production shares state in Redis but sets no PLESKGATE_STATE_SECRET")
}

// checkNamespace: every object lives in ns, which the overlay creates under
// the "restricted" Pod Security Standard the pods are written to meet.
func checkNamespace(t *testing.T, objs []metav1.Object, ns string) {
	t.Helper()
	for _, o := range objs {
		if _, isNS := o.(*corev1.Namespace); !isNS && o.GetNamespace() != ns {
			t.Errorf("%T %s is in namespace %q, want %q", o, o.GetName(), o.GetNamespace(), ns)
		}
	}
	n := named[*corev1.Namespace](objs, ns)
	if n == nil {
		t.Fatalf("no Namespace %s", ns)
	}
	if n.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("Namespace %s does not enforce the restricted Pod Security Standard", ns)
	}
}

// podsOf returns the Deployments whose pods sel selects.
func podsOf(objs []metav1.Object, sel *metav1.LabelSelector) []*appsv1.Deployment {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return nil
	}
	var out []*appsv1.Deployment
	for _, d := range ofType[*appsv1.Deployment](objs) {
		if s.Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, d)
		}
	}
	return out
}

// hasPort reports whether a container of d serves port (a name or a number).
func hasPort(d *appsv1.Deployment, port intstr.IntOrString) (int32, bool) {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// secretKey returns a Secret's value for key, from data or stringData.
func secretKey(s *corev1.Secret, key string) (string, bool) {
	if v, ok := s.StringData[key]; ok {
		return v, true
	}
	v, ok := s.Data[key]
	return string(v), ok
}

// checkReferences: every name one object uses for another resolves in the
// rendered output (kustomize renames generated ConfigMaps and Secrets, so a
// reference it did not rewrite points at nothing).
func checkReferences(t *testing.T, objs []metav1.Object) {
	t.Helper()
	secret := func(name string) *corev1.Secret { return named[*corev1.Secret](objs, name) }
	configMap := func(name string) *corev1.ConfigMap { return named[*corev1.ConfigMap](objs, name) }
	for _, d := range ofType[*appsv1.Deployment](objs) {
		spec := d.Spec.Template.Spec
		volumes := map[string]bool{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = true
			if v.Secret != nil {
				s := secret(v.Secret.SecretName)
				if s == nil {
					t.Errorf("%s: volume %s: no Secret %s", d.Name, v.Name, v.Secret.SecretName)
					continue
				}
				for _, it := range v.Secret.Items {
					if _, ok := secretKey(s, it.Key); !ok {
						t.Errorf("%s: volume %s: Secret %s has no key %s", d.Name, v.Name, s.Name, it.Key)
					}
				}
			}
			if v.ConfigMap != nil && configMap(v.ConfigMap.Name) == nil {
				t.Errorf("%s: volume %s: no ConfigMap %s", d.Name, v.Name, v.ConfigMap.Name)
			}
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil && configMap(ef.ConfigMapRef.Name) == nil {
					t.Errorf("%s/%s: envFrom: no ConfigMap %s", d.Name, c.Name, ef.ConfigMapRef.Name)
				}
				if ef.SecretRef != nil && secret(ef.SecretRef.Name) == nil {
					t.Errorf("%s/%s: envFrom: no Secret %s", d.Name, c.Name, ef.SecretRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					if s := secret(r.Name); s == nil {
						t.Errorf("%s/%s: %s: no Secret %s", d.Name, c.Name, e.Name, r.Name)
					} else if _, ok := secretKey(s, r.Key); !ok {
						t.Errorf("%s/%s: %s: Secret %s has no key %s", d.Name, c.Name, e.Name, r.Name, r.Key)
					}
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					if cm := configMap(r.Name); cm == nil {
						t.Errorf("%s/%s: %s: no ConfigMap %s", d.Name, c.Name, e.Name, r.Name)
					} else if _, ok := cm.Data[r.Key]; !ok {
						t.Errorf("%s/%s: %s: ConfigMap %s has no key %s", d.Name, c.Name, e.Name, r.Name, r.Key)
					}
				}
			}
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("%s/%s: volumeMount %s names no volume", d.Name, c.Name, m.Name)
				}
			}
		}
	}
	for _, svc := range ofType[*corev1.Service](objs) {
		backends := podsOf(objs, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector})
		if len(backends) == 0 {
			t.Errorf("Service %s selects no Deployment's pods", svc.Name)
			continue
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := hasPort(backends[0], p.TargetPort); !ok {
				t.Errorf("Service %s port %s: %s has no container port %s", svc.Name, p.Name, backends[0].Name, p.TargetPort.String())
			}
		}
	}
	for _, h := range ofType[*autoscalingv2.HorizontalPodAutoscaler](objs) {
		ref := h.Spec.ScaleTargetRef
		if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || named[*appsv1.Deployment](objs, ref.Name) == nil {
			t.Errorf("HPA %s targets %s %s %s, which is not here", h.Name, ref.APIVersion, ref.Kind, ref.Name)
		}
	}
	for _, p := range ofType[*policyv1.PodDisruptionBudget](objs) {
		ds := podsOf(objs, p.Spec.Selector)
		if len(ds) == 0 {
			t.Errorf("PodDisruptionBudget %s selects no pods", p.Name)
		}
		for _, d := range ds {
			if p.Spec.MinAvailable != nil && d.Spec.Replicas != nil && p.Spec.MinAvailable.IntValue() >= int(*d.Spec.Replicas) {
				t.Errorf("PodDisruptionBudget %s: minAvailable %s with %d replicas blocks every drain", p.Name, p.Spec.MinAvailable.String(), *d.Spec.Replicas)
			}
		}
	}
	for _, np := range ofType[*networkingv1.NetworkPolicy](objs) {
		if len(podsOf(objs, &np.Spec.PodSelector)) == 0 {
			t.Errorf("NetworkPolicy %s selects no pods", np.Name)
		}
		for _, in := range np.Spec.Ingress {
			for _, from := range in.From {
				if from.PodSelector != nil && len(podsOf(objs, from.PodSelector)) == 0 {
					t.Errorf("NetworkPolicy %s admits pods that no Deployment here runs", np.Name)
				}
			}
		}
	}
}

// checkWorkload holds every Deployment to the restricted Pod Security
// Standard, with resources and probes.
func checkWorkload(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("%s: selector does not match its own pod labels", d.Name)
	}
	spec := d.Spec.Template.Spec
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Errorf("%s: uses host namespaces", d.Name)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be false (it never calls the Kubernetes API)", d.Name)
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("%s: enableServiceLinks must be false: a Service named pleskgate[-…] would inject PLESKGATE_* variables", d.Name)
	}
	for _, v := range spec.Volumes {
		if v.Secret == nil && v.ConfigMap == nil && v.EmptyDir == nil && v.Projected == nil && v.DownwardAPI == nil && v.PersistentVolumeClaim == nil && v.CSI == nil && v.Ephemeral == nil {
			t.Errorf("%s: volume %s is of a type the restricted standard forbids", d.Name, v.Name)
		}
	}
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s/%s: no securityContext", d.Name, c.Name)
			continue
		}
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = pod.RunAsNonRoot
		}
		if nonRoot == nil || !*nonRoot {
			t.Errorf("%s/%s: runAsNonRoot is not true", d.Name, c.Name)
		}
		uid := sc.RunAsUser
		if uid == nil {
			uid = pod.RunAsUser
		}
		if uid != nil && *uid == 0 {
			t.Errorf("%s/%s: runs as uid 0", d.Name, c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s/%s: allowPrivilegeEscalation must be false", d.Name, c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s/%s: privileged", d.Name, c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s/%s: readOnlyRootFilesystem must be true", d.Name, c.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s/%s: capabilities must drop ALL and add none", d.Name, c.Name)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = pod.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s/%s: seccompProfile must be RuntimeDefault", d.Name, c.Name)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[r]
			lim, okLim := c.Resources.Limits[r]
			if !okReq || !okLim {
				t.Errorf("%s/%s: %s needs a request and a limit", d.Name, c.Name, r)
			} else if req.Cmp(lim) > 0 {
				t.Errorf("%s/%s: %s request %s above limit %s", d.Name, c.Name, r, req.String(), lim.String())
			}
		}
		if c.Image == "" {
			t.Errorf("%s/%s: no image", d.Name, c.Name)
		}
		for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil {
				t.Errorf("%s/%s: no %s probe", d.Name, c.Name, kind)
				continue
			}
			var port *intstr.IntOrString
			switch {
			case p.HTTPGet != nil:
				port = &p.HTTPGet.Port
			case p.TCPSocket != nil:
				port = &p.TCPSocket.Port
			}
			if port != nil {
				if _, ok := hasPort(d, *port); !ok {
					t.Errorf("%s/%s: %s probe port %s is not a container port", d.Name, c.Name, kind, port.String())
				}
			}
		}
	}
}

// checkGateway checks the pleskgate Deployment and returns its effective
// PLESKGATE_* environment: ConfigMap values, literal values, and "" for values
// taken from Secrets.
func checkGateway(t *testing.T, objs []metav1.Object) map[string]string {
	t.Helper()
	d := named[*appsv1.Deployment](objs, gatewayName)
	if d == nil {
		t.Fatalf("no Deployment %s", gatewayName)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("%s: replicas %v, want at least 2", d.Name, d.Spec.Replicas)
	}
	tmpl := d.Spec.Template
	for k, want := range map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   "8080",
		"prometheus.io/path":   "/metrics",
	} {
		if got := tmpl.Annotations[k]; got != want {
			t.Errorf("%s: pod annotation %s=%q, want %q", d.Name, k, got, want)
		}
	}
	spread := len(tmpl.Spec.TopologySpreadConstraints) > 0 ||
		(tmpl.Spec.Affinity != nil && tmpl.Spec.Affinity.PodAntiAffinity != nil)
	if !spread {
		t.Errorf("%s: replicas are not spread (topologySpreadConstraints or podAntiAffinity)", d.Name)
	}
	if sc := tmpl.Spec.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != int64(imageUID(t)) {
		t.Errorf("%s: pod runAsUser should be the image's USER %d", d.Name, imageUID(t))
	}
	i := slices.IndexFunc(tmpl.Spec.Containers, func(c corev1.Container) bool { return c.Name == gatewayName })
	if i < 0 {
		t.Fatalf("%s: no container %s", d.Name, gatewayName)
	}
	c := tmpl.Spec.Containers[i]
	if p, ok := hasPort(d, intstr.FromInt32(gatewayPort)); !ok || p != gatewayPort {
		t.Errorf("%s: container does not serve port %d", d.Name, gatewayPort)
	}
	for _, pc := range []struct {
		kind, path string
		probe      *corev1.Probe
	}{{"readiness", "/readyz", c.ReadinessProbe}, {"liveness", "/healthz", c.LivenessProbe}} {
		if pc.probe == nil || pc.probe.HTTPGet == nil {
			t.Errorf("%s: %s probe is not an HTTP GET", d.Name, pc.kind)
			continue
		}
		if pc.probe.HTTPGet.Path != pc.path {
			t.Errorf("%s: %s probe path %q, want %q", d.Name, pc.kind, pc.probe.HTTPGet.Path, pc.path)
		}
		if p, _ := hasPort(d, pc.probe.HTTPGet.Port); p != gatewayPort {
			t.Errorf("%s: %s probe port %s is not %d", d.Name, pc.kind, pc.probe.HTTPGet.Port.String(), gatewayPort)
		}
	}

	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			if cm := named[*corev1.ConfigMap](objs, ef.ConfigMapRef.Name); cm != nil {
				for k, v := range cm.Data {
					env[ef.Prefix+k] = v
				}
			}
		}
		if ef.SecretRef != nil {
			if s := named[*corev1.Secret](objs, ef.SecretRef.Name); s != nil {
				for k := range s.Data {
					env[ef.Prefix+k] = ""
				}
				for k := range s.StringData {
					env[ef.Prefix+k] = ""
				}
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			env[e.Name] = ""
		} else {
			env[e.Name] = e.Value
		}
	}
	for _, err := range checkSettings(env) {
		t.Errorf("%s: %v", d.Name, err)
	}
	listen := env["PLESKGATE_LISTEN"]
	if listen == "" {
		listen = ":8080" // DESIGN.md §6 default
	}
	if _, port, _ := net.SplitHostPort(listen); port != "8080" {
		t.Errorf("%s: PLESKGATE_LISTEN=%q but the container port, probes and scrape annotation say 8080", d.Name, listen)
	}
	return env
}

// checkAPIKeysFile: the file PLESKGATE_API_KEYS_FILE names is mounted from a
// Secret whose content is the gateway's key list.
func checkAPIKeysFile(t *testing.T, objs []metav1.Object, d *appsv1.Deployment, file string) {
	t.Helper()
	if file == "" {
		t.Error("service mode needs PLESKGATE_API_KEYS_FILE")
		return
	}
	c := d.Spec.Template.Spec.Containers[0]
	var content string
	found := false
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok || m.SubPath != "" {
			continue
		}
		vi := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if vi < 0 || d.Spec.Template.Spec.Volumes[vi].Secret == nil {
			continue
		}
		vs := d.Spec.Template.Spec.Volumes[vi].Secret
		key := rel
		if len(vs.Items) > 0 {
			key = ""
			for _, it := range vs.Items {
				if it.Path == rel {
					key = it.Key
				}
			}
		}
		if s := named[*corev1.Secret](objs, vs.SecretName); s != nil && key != "" {
			content, found = secretKey(s, key)
		}
	}
	if !found {
		t.Fatalf("PLESKGATE_API_KEYS_FILE=%s is not a file mounted from a Secret", file)
	}
	var keys []struct {
		Name   string `json:"name"`
		Scope  string `json:"scope"`
		SHA256 string `json:"sha256"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(content)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&keys); err != nil {
		t.Fatalf("API keys file: %v", err)
	}
	if len(keys) == 0 {
		t.Error("API keys file lists no keys")
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k.Name == "" || seen[k.Name] {
			t.Errorf("API key name %q: want a unique name", k.Name)
		}
		seen[k.Name] = true
		if k.Scope != "read" && k.Scope != "write" {
			t.Errorf("API key %s: scope %q, want read or write", k.Name, k.Scope)
		}
		if h, err := hex.DecodeString(k.SHA256); (err != nil || len(h) != 32) && k.SHA256 != apiKeysPlaceholder {
			t.Errorf("API key %s: sha256 %q is neither 64 hex digits nor the placeholder", k.Name, k.SHA256)
		}
	}
}

// checkRedis: PLESKGATE_REDIS_URL names a Service here, on a port it serves,
// in front of running pods that a NetworkPolicy lets the gateway reach.
func checkRedis(t *testing.T, objs []metav1.Object, redisURL string) {
	t.Helper()
	u, err := url.Parse(redisURL)
	if redisURL == "" || err != nil {
		t.Fatalf("PLESKGATE_REDIS_URL=%q: production shares its caches in Redis", redisURL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "6379"
	}
	svc := named[*corev1.Service](objs, strings.Split(host, ".")[0])
	if svc == nil {
		t.Fatalf("PLESKGATE_REDIS_URL host %s is not a Service in this overlay", host)
	}
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return strconv.Itoa(int(p.Port)) == port }) {
		t.Errorf("Service %s does not serve port %s", svc.Name, port)
	}
	redis := podsOf(objs, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector})
	gw := named[*appsv1.Deployment](objs, gatewayName)
	allowed := false
	for _, np := range ofType[*networkingv1.NetworkPolicy](objs) {
		if !slices.Equal(podsOf(objs, &np.Spec.PodSelector), redis) {
			continue
		}
		for _, in := range np.Spec.Ingress {
			for _, from := range in.From {
				if from.PodSelector != nil && slices.Contains(podsOf(objs, from.PodSelector), gw) {
					allowed = true
				}
			}
		}
	}
	if !allowed {
		t.Error("no NetworkPolicy admits the gateway's pods to Redis")
	}
}
