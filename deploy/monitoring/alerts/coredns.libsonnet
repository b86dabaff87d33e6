local p = import '../lib/promql.libsonnet';

// CoreDNS's own alerts, on the series CoreDNS 1.15.0 exports, summed over
// the replicas without (pod, instance).
{
  prometheusAlerts+:: {
    local c = $._config,
    local requestRate(extra='') = p.sum(c, 'rate(coredns_dns_responses_total{%s%s}[5m])' % [c.corednsSelector, extra], ['rcode', 'zone', 'plugin']),
    groups+: [
      {
        name: 'coredns',
        rules: [
          {
            alert: 'CoreDNSDown',
            expr: 'absent(up{%(corednsSelector)s} == 1)' % c,
            'for': '15m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'CoreDNS has disappeared from Prometheus target discovery.',
              description: 'No CoreDNS target matching %(corednsSelector)s has been up for 15 minutes: cluster DNS may be down, or Prometheus no longer scrapes it.' % c,
            },
          },
        ] + p.pair(
          function(s) {
            alert: 'CoreDNSLatencyHigh',
            expr: 'histogram_quantile(0.99, %s) > %g' % [p.sum(c, 'rate(coredns_dns_request_duration_seconds_bucket{%(corednsSelector)s}[5m])' % c), s],
            'for': '10m',
            annotations: {
              summary: 'CoreDNS answers slowly.',
              description: 'CoreDNS has a 99th percentile latency of {{ $value | humanizeDuration }} on server {{ $labels.server }} zone {{ $labels.zone }}.',
            },
          },
          c.corednsLatencyWarningSeconds,
          c.corednsLatencyCriticalSeconds,
        ) + p.pair(
          function(r) {
            alert: 'CoreDNSErrorsHigh',
            expr: '%s\n  /\n%s\n  > %g' % [requestRate(',rcode="SERVFAIL"'), requestRate(), r],
            'for': '10m',
            annotations: {
              summary: 'CoreDNS answers SERVFAIL.',
              description: 'CoreDNS is returning SERVFAIL for {{ $value | humanizePercentage }} of the queries on server {{ $labels.server }}.',
            },
          },
          c.corednsErrorsWarning,
          c.corednsErrorsCritical,
        ) + [
          {
            alert: 'CoreDNSPanics',
            expr: '%s > 0' % p.sum(c, 'increase(coredns_panics_total{%(corednsSelector)s}[10m])' % c),
            labels: { severity: 'warning' },
            annotations: {
              summary: 'CoreDNS recovered from panics.',
              description: 'CoreDNS {{ $labels.job }} recovered from panics in the last 10 minutes; each cost the query it was serving.',
            },
          },
        ],
      },
    ],
  },
}
