local p = import '../lib/promql.libsonnet';

// Working replacements for the forward alerts of the widely used CoreDNS
// mixin. Since CoreDNS 1.11 forward's request, response and healthcheck
// failure counters are the proxy package's (coredns_proxy_*, label
// proxy_name="forward"); coredns_forward_requests_total,
// _responses_total, _request_duration_seconds and
// _healthcheck_failures_total are no longer registered, so alerts on them
// never fire. The alert names are kept so these replace them one for one.
{
  prometheusAlerts+:: {
    local c = $._config,
    local proxy = 'proxy_name="forward"',
    local answered(extra='') = p.sum(c, 'rate(coredns_proxy_request_duration_seconds_count{%s,%s%s}[5m])' % [c.corednsSelector, proxy, extra], ['rcode']),
    groups+: [
      {
        name: 'coredns_forward',
        rules: p.pair(
          function(s) {
            alert: 'CoreDNSForwardLatencyHigh',
            expr: 'histogram_quantile(0.99, %s) > %g' % [p.sum(c, 'rate(coredns_proxy_request_duration_seconds_bucket{%s,%s}[5m])' % [c.corednsSelector, proxy], ['rcode']), s],
            'for': '10m',
            annotations: {
              summary: 'Upstream resolvers answer CoreDNS slowly.',
              description: 'CoreDNS has a 99th percentile latency of {{ $value | humanizeDuration }} forwarding queries to {{ $labels.to }}.',
            },
          },
          c.corednsForwardLatencyWarningSeconds,
          c.corednsForwardLatencyCriticalSeconds,
        ) + p.pair(
          function(r) {
            alert: 'CoreDNSForwardErrorsHigh',
            expr: '%s\n  /\n%s\n  > %g' % [answered(',rcode="SERVFAIL"'), answered(), r],
            'for': '10m',
            annotations: {
              summary: 'Upstream resolvers answer CoreDNS with SERVFAIL.',
              description: '{{ $value | humanizePercentage }} of the answers CoreDNS got from {{ $labels.to }} were SERVFAIL. Timeouts and refused connections are not answers and are not counted here: see K8sLintUpstreamDegraded.',
            },
          },
          c.corednsForwardErrorsWarning,
          c.corednsForwardErrorsCritical,
        ) + [
          {
            alert: 'CoreDNSForwardHealthcheckFailureCount',
            expr: '%s > 0' % p.sum(c, 'rate(coredns_proxy_healthcheck_failures_total{%s,%s}[5m])' % [c.corednsSelector, proxy]),
            'for': '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'CoreDNS health checks of an upstream fail.',
              description: 'CoreDNS health checks have failed to upstream server {{ $labels.to }} for 10 minutes.',
            },
          },
          {
            alert: 'CoreDNSForwardHealthcheckBrokenCount',
            expr: '%s > 0' % p.sum(c, 'rate(coredns_forward_healthcheck_broken_total{%(corednsSelector)s}[5m])' % c),
            'for': '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'CoreDNS health checks of every upstream fail.',
              description: 'CoreDNS health checks have failed for all upstream servers; forward then sends queries to a random upstream.',
            },
          },
          {
            alert: 'CoreDNSForwardMaxConcurrentRejects',
            expr: '%s > 0' % p.sum(c, 'rate(coredns_forward_max_concurrent_rejects_total{%(corednsSelector)s}[5m])' % c),
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'CoreDNS refuses queries at its max_concurrent limit.',
              description: 'CoreDNS is refusing {{ $value | humanize }} queries per second because forward has max_concurrent queries in flight: the upstream is slow or the limit too low.',
            },
          },
        ],
      },
    ],
  },
}
