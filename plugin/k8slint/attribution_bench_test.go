package k8slint

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkAttributionMemory measures what attribution keeps per pod: the
// heap the store holds after every pod went through the watch's path (the
// transform, then the store), garbage collected, divided by the pods.
// The pods are what a cluster runs: Deployments of 10 replicas in 100
// namespaces, each pod with labels, annotations, a container and two
// addresses, generated one at a time so that only what the store keeps
// stays. Goal: at most 300 B/pod (CoreDNS's own pod watch: about 2.5 KB).
func BenchmarkAttributionMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			for range b.N {
				var a *attribution
				before := heapInUse()
				a = newAttribution()
				for i := range n {
					p := benchPod(i)
					s, _ := strip(p)
					a.Add(s.(*corev1.Pod))
				}
				after := heapInUse()
				if len(a.pods) != n {
					b.Fatalf("%d pods kept", len(a.pods))
				}
				b.ReportMetric(float64(after-before)/float64(n), "B/pod")
				runtime.KeepAlive(a)
			}
		})
	}
}

// BenchmarkAttributionJobMemory measures what the Job watch keeps per Job
// of a CronJob (the heap the store holds, as above): 10,000 Jobs of 1,000
// CronJobs in 100 namespaces, each Job with its labels and pod template.
func BenchmarkAttributionJobMemory(b *testing.B) {
	const n = 10_000
	for range b.N {
		before := heapInUse()
		a := newAttribution()
		js := jobStore{a}
		for i := range n {
			c := i / 10
			s, _ := stripJob(job(fmt.Sprintf("team-%03d", c%100), fmt.Sprintf("report-%04d-%08d", c, 29400000+i%10), fmt.Sprintf("report-%04d", c)))
			js.Add(s)
		}
		after := heapInUse()
		if len(a.jobs) != n {
			b.Fatalf("%d Jobs kept", len(a.jobs))
		}
		b.ReportMetric(float64(after-before)/float64(n), "B/job")
		runtime.KeepAlive(a)
	}
}

// benchPod is the i-th pod of the generated cluster.
func benchPod(i int) *corev1.Pod {
	d := i / 10
	ns := fmt.Sprintf("team-%03d", d%100)
	hash := fmt.Sprintf("%09x", d*7919)[:9]
	rs := fmt.Sprintf("service-%05d-%s", d, hash)
	p := ownedBy(pod(ns, fmt.Sprintf("%s-%05x", rs, i%1048576),
		fmt.Sprintf("10.%d.%d.%d", 64+i>>16, (i>>8)&255, i&255),
		fmt.Sprintf("fd00::%x:%x", i>>16, i&0xffff)),
		"ReplicaSet", rs, "pod-template-hash", hash)
	return p
}
