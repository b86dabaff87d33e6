package testcluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/k8slint/k8slint/internal/testenv"
)

// insecureTLS is for the health endpoints inside kn only: the controller
// manager and scheduler serve self-signed certificates.
func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// PauseImage is the sandbox image containerd is configured with.
const PauseImage = "localhost/k8slint/pause:e2e"

func (c *Cluster) up(ctx context.Context) error {
	users := append(append([]User(nil), builtinUsers...), c.opts.Users...)
	var err error
	if c.Tokens, err = writePKI(c.Dir, users); err != nil {
		return err
	}
	if err := c.recordHostPaths(); err != nil {
		return err
	}
	if err := c.setupNodeNetns(); err != nil {
		return err
	}
	if err := c.startAPIProxy(); err != nil {
		return err
	}
	if err := c.writeKubeconfigs(users); err != nil {
		return err
	}
	if err := c.startControlPlane(ctx); err != nil {
		return err
	}
	if err := c.setupRBAC(ctx); err != nil {
		return err
	}
	if err := c.startNodeStub(); err != nil {
		return err
	}
	if err := c.startContainerd(ctx); err != nil {
		return err
	}
	pause, err := c.buildPauseImage()
	if err != nil {
		return err
	}
	if err := c.ImportImages(ctx, append([]Image{pause}, c.opts.Images...)...); err != nil {
		return err
	}
	c.logf("images imported")
	if err := c.startKubelet(ctx); err != nil {
		return err
	}
	if err := c.startKubeProxy(ctx); err != nil {
		return err
	}
	if err := c.createDNSService(ctx); err != nil {
		return err
	}
	// Pods cannot be created before their namespace's default
	// ServiceAccount exists.
	return waitFor(ctx, "ServiceAccount default/default", 60*time.Second, func() (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}

// recordHostPaths notes which host paths and kubepods cgroups exist
// before the cluster starts (tear-down removes only the others) and saves
// the sysctls kubelet rewrites.
func (c *Cluster) recordHostPaths() error {
	var created, cgroups []string
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			created = append(created, p)
		}
	}
	for _, cg := range kubepodsCgroups() {
		if _, err := os.Stat(cg); os.IsNotExist(err) {
			cgroups = append(cgroups, cg)
		}
	}
	sysctls := map[string]string{}
	for _, name := range globalSysctls {
		if v, err := readSysctl(name); err == nil {
			sysctls[name] = v
		}
	}
	_, err := os.Stat("/etc/netns")
	return c.state.update(func(s *state) {
		s.Created, s.Cgroups, s.Sysctls = created, cgroups, sysctls
		s.CreatedEtcNetns = os.IsNotExist(err)
	})
}

// kubepodsCgroups returns where kubelet (cgroupfs driver) puts kubepods:
// in every cgroup v1 hierarchy, or the unified one.
func kubepodsCgroups() []string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup/kubepods"}
	}
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	var out []string
	for _, e := range ents {
		if e.IsDir() && e.Type()&os.ModeSymlink == 0 {
			out = append(out, filepath.Join("/sys/fs/cgroup", e.Name(), "kubepods"))
		}
	}
	return out
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// setupNodeNetns creates kn: loopback, the bridge cni0 with the node IP
// (the CNI bridge plugin adopts it), forwarding and bridge netfilter on
// inside kn only.
func (c *Cluster) setupNodeNetns() error {
	if _, err := os.Stat("/run/netns/" + NodeNetns); err == nil {
		return fmt.Errorf("network namespace %s exists: another cluster (or a leftover) is there; make cluster-down removes a cluster of this project", NodeNetns)
	}
	if err := run("ip", "netns", "add", NodeNetns); err != nil {
		return err
	}
	if err := c.state.update(func(s *state) { s.Netns = append(s.Netns, NodeNetns) }); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"-n", NodeNetns, "link", "set", "lo", "up"},
		{"-n", NodeNetns, "link", "add", "cni0", "type", "bridge"},
		{"-n", NodeNetns, "addr", "add", NodeIP + "/24", "dev", "cni0"},
		{"-n", NodeNetns, "link", "set", "cni0", "up"},
		// Service addresses are routed, as on a node with a default route,
		// so that processes in kn reach them through kube-proxy's OUTPUT
		// rules; kn has no route to anything else.
		{"-n", NodeNetns, "route", "add", ServiceCIDR, "dev", "cni0"},
	} {
		if err := run("ip", args...); err != nil {
			return err
		}
	}
	if _, err := os.Stat("/proc/sys/net/bridge"); err != nil {
		_ = run("modprobe", "br_netfilter")
	}
	for _, s := range []string{"net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"} {
		if err := run("ip", "netns", "exec", NodeNetns, "sysctl", "-qw", s); err != nil {
			return err
		}
	}
	return nil
}

