package k8slint

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/coredns/coredns/plugin"
	k8s "github.com/coredns/coredns/plugin/kubernetes"
	"github.com/k8slint/k8slint/plugin/k8slint/report"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Attribution: which pod, and which workload, a client address is. A
// reflector watches every pod (a streaming list where the API server
// offers one, as client-go does by default); a transform strips each pod
// to the fields used below before anything keeps it, and the store keeps
// of a pod only its addresses and a pointer to its owner, shared by the
// pods of a workload. The owner is resolved from the pod's own metadata,
// so attribution needs nothing but list and watch on pods (which
// system:coredns grants), and for CronJobs list and watch on Jobs:
//   - a ReplicaSet whose name is <deployment>-<pod-template-hash label>:
//     that Deployment (the name the Deployment controller gives it);
//   - a Job that a CronJob controls: that CronJob. A pod does not name its
//     CronJob, and a Job's name alone cannot prove one made it: a second,
//     small watch on Jobs keeps of the Jobs a CronJob controls their
//     namespace and name and a pointer to the CronJob, shared by its Jobs,
//     and the lookup follows it. Without the permission (stock
//     system:coredns), said once, such pods are reported as their Job;
//   - any other controller (StatefulSet, DaemonSet, Job, ReplicaSet):
//     itself;
//   - no controller: the pod itself (kind Pod);
//   - host-network pods share their node's address: node level, named by
//     the node, never as one of its pods.
//
// Lookups happen only when the report drains the client table (every
// tick), never per query.

// owner is what a client address is reported as: a workload, or a node.
type owner struct {
	level, ns, kind, name string
	refs                  int32 // pods pointing at it
}

// podRec is what the store keeps of a pod.
type podRec struct {
	owner *owner
	ips   [2]addrKey // dual stack: at most one per family
	n     uint8
}

type podKey struct{ ns, name string }

// attribution is the pod store and the state of its watch.
type attribution struct {
	mu     sync.RWMutex
	pods   map[podKey]*podRec
	byAddr map[addrKey]*podRec
	owners map[owner]*owner // interned, by value with refs 0

	// jobs are the Jobs a CronJob controls, by namespace and name, to
	// their CronJob; cronJobs interns those (refs: their Jobs).
	jobs     map[podKey]*owner
	cronJobs map[owner]*owner
	jobState string // report.CronJobs* states
	jobErr   string

	state  string // report.Attribution* states
	err    string
	synced bool // a list arrived since the start
	cancel context.CancelFunc
	done   chan struct{}
}

func newAttribution() *attribution {
	return &attribution{
		pods: map[podKey]*podRec{}, byAddr: map[addrKey]*podRec{}, owners: map[owner]*owner{},
		jobs: map[podKey]*owner{}, cronJobs: map[owner]*owner{},
		state: report.AttributionConnecting, jobState: report.CronJobsConnecting,
	}
}

// lookup returns the owner of the pod at a, nil if no pod has it.
func (a *attribution) lookup(ip netip.Addr) *owner {
	k := addrKey(ip.As16())
	a.mu.RLock()
	defer a.mu.RUnlock()
	p := a.byAddr[k]
	if p == nil {
		return nil
	}
	if o := p.owner; o.kind == "Job" && o.level == report.LevelWorkload {
		if cj := a.jobs[podKey{o.ns, o.name}]; cj != nil {
			return cj
		}
	}
	return p.owner
}

// status is the watch's state for the report.
func (a *attribution) status() report.Attribution {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return report.Attribution{State: a.state, Pods: len(a.pods), Error: a.err, CronJobs: a.jobState, CronJobsError: a.jobErr}
}

