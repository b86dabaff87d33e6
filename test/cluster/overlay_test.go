package cluster

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/k8slint/k8slint/internal/docstest"
	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

// fixK8slint is the one code path that adds k8slint to a user's Corefile:
// dnslint's fix of corefile-k8slint-missing, alone.
var fixK8slint = []string{"--enable", "corefile-k8slint-missing", "--fix"}

// overlays copies deploy/kustomize into a temporary directory and puts
// userCM, a ConfigMap as `kubectl get -o yaml` prints it, where
// docs/operator.md has the user save it: rollback/coredns-configmap.yaml
// as it is, coredns-custom/coredns-configmap.yaml after dnslint --fix.
func overlays(t *testing.T, dnslint, userCM string) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := docstest.CopyRepo(filepath.Join(root, "deploy", "kustomize"), dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"rollback", "coredns-custom"} {
		if err := os.WriteFile(filepath.Join(dir, sub, "coredns-configmap.yaml"), []byte(userCM), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(dnslint, append(fixK8slint, filepath.Join(dir, "coredns-custom", "coredns-configmap.yaml"))...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dnslint %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
	return dir
}

// object is a rendered object, decoded loosely.
type object map[string]any

func (o object) id() string {
	md, _ := o["metadata"].(map[string]any)
	return o["kind"].(string) + " " + md["namespace"].(string) + "/" + md["name"].(string)
}

// render renders dir with the kustomize Go API and decodes its objects by
// kind and name.
func render(t *testing.T, dir string) ([]byte, map[string]object) {
	t.Helper()
	out, err := Render(dir)
	if err != nil {
		t.Fatalf("kustomize %s: %v", dir, err)
	}
	objs := map[string]object{}
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			t.Fatalf("%s: %v\n%s", dir, err, doc)
		}
		objs[o.id()] = o
	}
	return out, objs
}

