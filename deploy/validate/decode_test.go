package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kinds are the objects the manifests may contain, each with its k8s.io/api
// type. An object of any other kind fails: nothing ships undecoded.
var kinds = map[string]func() metav1.Object{
	"v1/ConfigMap":                           func() metav1.Object { return new(corev1.ConfigMap) },
	"v1/Namespace":                           func() metav1.Object { return new(corev1.Namespace) },
	"v1/Secret":                              func() metav1.Object { return new(corev1.Secret) },
	"v1/Service":                             func() metav1.Object { return new(corev1.Service) },
	"apps/v1/Deployment":                     func() metav1.Object { return new(appsv1.Deployment) },
	"autoscaling/v2/HorizontalPodAutoscaler": func() metav1.Object { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"policy/v1/PodDisruptionBudget":          func() metav1.Object { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1/NetworkPolicy":     func() metav1.Object { return new(networkingv1.NetworkPolicy) },
}

// decodeStrict decodes one YAML document into its k8s.io/api type the way an
// API server does with fieldValidation=Strict: an unknown field, a field in
// the wrong case or a duplicate key is an error, not silently dropped.
func decodeStrict(doc []byte) (metav1.Object, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("%s %s: not a kind this test knows; add it to kinds", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, errors.Join(strict...)
	}
	return obj, nil
}

// render builds the kustomization in dir, as `kubectl kustomize dir` would,
// and decodes every object strictly.
func render(fSys filesys.FileSystem, dir string) ([]metav1.Object, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fSys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var objs []metav1.Object
	for _, r := range m.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		obj, err := decodeStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// onDisk renders deploy/kubernetes/<dir>.
func onDisk(t *testing.T, dir string) []metav1.Object {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(repoRoot, "deploy", "kubernetes", dir))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// inMemory copies deploy/kubernetes into an in-memory file system at
// /kubernetes, after edit has had its way with each file.
func inMemory(t *testing.T, edit func(rel string, data []byte) []byte) filesys.FileSystem {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	root := filepath.Join(repoRoot, "deploy", "kubernetes")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		return mem.WriteFile(path.Join("/kubernetes", rel), edit(rel, data))
	})
	if err != nil {
		t.Fatal(err)
	}
	return mem
}

// ofType returns the objects of type T, in render order.
func ofType[T metav1.Object](objs []metav1.Object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// named returns the object of type T called name, or nil.
func named[T metav1.Object](objs []metav1.Object, name string) T {
	var zero T
	for _, o := range ofType[T](objs) {
		if o.GetName() == name {
			return o
		}
	}
	return zero
}

// TestStrictDecodeRejectsMisspelt proves that the pipeline the overlay tests
// use (kustomize build, then decodeStrict) fails on a misspelt field instead
// of dropping it, as kubectl apply without server-side validation would.
func TestStrictDecodeRejectsMisspelt(t *testing.T) {
	const dir = "/kubernetes/overlays/production"
	if _, err := render(inMemory(t, func(_ string, b []byte) []byte { return b }), dir); err != nil {
		t.Fatalf("the unedited copy must render: %v", err)
	}
	cases := []struct {
		name, file, from, to, want string
	}{
		{"replicass", "base/deployment.yaml", "\n  replicas: 2\n", "\n  replicass: 2\n", `unknown field "spec.replicass"`},
		{"readinesProbe", "base/deployment.yaml", "readinessProbe:", "readinesProbe:", `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"wrong case", "base/deployment.yaml", "readOnlyRootFilesystem: true", "readonlyRootFilesystem: true", `unknown field "spec.template.spec.containers[0].securityContext.readonlyRootFilesystem"`},
		{"in a patch", "overlays/production/deployment-patch.yaml", "secretKeyRef:\n                  name: pleskgate-credentials\n                  key: PLESKGATE_UPSTREAM_LOGIN", "secretKeyRef:\n                  nmae: pleskgate-credentials\n                  key: PLESKGATE_UPSTREAM_LOGIN", `unknown field`},
		{"in the HPA", "base/hpa.yaml", "minReplicas: 2", "minReplica: 2", `unknown field "spec.minReplica"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edited := false
			mem := inMemory(t, func(rel string, b []byte) []byte {
				if rel != c.file {
					return b
				}
				if n := strings.Count(string(b), c.from); n != 1 {
					t.Fatalf("%s: %q occurs %d times, want once", rel, c.from, n)
				}
				edited = true
				return []byte(strings.Replace(string(b), c.from, c.to, 1))
			})
			if !edited {
				t.Fatalf("%s not found", c.file)
			}
			_, err := render(mem, dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestDecodeStrictDirect shows the same on a bare document, without kustomize.
func TestDecodeStrictDirect(t *testing.T) {
	good := "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec: {minAvailable: 1}\n"
	if _, err := decodeStrict([]byte(good)); err != nil {
		t.Fatalf("good document: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(good, "minAvailable", "minAvailabel", 1),
		strings.Replace(good, "minAvailable", "MinAvailable", 1),
		good + "spec: {minAvailable: 2}\n", // duplicate key
		strings.Replace(good, "PodDisruptionBudget", "PodDisruptionBudgets", 1),
	} {
		if _, err := decodeStrict([]byte(bad)); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
}