// result notes the outcome of a list or watch call: the transitions
// between reachable and unreachable are logged once each.
func (a *attribution) result(err error) {
	if err != nil && (errors.Is(err, context.Canceled)) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err != nil && a.state != report.AttributionUnreachable:
		a.state, a.err = report.AttributionUnreachable, err.Error()
		log.Warningf("attribution: the Kubernetes API is unreachable (%v); queries are still counted, reported by client address until it returns", err)
	case err != nil:
		a.err = err.Error()
	case err == nil && a.state == report.AttributionUnreachable && a.synced:
		a.state, a.err = report.AttributionSynced, ""
		log.Infof("attribution: the Kubernetes API is reachable again; catching up on pods")
	}
}

// strip is the transform: it keeps of a pod only what attribution reads.
// Objects other than pods pass unchanged.
func strip(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, ResourceVersion: p.ResourceVersion},
		Spec:       corev1.PodSpec{HostNetwork: p.Spec.HostNetwork, NodeName: p.Spec.NodeName},
		Status:     corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs},
	}
	if c := metav1.GetControllerOf(p); c != nil {
		out.OwnerReferences = []metav1.OwnerReference{{Kind: c.Kind, Name: c.Name, Controller: c.Controller}}
		if h, ok := p.Labels["pod-template-hash"]; ok {
			out.Labels = map[string]string{"pod-template-hash": h}
		}
	}
	return out, nil
}

// ownerOf resolves a pod's owner from its metadata (see the top of the
// file).
func ownerOf(p *corev1.Pod) owner {
	if p.Spec.HostNetwork {
		return owner{level: report.LevelNode, name: p.Spec.NodeName}
	}
	o := owner{level: report.LevelWorkload, ns: p.Namespace, kind: "Pod", name: p.Name}
	if c := metav1.GetControllerOf(p); c != nil {
		o.kind, o.name = c.Kind, c.Name
		if h := p.Labels["pod-template-hash"]; c.Kind == "ReplicaSet" && h != "" && strings.HasSuffix(c.Name, "-"+h) && len(c.Name) > len(h)+1 {
			o.kind, o.name = "Deployment", c.Name[:len(c.Name)-len(h)-1]
		}
	}
	return o
}

// podAddrs returns a running pod's addresses (none once it has ended: its
// address may already be another's).
func podAddrs(p *corev1.Pod) (ips [2]addrKey, n uint8) {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return ips, 0
	}
	add := func(s string) {
		ip, err := netip.ParseAddr(s)
		if err != nil || n == uint8(len(ips)) {
			return
		}
		k := addrKey(ip.As16())
		for _, x := range ips[:n] {
			if x == k {
				return
			}
		}
		ips[n] = k
		n++
	}
	for _, ip := range p.Status.PodIPs {
		add(ip.IP)
	}
	if n == 0 && p.Status.PodIP != "" {
		add(p.Status.PodIP)
	}
	return ips, n
}

// put stores pod p (locked). The pods of a workload share their owner,
// and its namespace string.
func (a *attribution) put(p *corev1.Pod) {
	a.remove(podKey{p.Namespace, p.Name})
	ips, n := podAddrs(p)
	if n == 0 {
		return
	}
	o := ownerOf(p)
	shared := a.owners[o]
	if shared == nil {
		shared = &owner{level: o.level, ns: o.ns, kind: o.kind, name: o.name}
		a.owners[o] = shared
	}
	shared.refs++
	key := podKey{shared.ns, p.Name}
	if shared.ns == "" { // a node: its pods' namespaces are their own
		key.ns = p.Namespace
	}
	rec := &podRec{owner: shared, ips: ips, n: n}
	a.pods[key] = rec
	for _, ip := range ips[:n] {
		a.byAddr[ip] = rec // the newest pod with an address has it
	}
}

// remove forgets a pod (locked).
func (a *attribution) remove(k podKey) {
	rec := a.pods[k]
	if rec == nil {
		return
	}
	delete(a.pods, k)
	for _, ip := range rec.ips[:rec.n] {
		if a.byAddr[ip] == rec {
			delete(a.byAddr, ip)
		}
	}
	o := rec.owner
	if o.refs--; o.refs == 0 {
		delete(a.owners, owner{level: o.level, ns: o.ns, kind: o.kind, name: o.name})
	}
}

