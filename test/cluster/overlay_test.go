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
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/k8slint/k8slint/internal/docstest"
	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

// fixK8slint is the one code path that adds k8slint to a user's Corefile:
// dnslint's fix of corefile-k8slint-missing, alone.
var fixK8slint = []string{"--k8slint", "--enable", "corefile-k8slint-missing", "--fix"}

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
	ns, _ := md["namespace"].(string) // "" for a cluster-scoped object
	return o["kind"].(string) + " " + ns + "/" + md["name"].(string)
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

// kubectlGetYAML is kubeadm's ConfigMap as `kubectl get -o yaml` prints
// it.
func kubectlGetYAML(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := testcluster.KubeadmCorefile(root, false)
	if err != nil {
		t.Fatal(err)
	}
	return "apiVersion: v1\ndata:\n  Corefile: |\n    " + strings.ReplaceAll(strings.TrimRight(cf, "\n"), "\n", "\n    ") + `
kind: ConfigMap
metadata:
  creationTimestamp: "2026-12-01T18:04:51Z"
  name: coredns
  namespace: kube-system
  resourceVersion: "229"
  uid: 5b0f4c1e-8a55-4a3c-9d0e-3e4c7b1d2a90
`
}

// The user's ConfigMaps of the render test besides kubeadm's: one with a
// second key and an annotation of the user's, last applied client-side.
var userConfigMaps = map[string]string{
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

// The overlay renders, with the kustomize Go API, into exactly five
// objects: the ClusterRole and its binding that let CoreDNS's
// ServiceAccount list and watch Jobs (k8slint's attribution of CronJobs),
// the user's ConfigMap with the line k8slint added by dnslint's
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
	cms := map[string]string{"kubeadm": kubectlGetYAML(t)}
	for k, v := range userConfigMaps {
		cms[k] = v
	}
	for name, userCM := range cms {
		t.Run(name, func(t *testing.T) {
			var user corev1.ConfigMap
			if err := yaml.UnmarshalStrict([]byte(userCM), &user); err != nil {
				t.Fatal(err)
			}
			dir := overlays(t, dnslint, userCM)
			_, objs := render(t, filepath.Join(dir, "coredns-custom"))
			want := []string{"ConfigMap kube-system/coredns", "Deployment kube-system/coredns", "Service kube-system/coredns-k8slint"}
			rbac := []string{"ClusterRole /k8slint:coredns", "ClusterRoleBinding /k8slint:coredns"}
			if got := keys(objs); !reflect.DeepEqual(got, append(append([]string(nil), rbac...), want...)) {
				t.Fatalf("rendered %v, want %v and %v", got, rbac, want)
			}
			checkRBAC(t, objs[rbac[0]], objs[rbac[1]])

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

// checkRBAC checks the overlay's one rule beyond system:coredns: list and
// watch of Jobs (k8slint's attribution of CronJobs), bound to CoreDNS's
// ServiceAccount.
func checkRBAC(t *testing.T, role, binding object) {
	t.Helper()
	var cr rbacv1.ClusterRole
	var crb rbacv1.ClusterRoleBinding
	for _, o := range []struct {
		from object
		to   any
	}{{role, &cr}, {binding, &crb}} {
		b, _ := yaml.Marshal(o.from)
		if err := yaml.UnmarshalStrict(b, o.to); err != nil {
			t.Fatal(err)
		}
	}
	wantRules := []rbacv1.PolicyRule{{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"list", "watch"}}}
	if !reflect.DeepEqual(cr.Rules, wantRules) {
		t.Errorf("ClusterRole %s rules %+v, want %+v", cr.Name, cr.Rules, wantRules)
	}
	wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "coredns", Namespace: "kube-system"}}
	if crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != cr.Name || !reflect.DeepEqual(crb.Subjects, wantSubjects) {
		t.Errorf("ClusterRoleBinding %+v, want %s bound to %+v", crb, cr.Name, wantSubjects)
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

// What docs/operator.md has an operator do, on the cluster as make
// cluster-up leaves it (the stock CoreDNS v1.15.0, kubeadm's Corefile, two
// replicas), while a pod resolves a Service and an external name every
// 20 ms through kube-dns: fetch the ConfigMap with kubectl, let dnslint's
// fix add k8slint, render the overlay with the kustomize Go API and apply
// it server-side with the cluster's kubectl. The new pods run
// coredns-custom with k8slint (its metrics on each pod and through the
// coredns-k8slint Service), the ConfigMap is the fixed one, and the
// Deployment differs from kubeadm's only by its image. Then the rollback:
// the saved ConfigMap applied the same way, `kubectl rollout undo`, and the
// Deployment and Corefile are what they were. The client sees no failed
// lookup throughout.
func TestTheOverlayIsAppliedServerSideAndRolledBackWhileAPodResolves(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := stockCoreDNS(ctx); err != nil {
		t.Fatal(err)
	}
	deps := c.Client.AppsV1().Deployments("kube-system")
	before, err := deps.Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stockCorefile, err := testcluster.KubeadmCorefile(env.root, false)
	if err != nil {
		t.Fatal(err)
	}

	rc := testcluster.StartResolving(env.client, 20*time.Millisecond)
	defer func() {
		rc.Stop()
		t.Logf("client: %d lookups, %d retried, %d failed", rc.Lookups(), rc.Retried(), rc.Failed())
		if n := rc.Failed(); n > 0 {
			t.Errorf("%d lookups failed:\n%s", n, strings.Join(rc.Failures(), "\n"))
		}
		if n := rc.Lookups(); n < 500 {
			t.Errorf("only %d lookups: the client did not resolve throughout", n)
		}
	}()
	time.Sleep(2 * time.Second)

	userCM := kubectl(t, "", "-n", "kube-system", "get", "configmap", "coredns", "-o", "yaml")
	dir := overlays(t, env.dnslint, userCM)
	fixed, err := os.ReadFile(filepath.Join(dir, "coredns-custom", "coredns-configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var fixedCM corev1.ConfigMap
	if err := yaml.Unmarshal(fixed, &fixedCM); err != nil {
		t.Fatal(err)
	}
	rendered, _ := render(t, filepath.Join(dir, "coredns-custom"))
	t0 := time.Now()
	t.Logf("kubectl apply --server-side:\n%s", kubectl(t, string(rendered), "apply", "--server-side", "--field-manager=k8slint", "--force-conflicts", "-f", "-"))
	if err := c.WaitRollout(ctx, "kube-system", "coredns", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("rolled out in %s", time.Since(t0).Round(100*time.Millisecond))

	pods := corednsPods(t, ctx)
	for _, p := range pods {
		if img := p.Spec.Containers[0].Image; img != CustomImage {
			t.Errorf("pod %s runs %s, want %s", p.Name, img, CustomImage)
		}
		if m := scrapeUntil(t, p, true); len(m.Rows("coredns_k8slint_tracked_clients")) == 0 {
			t.Errorf("pod %s exports no k8slint metrics", p.Name)
		}
	}
	cm, err := c.Client.CoreV1().ConfigMaps("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["Corefile"] != fixedCM.Data["Corefile"] {
		t.Errorf("the cluster's Corefile:\n%s\nwant dnslint's fix:\n%s", cm.Data["Corefile"], fixedCM.Data["Corefile"])
	}
	after, err := deps.Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := before.Spec.DeepCopy()
	want.Template.Spec.Containers[0].Image = CustomImage
	if !reflect.DeepEqual(after.Spec, *want) {
		t.Errorf("the Deployment changed beyond its image:\n%+v\nwant\n%+v", after.Spec, *want)
	}
	owned := false
	for _, mf := range after.ManagedFields {
		if mf.Manager == "k8slint" && mf.Operation == metav1.ManagedFieldsOperationApply && mf.FieldsV1 != nil && strings.Contains(mf.FieldsV1.GetRawString(), `"f:image"`) {
			owned = true
		}
	}
	if !owned {
		t.Errorf("no server-side apply by field manager k8slint owns the image: %+v", after.ManagedFields)
	}

	// The Service's endpoints are the pods, its metrics port serves
	// k8slint's metrics through the API server's service proxy.
	metrics := kubectl(t, "", "get", "--raw", "/api/v1/namespaces/kube-system/services/coredns-k8slint:metrics/proxy/metrics")
	if !strings.Contains(metrics, "\ncoredns_k8slint_tracked_clients{") {
		t.Errorf("no k8slint metrics through the coredns-k8slint Service:\n%.2000s", metrics)
	}
	slices := kubectl(t, "", "-n", "kube-system", "get", "endpointslices", "-l", "kubernetes.io/service-name=coredns-k8slint",
		"-o", "jsonpath={range .items[*].endpoints[*]}{.addresses[0]}{\"\\n\"}{end}")
	var ips []string
	for _, p := range pods {
		ips = append(ips, p.Status.PodIP)
	}
	sort.Strings(ips)
	got := strings.Fields(slices)
	sort.Strings(got)
	if !reflect.DeepEqual(got, ips) {
		t.Errorf("coredns-k8slint's endpoints %v, want the pods %v", got, ips)
	}

	// Attribution lists and watches pods cluster-wide, as system:coredns
	// already allows, and Jobs, as the overlay's ClusterRole adds.
	for _, verb := range []string{"list", "watch"} {
		for _, res := range []string{"pods", "jobs.batch"} {
			if out := strings.TrimSpace(kubectl(t, "", "auth", "can-i", verb, res, "--all-namespaces", "--as=system:serviceaccount:kube-system:coredns")); out != "yes" {
				t.Errorf("kubectl auth can-i %s %s as CoreDNS's ServiceAccount: %s", verb, res, out)
			}
		}
	}

	// Roll back: the saved ConfigMap, then the image.
	back, _ := render(t, filepath.Join(dir, "rollback"))
	t1 := time.Now()
	kubectl(t, string(back), "apply", "--server-side", "--field-manager=k8slint", "--force-conflicts", "-f", "-")
	kubectl(t, "", "-n", "kube-system", "rollout", "undo", "deployment/coredns")
	if err := c.WaitRollout(ctx, "kube-system", "coredns", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "", "-n", "kube-system", "delete", "service", "coredns-k8slint")
	kubectl(t, "", "delete", "clusterrolebinding,clusterrole", "k8slint:coredns")
	t.Logf("rolled back in %s", time.Since(t1).Round(100*time.Millisecond))
	for _, p := range corednsPods(t, ctx) {
		if img := p.Spec.Containers[0].Image; img != testcluster.StockCoreDNSRef {
			t.Errorf("pod %s runs %s after the rollback, want %s", p.Name, img, testcluster.StockCoreDNSRef)
		}
		if m := scrapeUntil(t, p, false); len(m.Rows("coredns_k8slint_")) > 0 {
			t.Errorf("pod %s exports k8slint metrics after the rollback", p.Name)
		}
	}
	cm, err = c.Client.CoreV1().ConfigMaps("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["Corefile"] != stockCorefile {
		t.Errorf("the Corefile after the rollback:\n%s\nwant the saved one:\n%s", cm.Data["Corefile"], stockCorefile)
	}
	if after, err = deps.Get(ctx, "coredns", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after.Spec, before.Spec) {
		t.Errorf("the Deployment after the rollback:\n%+v\nwant it as before:\n%+v", after.Spec, before.Spec)
	}
	time.Sleep(2 * time.Second)
}

// corednsPods returns the CoreDNS pods.
func corednsPods(t *testing.T, ctx context.Context) []corev1.Pod {
	t.Helper()
	pods, err := env.c.Client.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// scrapeUntil scrapes a CoreDNS pod's metrics port from the node until
// k8slint's metrics are there (or gone, !want), for at most a minute: a
// rolled-out pod may still be starting, a reloading one still on its old
// Corefile.
func scrapeUntil(t *testing.T, p corev1.Pod, want bool) testenv.Metrics {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		m, err := env.c.Node.Scrape(p.Status.PodIP + ":9153")
		if err == nil && (len(m.Rows("coredns_k8slint_")) > 0) == want || time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("scrape %s: %v", p.Name, err)
			}
			return m
		}
		time.Sleep(time.Second)
	}
}