func keys(m map[string]object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// configMap decodes a rendered ConfigMap strictly.
func configMap(t *testing.T, o object) corev1.ConfigMap {
	t.Helper()
	b, err := yaml.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(b, &cm); err != nil {
		t.Fatal(err)
	}
	return cm
}

// addedLines returns the lines of after that are not in before, when
// after is before with lines inserted; otherwise ok is false.
func addedLines(before, after string) (added []string, ok bool) {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	i := 0
	for _, l := range a {
		if i < len(b) && l == b[i] {
			i++
			continue
		}
		added = append(added, strings.TrimSpace(l))
	}
	return added, i == len(b)
}

// The user's ConfigMaps of the render test, as `kubectl get -o yaml`
// prints them: kubeadm's, and one with a second key and an annotation of
// the user's, last applied client-side.
var userConfigMaps = map[string]string{
	"kubeadm": `apiVersion: v1
data:
  Corefile: |
    .:53 {
        errors
        health {
           lameduck 5s
        }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }
        prometheus :9153
        forward . /etc/resolv.conf {
           max_concurrent 1000
        }
        cache 30 {
           disable success cluster.local
           disable denial cluster.local
        }
        loop
        reload
        loadbalance
    }
kind: ConfigMap
metadata:
  creationTimestamp: "2026-12-01T18:04:51Z"
  name: coredns
  namespace: kube-system
  resourceVersion: "229"
  uid: 5b0f4c1e-8a55-4a3c-9d0e-3e4c7b1d2a90
`,
	"two-keys": `apiVersion: v1
data:
  Corefile: |
    .:53 {
        errors
        health
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
          pods insecure
          fallthrough in-addr.arpa ip6.arpa
        }
        hosts /etc/coredns/NodeHosts {
          ttl 60
          reload 15s
          fallthrough
        }
        prometheus :9153
        forward . /etc/resolv.conf
        cache 30
        loop
        reload
        loadbalance
    }
  NodeHosts: |
    10.88.0.1 kn
kind: ConfigMap
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"coredns","namespace":"kube-system"}}
    team.example.com/owner: dns
  labels:
    k8s-app: kube-dns
  creationTimestamp: "2026-12-01T18:04:51Z"
  name: coredns
  namespace: kube-system
  resourceVersion: "4711"
  uid: 0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5
`,
}

// The overlay renders, with the kustomize Go API, into exactly three
// objects: the user's ConfigMap with the line k8slint added by dnslint's
// fix and nothing else changed (other keys, labels and the user's
// annotations kept; what the API server maintains dropped), a Deployment
// holding only the coredns container's image, and the headless
// coredns-k8slint Service. The rollback renders the saved ConfigMap as it
// was; the ServiceMonitor decodes strictly into prometheus-operator's type
// and scrapes that Service with honorLabels.
func TestTheOverlaySwitchesTheImageAndAddsK8slintToTheUsersCorefileOnly(t *testing.T) {
	dnslint, err := testenv.Binary("./cmd/dnslint")
	if err != nil {
		t.Fatal(err)
	}
	var service object
	for name, userCM := range userConfigMaps {
		t.Run(name, func(t *testing.T) {
			var user corev1.ConfigMap
			if err := yaml.UnmarshalStrict([]byte(userCM), &user); err != nil {
				t.Fatal(err)
			}
			dir := overlays(t, dnslint, userCM)
			_, objs := render(t, filepath.Join(dir, "coredns-custom"))
			want := []string{"ConfigMap kube-system/coredns", "Deployment kube-system/coredns", "Service kube-system/coredns-k8slint"}
			if got := keys(objs); !reflect.DeepEqual(got, want) {
				t.Fatalf("rendered %v, want %v", got, want)
			}

			cm := configMap(t, objs[want[0]])
			checkServerFieldsDropped(t, cm, user)
			for k, v := range user.Data {
				if k != "Corefile" && cm.Data[k] != v {
					t.Errorf("key %s: %q, want it kept as %q", k, cm.Data[k], v)
				}
			}
			if len(cm.Data) != len(user.Data) {
				t.Errorf("keys %v, want those of the user's ConfigMap", cm.Data)
			}
			added, ok := addedLines(user.Data["Corefile"], cm.Data["Corefile"])
			if !ok || !reflect.DeepEqual(added, []string{"k8slint"}) {
				t.Errorf("the Corefile is not the user's plus one line k8slint (added %q):\n%s", added, cm.Data["Corefile"])
			}
			// What dnslint now says of the rendered ConfigMap: k8slint is
			// there, and CoreDNS v1.15.0's setup code (corefile-invalid)
			// accepts the Corefile.
			f := filepath.Join(t.TempDir(), "rendered.yaml")
			b, _ := yaml.Marshal(objs[want[0]])
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command(dnslint, "--fail-on", "error", f).CombinedOutput()
			for _, rule := range []string{"corefile-k8slint-missing", "corefile-invalid"} {
				if strings.Contains(string(out), rule) {
					t.Errorf("dnslint on the rendered ConfigMap reports %s:\n%s", rule, out)
				}
			}

			wantDep := object{"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "coredns", "namespace": "kube-system"},
				"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
					map[string]any{"name": "coredns", "image": CustomImage}}}}}}
			if got := objs[want[1]]; !reflect.DeepEqual(got, wantDep) {
				t.Errorf("Deployment:\n%v\nwant only the image:\n%v", got, wantDep)
			}
			service = objs[want[2]]

			_, back := render(t, filepath.Join(dir, "rollback"))
			if got := keys(back); !reflect.DeepEqual(got, want[:1]) {
				t.Fatalf("rollback rendered %v, want %v", got, want[:1])
			}
			old := configMap(t, back[want[0]])
			checkServerFieldsDropped(t, old, user)
			if !reflect.DeepEqual(old.Data, user.Data) {
				t.Errorf("rollback's ConfigMap data %v, want the saved %v", old.Data, user.Data)
			}
		})
	}

	b, _ := yaml.Marshal(service)
	var svc corev1.Service
	if err := yaml.UnmarshalStrict(b, &svc); err != nil {
		t.Fatal(err)
	}
	ports := map[string]int32{}
	for _, p := range svc.Spec.Ports {
		if p.Protocol != corev1.ProtocolTCP || p.TargetPort.IntValue() != int(p.Port) {
			t.Errorf("port %+v", p)
		}
		ports[p.Name] = p.Port
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || !reflect.DeepEqual(svc.Spec.Selector, map[string]string{"k8s-app": "kube-dns"}) ||
		!reflect.DeepEqual(ports, map[string]int32{"metrics": 9153, "report": 9154}) {
		t.Errorf("Service coredns-k8slint: %+v, want headless, selecting k8s-app=kube-dns, metrics 9153 and report 9154", svc.Spec)
	}

	root, _ := testenv.ModuleRoot()
	out, _ := render(t, filepath.Join(root, "deploy", "kustomize", "servicemonitor"))
	var sm monitoringv1.ServiceMonitor
	if err := yaml.UnmarshalStrict(out, &sm); err != nil {
		t.Fatalf("ServiceMonitor: %v\n%s", err, out)
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set(svc.Labels)) || !reflect.DeepEqual(sm.Spec.NamespaceSelector.MatchNames, []string{svc.Namespace}) {
		t.Errorf("ServiceMonitor selects %v in %v, the Service is %v in %s", sm.Spec.Selector, sm.Spec.NamespaceSelector, svc.Labels, svc.Namespace)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor endpoints %+v", sm.Spec.Endpoints)
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != "metrics" || !ep.HonorLabels {
		t.Errorf("endpoint %+v: want port metrics with honorLabels", ep)
	}
	if len(ep.RelabelConfigs) != 1 || ep.RelabelConfigs[0].TargetLabel != "job" || ep.RelabelConfigs[0].Replacement == nil || *ep.RelabelConfigs[0].Replacement != "kube-dns" {
		t.Errorf("endpoint relabelings %+v: want job=kube-dns, the mixin's default selector", ep.RelabelConfigs)
	}
}

// checkServerFieldsDropped checks that a rendered ConfigMap has the user's
// name, namespace, labels and annotations, without kubectl's
// last-applied-configuration and the fields the API server maintains.
func checkServerFieldsDropped(t *testing.T, cm, user corev1.ConfigMap) {
	t.Helper()
	if cm.ResourceVersion != "" || cm.UID != "" || !cm.CreationTimestamp.IsZero() || len(cm.ManagedFields) > 0 {
		t.Errorf("rendered ConfigMap keeps what the API server maintains: %+v", cm.ObjectMeta)
	}
	wantAnn := map[string]string{}
	for k, v := range user.Annotations {
		if k != corev1.LastAppliedConfigAnnotation {
			wantAnn[k] = v
		}
	}
	if len(wantAnn) == 0 {
		wantAnn = nil
	}
	if cm.Name != "coredns" || cm.Namespace != "kube-system" || !reflect.DeepEqual(cm.Labels, user.Labels) || !reflect.DeepEqual(cm.Annotations, wantAnn) {
		t.Errorf("rendered ConfigMap's metadata %+v, want the user's name, labels %v and annotations %v", cm.ObjectMeta, user.Labels, wantAnn)
	}
}

var _ = context.Background
var _ = time.Second
var _ = testcluster.DNSServiceIP