func podOf(obj any) *corev1.Pod {
	switch o := obj.(type) {
	case *corev1.Pod:
		return o
	case cache.DeletedFinalStateUnknown:
		p, _ := o.Obj.(*corev1.Pod)
		return p
	}
	return nil
}

// The reflector's store (cache.ReflectorStore, cache.TransformingStore).

func (a *attribution) Add(obj any) error {
	if p := podOf(obj); p != nil {
		a.mu.Lock()
		a.put(p)
		a.mu.Unlock()
	}
	return nil
}

func (a *attribution) Update(obj any) error { return a.Add(obj) }

func (a *attribution) Delete(obj any) error {
	if p := podOf(obj); p != nil {
		a.mu.Lock()
		a.remove(podKey{p.Namespace, p.Name})
		a.mu.Unlock()
	}
	return nil
}

// Replace takes a complete list: the store is rebuilt from it.
func (a *attribution) Replace(list []any, _ string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pods, a.byAddr, a.owners = make(map[podKey]*podRec, len(list)), make(map[addrKey]*podRec, len(list)), map[owner]*owner{}
	for _, obj := range list {
		if p := podOf(obj); p != nil {
			a.put(p)
		}
	}
	switch a.state {
	case report.AttributionSynced:
	case report.AttributionUnreachable:
		log.Infof("attribution: the Kubernetes API is reachable again: %d pods", len(a.pods))
	default:
		log.Infof("attribution: synced %d pods", len(a.pods))
	}
	a.state, a.err, a.synced = report.AttributionSynced, "", true
	return nil
}

func (a *attribution) Resync() error { return nil }

func (a *attribution) Transformer() cache.TransformFunc { return strip }

// strippedListWatch is the ListWatch of a watch whose store keeps
// stripped objects: a list's items are stripped by stripList at once (the
// reflector hands a list to Replace as it is), and every list and watch
// error is passed to seen.
func strippedListWatch[L runtime.Object](
	list func(context.Context, metav1.ListOptions) (L, error), stripList func(L),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error), seen func(error),
) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			l, err := list(ctx, opts)
			seen(err)
			if err != nil {
				return l, err
			}
			stripList(l)
			return l, nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			w, err := watchFn(ctx, opts)
			seen(err)
			return w, err
		},
	}
}

// start watches the pods of the cluster cfg reaches until stop.
func (a *attribution) start(cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pods := cs.CoreV1().Pods(metav1.NamespaceAll)
	lw := strippedListWatch(pods.List, func(l *corev1.PodList) {
		for i := range l.Items {
			p, _ := strip(&l.Items[i])
			l.Items[i] = *p.(*corev1.Pod)
		}
	}, pods.Watch, a.result)
	r := cache.NewReflectorWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, cs), &corev1.Pod{}, a,
		cache.ReflectorOptions{Name: "k8slint attribution", MinWatchTimeout: 5 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel, a.done = cancel, make(chan struct{})
	probe := cs.Discovery().RESTClient()
	jobsDone := make(chan struct{})
	go func() {
		defer close(a.done)
		go a.probe(ctx, probe)
		go func() {
			defer close(jobsDone)
			a.watchJobs(ctx, cs)
		}()
		r.RunWithContext(ctx)
		<-jobsDone
	}()
	return nil
}

// probeInterval is how often the API server's readiness is asked, and
// probeTimeout how long an answer may take.
const (
	probeInterval = 10 * time.Second
	probeTimeout  = 5 * time.Second
)

// probe asks the API server's /readyz (which every client may read) every
// probeInterval: a watch on a connection the API server left without
// closing it (as seen when it stops) stays silent until client-go's
// HTTP/2 health check gives up on it, which takes longer than an operator
// should wait to be told.
func (a *attribution) probe(ctx context.Context, c rest.Interface) {
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := c.Get().AbsPath("/readyz").Do(pctx).Error()
		cancel()
		if ctx.Err() == nil {
			a.result(err)
		}
	}
}