// startAPIProxy listens on host loopback and forwards each connection to
// the API server at 127.0.0.1:6443 inside kn, so that kubectl and client-go
// in the host namespace reach it. A detached cluster runs the proxy as its
// own process (k8slint-cluster proxy).
func (c *Cluster) startAPIProxy() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c.APIAddr = l.Addr().String()
	if c.opts.Detached {
		l.Close()
		self, err := os.Executable()
		if err != nil {
			return err
		}
		if err := c.startProc("api-proxy", false, self, "proxy", "-listen", c.APIAddr); err != nil {
			return err
		}
	} else {
		c.proxyL = l
		go ServeAPIProxy(l)
	}
	return c.state.update(func(s *state) { s.APIProxy = c.APIAddr })
}

// ServeAPIProxy accepts connections on l and splices each to the API
// server inside kn, until l is closed.
func ServeAPIProxy(l net.Listener) error {
	node := &testenv.Netns{Name: NodeNetns}
	for {
		conn, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			up, err := node.DialContext(ctx, "tcp", "127.0.0.1:6443")
			cancel()
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
			go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
			<-done
		}()
	}
}

func (c *Cluster) writeKubeconfigs(users []User) error {
	dir := c.path("kubeconfigs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca := c.path("pki", "ca.crt")
	for _, u := range users {
		inner := kubeconfig(ca, "https://127.0.0.1:6443", u.Name, c.Tokens[u.Name])
		if err := os.WriteFile(filepath.Join(dir, "node-"+strings.ReplaceAll(u.Name, ":", "-")+".kubeconfig"), []byte(inner), 0o600); err != nil {
			return err
		}
		outer := kubeconfig(ca, "https://"+c.APIAddr, u.Name, c.Tokens[u.Name])
		if err := os.WriteFile(c.Kubeconfig(u.Name), []byte(outer), 0o600); err != nil {
			return err
		}
	}
	c.Config = &rest.Config{
		Host:            "https://" + c.APIAddr,
		BearerToken:     c.Tokens["admin"],
		TLSClientConfig: rest.TLSClientConfig{CAFile: ca},
		QPS:             50,
		Burst:           100,
	}
	var err error
	c.Client, err = kubernetes.NewForConfig(c.Config)
	return err
}

// nodeKubeconfig is the kubeconfig of a component inside kn.
func (c *Cluster) nodeKubeconfig(user string) string {
	return c.path("kubeconfigs", "node-"+strings.ReplaceAll(user, ":", "-")+".kubeconfig")
}

func (c *Cluster) startControlPlane(ctx context.Context) error {
	p := func(f string) string { return c.path("pki", f) }
	if err := c.startProc("etcd", true, "etcd", "--name", "k8slint", "--data-dir", c.path("etcd"),
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "k8slint=http://127.0.0.1:2380", "--listen-metrics-urls", "http://127.0.0.1:2381"); err != nil {
		return err
	}
	if err := waitFor(ctx, "etcd healthy", 30*time.Second, func() (bool, error) {
		code, _, err := c.httpInNode(ctx, "http://127.0.0.1:2379/health", nil)
		return code == 200, err
	}); err != nil {
		return err
	}
	c.logf("etcd healthy")
	if err := c.StartAPIServer(ctx); err != nil {
		return err
	}
	if err := c.startProc("kube-controller-manager", true, filepath.Join(c.Bin, "kube-controller-manager"),
		"--kubeconfig="+c.nodeKubeconfig("system:kube-controller-manager"),
		"--authentication-kubeconfig="+c.nodeKubeconfig("system:kube-controller-manager"),
		"--authorization-kubeconfig="+c.nodeKubeconfig("system:kube-controller-manager"),
		"--bind-address=127.0.0.1", "--leader-elect=false",
		"--service-account-private-key-file="+p("sa.key"), "--root-ca-file="+p("ca.crt"),
		"--use-service-account-credentials=true", "--cluster-name=k8slint",
		"--service-cluster-ip-range="+ServiceCIDR,
		// The node-lifecycle controller takes the node for gone when it has
		// seen no renewal of its lease for this long (default 50 s). The
		// tests stop the API server for 30 s or more; the controller's
		// watches then come back with client-go's backoff, and with the
		// default it set the node Unknown (taking the kube-dns Service's
		// endpoints away) up to 70 s after the server's return, in the
		// middle of the next test (seen 2026-12-03). The single node is
		// never gone.
		"--node-monitor-grace-period=3m"); err != nil {
		return err
	}
	if err := c.startProc("kube-scheduler", true, filepath.Join(c.Bin, "kube-scheduler"),
		"--kubeconfig="+c.nodeKubeconfig("system:kube-scheduler"),
		"--authentication-kubeconfig="+c.nodeKubeconfig("system:kube-scheduler"),
		"--authorization-kubeconfig="+c.nodeKubeconfig("system:kube-scheduler"),
		"--bind-address=127.0.0.1", "--leader-elect=false"); err != nil {
		return err
	}
	return waitFor(ctx, "controller-manager and scheduler healthy", 60*time.Second, func() (bool, error) {
		a, _, err := c.httpInNode(ctx, "https://127.0.0.1:10257/healthz", nil)
		if err != nil {
			return false, err
		}
		b, _, err := c.httpInNode(ctx, "https://127.0.0.1:10259/healthz", nil)
		return a == 200 && b == 200, err
	})
}

// StartAPIServer starts kube-apiserver and waits for /readyz. Tests that
// stop it (StopAPIServer) start it again with this.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	p := func(f string) string { return c.path("pki", f) }
	if err := c.startProc("kube-apiserver", true, filepath.Join(c.Bin, "kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:2379",
		"--bind-address=0.0.0.0", "--secure-port=6443", "--advertise-address="+NodeIP,
		"--tls-cert-file="+p("apiserver.crt"), "--tls-private-key-file="+p("apiserver.key"),
		"--client-ca-file="+p("ca.crt"),
		"--kubelet-client-certificate="+p("apiserver-kubelet-client.crt"), "--kubelet-client-key="+p("apiserver-kubelet-client.key"),
		// Reach kubelet at the node's IP: never look the node's name up
		// (that would ask the machine's resolver).
		"--kubelet-preferred-address-types=InternalIP",
		"--token-auth-file="+p("tokens.csv"),
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc."+ClusterDomain,
		"--service-account-key-file="+p("sa.pub"), "--service-account-signing-key-file="+p("sa.key"),
		"--service-cluster-ip-range="+ServiceCIDR,
		"--allow-privileged=true",
		"--enable-admission-plugins=NodeRestriction",
		"--cert-dir="+c.path("apiserver-certs")); err != nil {
		return err
	}
	hdr := http.Header{"Authorization": {"Bearer " + c.Tokens["admin"]}}
	if err := waitFor(ctx, "kube-apiserver /readyz", 90*time.Second, func() (bool, error) {
		code, body, err := c.httpInNode(ctx, "https://127.0.0.1:6443/readyz", hdr)
		return code == 200 && body == "ok", err
	}); err != nil {
		return err
	}
	c.logf("kube-apiserver ready")
	return nil
}

// StopAPIServer stops kube-apiserver (SIGTERM; SIGKILL after 30 s).
func (c *Cluster) StopAPIServer() { c.stopProcNamed("kube-apiserver", 30*time.Second) }

func (c *Cluster) setupRBAC(ctx context.Context) error {
	cs := c.Client
	create := func(what string, err error) error {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s: %w", what, err)
		}
		return nil
	}
	if err := create("ClusterRole system:coredns", func() error {
		_, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "system:coredns", Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
			},
		}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return err
	}
	if err := create("ClusterRoleBinding system:coredns", func() error {
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "system:coredns", Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:coredns"},
			Subjects: []rbacv1.Subject{
				{Kind: "ServiceAccount", Name: "coredns", Namespace: "kube-system"},
				{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "coredns"},
			},
		}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return err
	}
	if err := create("ClusterRoleBinding linter-view", func() error {
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "linter-view"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "linter"}},
		}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return err
	}
	return create("ServiceAccount kube-system/coredns", func() error {
		_, err := cs.CoreV1().ServiceAccounts("kube-system").Create(ctx, &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system"},
		}, metav1.CreateOptions{})
		return err
	}())
}

