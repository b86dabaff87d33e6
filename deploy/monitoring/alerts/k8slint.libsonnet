local p = import '../lib/promql.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local ns = c.namespaceLabel,
    groups+: [
      {
        name: 'k8slint',
        rules: [
          {
            alert: 'K8sLintWastedNXDOMAINHigh',
            expr: |||
              job:coredns_k8slint_wasted_nxdomain:ratio_rate5m >= %(wastedNXDOMAINRatioWarning)g
              and ignoring (namespace)
              %(wastedRate)s >= %(wastedNXDOMAINMinRate)g
            ||| % (c { wastedRate: p.sum(c, 'namespace:coredns_k8slint_wasted_nxdomain:rate5m', [ns]) }),
            'for': '1h',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Most of what CoreDNS answers is wasted on search-path expansions.',
              description: '{{ $value | humanizePercentage }} of the queries CoreDNS {{ $labels.job }} answers on {{ $labels.server }} are search-path expansions answered NXDOMAIN (pods with ndots:5 looking up names outside the cluster). The dashboard shows which namespaces send them.',
            },
          },
        ] + p.pair(
          function(f) {
            alert: 'K8sLintSearchPathStorm',
            expr: '%s == 1' % p.max(c, 'coredns_k8slint_storm_active{%(corednsSelector)s}' % c),
            'for': f,
            annotations: {
              summary: 'A namespace is in a search-path storm.',
              description: 'Namespace {{ $labels.%(ns)s }} has sent wasted NXDOMAIN queries at or above the storm threshold of k8slint on {{ $labels.server }} for %(for)s.' % { ns: ns, 'for': f },
            },
          },
          c.stormWarningFor,
          c.stormCriticalFor,
        ) + p.pair(
          function(n) {
            alert: 'K8sLintRaceDropsSuspected',
            expr: '%s >= %g' % [p.sum(c, 'increase(coredns_k8slint_race_suspected_total{%(corednsSelector)s}[15m])' % c), n],
            'for': '5m',
            annotations: {
              summary: 'Pods lose DNS queries and wait for their resolver timeout.',
              description: '{{ $value | humanize }} A or AAAA queries from namespace {{ $labels.%s }} were re-sent after a lost twin in the last 15 minutes (suspected conntrack race drops): each cost the application its resolver timeout, 5 s by default.' % ns,
            },
          },
          c.raceDropsWarning,
          c.raceDropsCritical,
        ) + p.pair(
          function(f) {
            alert: 'K8sLintUpstreamDegraded',
            expr: '%s == 1' % p.max(c, 'coredns_k8slint_upstream_degraded{%(corednsSelector)s}' % c),
            'for': f,
            annotations: {
              summary: 'Names outside the cluster fail to resolve.',
              description: 'k8slint on {{ $labels.server }} has judged the upstream degraded for %s: at least the upstream_degraded share of answers for names outside the cluster failed.' % f,
            },
          },
          c.upstreamDegradedWarningFor,
          c.upstreamDegradedCriticalFor,
        ) + [
          {
            alert: 'K8sLintClientTableEvicting',
            expr: '%s > 0' % p.sum(c, 'rate(coredns_k8slint_evictions_total{%(corednsSelector)s}[15m])' % c),
            'for': '1h',
            labels: { severity: 'info' },
            annotations: {
              summary: "k8slint's client table is too small for this cluster.",
              description: 'k8slint on {{ $labels.server }} has dropped {{ printf "%.3g" $value }} clients per second to stay within clients_max for an hour: search walks and race drops of dropped clients are under-counted.',
            },
          },
          {
            alert: 'K8sLintNotLoaded',
            expr: |||
              up{%(corednsSelector)s} == 1
              unless on (%(clusterLabel)s, job, instance)
              coredns_k8slint_tracked_clients{%(corednsSelector)s}
            ||| % (c { clusterLabel: c.grafana.clusterLabel }),
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'CoreDNS runs without k8slint.',
              description: 'CoreDNS {{ $labels.instance }} of {{ $labels.job }} is up but exports no k8slint metrics: it runs the stock image, or its Corefile has no k8slint line, and the k8slint alerts cannot fire for it.',
            },
          },
        ],
      },
    ],
  },
}