// stop ends the watch and waits for it.
func (a *attribution) stop() {
	if a.cancel != nil {
		a.cancel()
		<-a.done
	}
}

// startAttribution starts the pod watch with the connection settings of
// the server block's kubernetes plugin (kubeconfig, endpoint and TLS, or
// in-cluster), or in-cluster settings when there is none. Failing to
// connect is no error: the plugin counts on, unattributed.
func (k *K8slint) startAttribution(h plugin.Handler) {
	a := newAttribution()
	k.attr = a
	cfg, err := restConfig(h)
	if err == nil {
		err = a.start(cfg)
	}
	if err != nil {
		a.result(err)
	}
}

func (k *K8slint) stopAttribution() {
	if k.attr != nil {
		k.attr.stop()
	}
}

// restConfig is the kubernetes plugin's own client configuration (its
// getClientConfig, which is not exported), or the in-cluster one.
func restConfig(h plugin.Handler) (*rest.Config, error) {
	kp, _ := h.(*k8s.Kubernetes)
	if kp == nil {
		return rest.InClusterConfig()
	}
	if kp.ClientConfig != nil {
		return kp.ClientConfig.ClientConfig()
	}
	if len(kp.APIServerList) == 0 {
		return rest.InClusterConfig()
	}
	overrides := &clientcmd.ConfigOverrides{
		ClusterInfo: clientcmdapi.Cluster{Server: kp.APIServerList[0], CertificateAuthority: kp.APICertAuth},
		AuthInfo:    clientcmdapi.AuthInfo{ClientCertificate: kp.APIClientCert, ClientKey: kp.APIClientKey},
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{}, overrides).ClientConfig()
}

// The Jobs of CronJobs: a second watch, on batch/v1 Jobs, whose store
// (jobStore) keeps only the Jobs a CronJob controls. Lookups follow a
// Job-owned pod's owner to its CronJob when the report drains, so a pod
// seen before its Job is named right at the next drain after the Job.

// stripJob is the Job watch's transform: of a Job it keeps its name,
// namespace, version and, when a CronJob controls it, that controller.
// Objects other than Jobs pass unchanged.
func stripJob(obj any) (any, error) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return obj, nil
	}
	out := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: j.Name, Namespace: j.Namespace, ResourceVersion: j.ResourceVersion}}
	if c := cronJobOf(j); c != "" {
		yes := true
		out.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: c, Controller: &yes}}
	}
	return out, nil
}

// cronJobOf is the name of the CronJob (batch) that controls Job j, or "".
func cronJobOf(j *batchv1.Job) string {
	c := metav1.GetControllerOf(j)
	if c == nil || c.Kind != "CronJob" || !strings.HasPrefix(c.APIVersion, "batch/") {
		return ""
	}
	return c.Name
}

// putJob stores Job j if a CronJob controls it (locked); nothing once
// the Jobs were refused (an event the watch delivered before it stopped).
func (a *attribution) putJob(j *batchv1.Job) {
	a.removeJob(podKey{j.Namespace, j.Name})
	name := cronJobOf(j)
	if name == "" || a.jobState == report.CronJobsUnavailable {
		return
	}
	o := owner{level: report.LevelWorkload, ns: j.Namespace, kind: "CronJob", name: name}
	shared := a.cronJobs[o]
	if shared == nil {
		shared = &owner{level: o.level, ns: o.ns, kind: o.kind, name: o.name}
		a.cronJobs[o] = shared
	}
	shared.refs++
	a.jobs[podKey{shared.ns, j.Name}] = shared
}

// removeJob forgets a Job (locked).
func (a *attribution) removeJob(k podKey) {
	o := a.jobs[k]
	if o == nil {
		return
	}
	delete(a.jobs, k)
	if o.refs--; o.refs == 0 {
		delete(a.cronJobs, owner{level: o.level, ns: o.ns, kind: o.kind, name: o.name})
	}
}