// NodeStubCorefile is the node's resolver: every A question gets
// 192.0.2.53 (TEST-NET-1, never routed), AAAA questions an empty answer,
// any other type NXDOMAIN (as a real resolver answers the random name of
// the loop plugin's probe).
const NodeStubCorefile = `.:53 {
    bind ` + NodeIP + `
    template IN A {
        answer "{{ .Name }} 60 IN A 192.0.2.53"
    }
    template IN AAAA {
        rcode NOERROR
    }
    template IN ANY {
        rcode NXDOMAIN
    }
}
`

func (c *Cluster) startNodeStub() error {
	dir := c.path("node-stub")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Corefile"), []byte(NodeStubCorefile), 0o644); err != nil {
		return err
	}
	return c.startProc("node-stub", true, c.opts.CoreDNS, "-conf", filepath.Join(dir, "Corefile"))
}

func (c *Cluster) containerdSock() string { return c.path("containerd", "containerd.sock") }

func (c *Cluster) startContainerd(ctx context.Context) error {
	for _, d := range []string{"containerd", "cni/net.d", "cni/ipam"} {
		if err := os.MkdirAll(c.path(d), 0o755); err != nil {
			return err
		}
	}
	conf := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = "%[3]s.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  enable_selinux = false
  # No CAP_SYS_RESOURCE in some sandboxes: runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[5]q
    conf_dir = %[6]q
`, c.path("containerd", "root"), c.path("containerd", "state"), c.containerdSock(), PauseImage, cniBinDir, c.path("cni", "net.d"))
	if err := os.WriteFile(c.path("containerd", "config.toml"), []byte(conf), 0o644); err != nil {
		return err
	}
	conflist := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "k8slint",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q, "rangeStart": "10.88.0.100", "rangeEnd": "10.88.0.200", "gateway": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, c.path("cni", "ipam"), PodCIDR, NodeIP)
	if err := os.WriteFile(c.path("cni", "net.d", "10-k8slint.conflist"), []byte(conflist), 0o644); err != nil {
		return err
	}
	if err := c.state.update(func(s *state) { s.ContainerdSock = c.containerdSock() }); err != nil {
		return err
	}
	if err := c.startProc("containerd", true, "containerd", "--config", c.path("containerd", "config.toml")); err != nil {
		return err
	}
	if err := waitFor(ctx, "containerd", 30*time.Second, func() (bool, error) {
		return c.ctr("version") == nil, nil
	}); err != nil {
		return err
	}
	c.logf("containerd up")
	return nil
}

// ctr runs ctr against the cluster's containerd in namespace k8s.io.
func (c *Cluster) ctr(args ...string) error {
	return run("ctr", append([]string{"-a", c.containerdSock(), "-n", "k8s.io"}, args...)...)
}

func (c *Cluster) startKubelet(ctx context.Context) error {
	dir := c.path("kubelet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver "+NodeIP+"\n"), 0o644); err != nil {
		return err
	}
	conf := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
clusterDNS: [%s]
clusterDomain: %s
resolvConf: %s
podLogsDir: %s
podCIDR: %s
address: %s
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization: {mode: Webhook}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%%", imagefs.available: "1%%"}
serializeImagePulls: false
# A ConfigMap change reaches the pods' volumes at the next pod sync: every
# 10 s here rather than every minute.
syncFrequency: 10s
`, c.containerdSock(), DNSServiceIP, ClusterDomain, filepath.Join(dir, "resolv.conf"), c.path("pod-logs"), PodCIDR, NodeIP, c.path("pki", "ca.crt"))
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(conf), 0o644); err != nil {
		return err
	}
	if err := c.startProc("kubelet", true, filepath.Join(c.Bin, "kubelet"),
		"--config="+filepath.Join(dir, "config.yaml"),
		"--kubeconfig="+c.nodeKubeconfig("system:node:"+NodeName),
		"--root-dir="+filepath.Join(dir, "root"), "--cert-dir="+filepath.Join(dir, "pki"),
		"--hostname-override="+NodeName, "--node-ip="+NodeIP); err != nil {
		return err
	}
	if err := waitFor(ctx, "node "+NodeName+" Ready", 120*time.Second, func() (bool, error) {
		st, err := c.NodeReady(ctx)
		return st == corev1.ConditionTrue, err
	}); err != nil {
		return err
	}
	c.logf("node %s Ready", NodeName)
	return nil
}

