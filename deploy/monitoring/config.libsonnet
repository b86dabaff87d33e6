// The mixin's settings. Override them when you import the mixin:
//
//   (import 'github.com/k8slint/k8slint/deploy/monitoring/mixin.libsonnet') + {
//     _config+:: { corednsSelector: 'job="coredns"' },
//   }
{
  _config+:: {
    // The one selector of the CoreDNS targets (coredns-custom with k8slint),
    // used by every alert and recording rule and by the dashboard's job
    // variable. kube-prometheus and most Helm charts scrape the kube-dns
    // Service as job "kube-dns".
    corednsSelector: 'job="kube-dns"',

    // The label k8slint's namespace arrives under. Prometheus renames a
    // scraped label that collides with a target label to exported_<name>;
    // a ServiceMonitor in kube-system adds namespace="kube-system" to every
    // target, so without honorLabels: true the plugin's namespace becomes
    // exported_namespace. Set this to 'exported_namespace' then.
    namespaceLabel: 'namespace',

    // node_exporter's targets, for the conntrack counters beside the
    // plugin's race figures on the dashboard.
    nodeExporterSelector: 'job="node-exporter"',

    // Labels of the replicas, dropped when series are summed over them.
    podLabels: ['pod', 'instance'],

    // Thresholds of the alerts (see docs/runbooks.md).
    wastedNXDOMAINRatioWarning: 0.5,
    wastedNXDOMAINRatioCritical: 0.8,
    wastedNXDOMAINMinRate: 10,  // per second: below it a ratio is noise
    stormWarningFor: '5m',
    stormCriticalFor: '30m',
    raceDropsWarning: 10,  // suspected race drops per namespace in 15 minutes
    raceDropsCritical: 100,
    upstreamDegradedWarningFor: '2m',
    upstreamDegradedCriticalFor: '10m',
    corednsLatencyWarningSeconds: 1,
    corednsLatencyCriticalSeconds: 4,
    corednsErrorsWarning: 0.01,
    corednsErrorsCritical: 0.03,
    corednsForwardLatencyWarningSeconds: 1,
    corednsForwardLatencyCriticalSeconds: 4,
    corednsForwardErrorsWarning: 0.01,
    corednsForwardErrorsCritical: 0.03,

    // runbook_url of every alert: the pattern gets the alert name in lower
    // case, which is the anchor GitHub gives its heading in docs/runbooks.md.
    runbookURLPattern: 'https://github.com/k8slint/k8slint/blob/main/docs/runbooks.md#%s',

    // metadata of the PrometheusRule manifest; kube-prometheus's
    // Prometheus selects rules labelled prometheus: k8s, role: alert-rules.
    prometheusRule: {
      name: 'k8slint',
      namespace: 'monitoring',
      labels: { prometheus: 'k8s', role: 'alert-rules' },
    },

    grafana: {
      dashboardUID: 'k8slint-coredns',
      dashboardTags: ['k8slint', 'coredns'],
      refresh: '30s',
      // Show the cluster variable (kube-prometheus's showMultiCluster).
      showMultiCluster: false,
      clusterLabel: 'cluster',
    },
  },
}
