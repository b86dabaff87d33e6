package testcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CoreDNS describes the kube-system/coredns Deployment and ConfigMap.
type CoreDNS struct {
	Image    string
	Corefile string
	Replicas int32
	// RollOnCorefile puts the Corefile's hash on the pod template, so that
	// a changed Corefile rolls new pods out (reading it at start) rather
	// than waiting for kubelet to update the mounted ConfigMap and for the
	// reload plugin.
	RollOnCorefile bool
}

// corefileAnnotation is the pod template's annotation that RollOnCorefile
// sets: the first 8 bytes of the Corefile's SHA-256, in hex.
const corefileAnnotation = "k8slint.io/corefile-sha256"

func (d CoreDNS) podAnnotations() map[string]string {
	if !d.RollOnCorefile {
		return nil
	}
	sum := sha256.Sum256([]byte(d.Corefile))
	return map[string]string{corefileAnnotation: hex.EncodeToString(sum[:8])}
}

// CoreDNSDeployment is kube-system/coredns as kubeadm (Kubernetes 1.34)
// deploys it: ServiceAccount coredns, dnsPolicy Default, the
// system-cluster-critical priority, drop ALL + add NET_BIND_SERVICE, no
// privilege escalation, a read-only root file system, the ConfigMap
// mounted at /etc/coredns, kubeadm's probes and resources, rolling updates
// of at most one unavailable pod. Two changes: runAsNonRoot (the image's
// user is 65532) and a readiness probe every second, not every 10 s, so
// that tests need not wait.
func CoreDNSDeployment(d CoreDNS) *appsv1.Deployment {
	labels := map[string]string{"k8s-app": "kube-dns"}
	maxUnavailable := intstr.FromInt32(1)
	yes, no := true, false
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &d.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: d.podAnnotations()},
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-cluster-critical",
					ServiceAccountName: "coredns",
					DNSPolicy:          corev1.DNSDefault,
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations: []corev1.Toleration{
						{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
						{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
					},
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k8s-app", Operator: metav1.LabelSelectorOpIn, Values: []string{"kube-dns"}}}},
								TopologyKey:   "kubernetes.io/hostname",
							},
						}},
					}},
					Containers: []corev1.Container{{
						Name:            "coredns",
						Image:           d.Image,
						ImagePullPolicy: corev1.PullNever,
						Args:            []string{"-conf", "/etc/coredns/Corefile"},
						Resources: corev1.ResourceRequirements{
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("70Mi")},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: "/etc/coredns", ReadOnly: true}},
						Ports: []corev1.ContainerPort{
							{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
							{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
							{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
						},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
							InitialDelaySeconds: 60, TimeoutSeconds: 5, SuccessThreshold: 1, FailureThreshold: 5,
						},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8181), Scheme: corev1.URISchemeHTTP}},
							PeriodSeconds: 1,
						},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: &no,
							Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}},
							ReadOnlyRootFilesystem:   &yes,
							RunAsNonRoot:             &yes,
						},
					}},
					Volumes: []corev1.Volume{{
						Name: "config-volume",
						VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "coredns"},
							Items:                []corev1.KeyToPath{{Key: "Corefile", Path: "Corefile"}},
						}},
					}},
				},
			},
		},
	}
}

// DeployCoreDNS creates (or replaces) the coredns ConfigMap and Deployment
// and waits for the rollout.
func (c *Cluster) DeployCoreDNS(ctx context.Context, d CoreDNS) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system"},
		Data:       map[string]string{"Corefile": d.Corefile},
	}
	cms := c.Client.CoreV1().ConfigMaps("kube-system")
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	deps := c.Client.AppsV1().Deployments("kube-system")
	dep := CoreDNSDeployment(d)
	if _, err := deps.Create(ctx, dep, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		if _, err := deps.Update(ctx, dep, metav1.UpdateOptions{}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return c.WaitRollout(ctx, "kube-system", "coredns", 3*time.Minute)
}

// WaitRollout waits until the Deployment's latest generation runs all its
// replicas, all available, and no pod of an older ReplicaSet is left.
func (c *Cluster) WaitRollout(ctx context.Context, ns, name string, timeout time.Duration) error {
	return waitFor(ctx, "rollout of "+ns+"/"+name, timeout, func() (bool, error) {
		d, err := c.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		st := d.Status
		if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != want || st.AvailableReplicas != want || st.Replicas != want {
			return false, fmt.Errorf("generation %d observed %d, replicas %d updated %d available %d (want %d)", d.Generation, st.ObservedGeneration, st.Replicas, st.UpdatedReplicas, st.AvailableReplicas, want)
		}
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(d.Spec.Selector)})
		if err != nil {
			return false, err
		}
		if n := len(pods.Items); n != int(want) {
			return false, fmt.Errorf("%d pods, want %d (old ones still terminating)", n, want)
		}
		return true, nil
	})
}