func (c *Cluster) startKubeProxy(ctx context.Context) error {
	dir := c.path("kube-proxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	conf := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %s
mode: iptables
hostnameOverride: %s
bindAddress: %s
clusterCIDR: %s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, c.nodeKubeconfig("system:kube-proxy"), NodeName, NodeIP, PodCIDR)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(conf), 0o644); err != nil {
		return err
	}
	if err := c.startProc("kube-proxy", true, filepath.Join(c.Bin, "kube-proxy"), "--config="+filepath.Join(dir, "config.yaml")); err != nil {
		return err
	}
	if err := waitFor(ctx, "kube-proxy's rule for "+APIServiceIP, 60*time.Second, func() (bool, error) {
		out, err := c.Node.Command("iptables", "-t", "nat", "-S", "KUBE-SERVICES").CombinedOutput()
		return err == nil && strings.Contains(string(out), APIServiceIP+"/32"), nil
	}); err != nil {
		return err
	}
	c.logf("kube-proxy rules in %s", NodeNetns)
	return nil
}

// createDNSService creates kube-system/kube-dns as kubeadm does.
func (c *Cluster) createDNSService(ctx context.Context) error {
	_, err := c.Client.CoreV1().Services("kube-system").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: "kube-dns", Namespace: "kube-system",
			Labels:      map[string]string{"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
			Annotations: map[string]string{"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
		},
		Spec: corev1.ServiceSpec{
			ClusterIP: DNSServiceIP,
			Selector:  map[string]string{"k8s-app": "kube-dns"},
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// NodeReady returns the status of the node's Ready condition (Unknown when
// it has none).
func (c *Cluster) NodeReady(ctx context.Context) (corev1.ConditionStatus, error) {
	n, err := c.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
	if err != nil {
		return corev1.ConditionUnknown, err
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status, nil
		}
	}
	return corev1.ConditionUnknown, nil
}