// jobsUnavailable notes that the Jobs cannot be watched (err, a refusal):
// said once; the pods of CronJobs are reported as their Jobs from then on.
func (a *attribution) jobsUnavailable(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.jobState == report.CronJobsUnavailable {
		return
	}
	a.jobState, a.jobErr = report.CronJobsUnavailable, err.Error()
	a.jobs, a.cronJobs = map[podKey]*owner{}, map[owner]*owner{}
	log.Warningf("attribution: cannot watch Jobs (%v): the pods of a CronJob's Jobs are reported as their Job; "+
		"grant list and watch on jobs in API group batch to name their CronJob (k8slint README, \"Attribution\")", err)
}

func jobOf(obj any) *batchv1.Job {
	switch o := obj.(type) {
	case *batchv1.Job:
		return o
	case cache.DeletedFinalStateUnknown:
		j, _ := o.Obj.(*batchv1.Job)
		return j
	}
	return nil
}

// jobStore is the Job watch's store (cache.ReflectorStore,
// cache.TransformingStore): the jobs of its attribution.
type jobStore struct{ a *attribution }

func (s jobStore) Add(obj any) error {
	if j := jobOf(obj); j != nil {
		s.a.mu.Lock()
		s.a.putJob(j)
		s.a.mu.Unlock()
	}
	return nil
}

func (s jobStore) Update(obj any) error { return s.Add(obj) }

func (s jobStore) Delete(obj any) error {
	if j := jobOf(obj); j != nil {
		s.a.mu.Lock()
		s.a.removeJob(podKey{j.Namespace, j.Name})
		s.a.mu.Unlock()
	}
	return nil
}

// Replace takes a complete list of Jobs.
func (s jobStore) Replace(list []any, _ string) error {
	a := s.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.jobState == report.CronJobsUnavailable {
		return nil
	}
	a.jobs, a.cronJobs = map[podKey]*owner{}, map[owner]*owner{}
	for _, obj := range list {
		if j := jobOf(obj); j != nil {
			a.putJob(j)
		}
	}
	if a.jobState == report.CronJobsConnecting {
		log.Infof("attribution: watching Jobs: %d of %d belong to a CronJob", len(a.jobs), len(list))
	}
	a.jobState, a.jobErr = report.CronJobsSynced, ""
	return nil
}

func (s jobStore) Resync() error { return nil }

func (s jobStore) Transformer() cache.TransformFunc { return stripJob }

// jobsCheckTimeout bounds watchJobs' first question, on a connection the
// API server may leave silent.
const jobsCheckTimeout = 30 * time.Second

// watchJobs watches the Jobs of the cluster until ctx ends. It first asks
// for one Job: refused (a ClusterRole such as system:coredns alone), it
// says so once and watches nothing; the API unreachable, it asks again
// every probeInterval (the pod watch says the API is unreachable). A
// refusal later (the permission taken away) stops the watch the same way.
func (a *attribution) watchJobs(ctx context.Context, cs kubernetes.Interface) {
	jobs := cs.BatchV1().Jobs(metav1.NamespaceAll)
	for {
		lctx, cancel := context.WithTimeout(ctx, jobsCheckTimeout)
		_, err := jobs.List(lctx, metav1.ListOptions{Limit: 1})
		cancel()
		if err == nil {
			break
		}
		if apierrors.IsForbidden(err) {
			a.jobsUnavailable(err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(probeInterval):
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	refused := func(err error) {
		if apierrors.IsForbidden(err) {
			a.jobsUnavailable(err)
			cancel()
		}
	}
	lw := strippedListWatch(jobs.List, func(l *batchv1.JobList) {
		for i := range l.Items {
			j, _ := stripJob(&l.Items[i])
			l.Items[i] = *j.(*batchv1.Job)
		}
	}, jobs.Watch, refused)
	r := cache.NewReflectorWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, cs), &batchv1.Job{}, jobStore{a},
		cache.ReflectorOptions{Name: "k8slint attribution jobs", MinWatchTimeout: 5 * time.Minute})
	r.RunWithContext(ctx)
}
