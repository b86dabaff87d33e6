local p = import '../lib/promql.libsonnet';

// Recording rules: the per-namespace rates of k8slint and the share of
// CoreDNS's answers that are wasted, summed over the replicas.
{
  prometheusRules+:: {
    local c = $._config,
    local ns = c.namespaceLabel,
    local rate(m) = p.sum(c, 'rate(%s{%s}[5m])' % [m, c.corednsSelector]),
    groups+: [
      {
        name: 'k8slint.rules',
        rules: [
          {
            record: 'namespace:coredns_k8slint_wasted_nxdomain:rate5m',
            expr: rate('coredns_k8slint_wasted_nxdomain_total'),
          },
          {
            record: 'namespace:coredns_k8slint_search_expansions:rate5m',
            expr: rate('coredns_k8slint_search_expansions_total'),
          },
          {
            record: 'namespace:coredns_k8slint_race_suspected:rate5m',
            expr: rate('coredns_k8slint_race_suspected_total'),
          },
          {
            record: 'reason:coredns_k8slint_upstream_failures:rate5m',
            expr: rate('coredns_k8slint_upstream_failures_total'),
          },
          {
            record: 'server:coredns_dns_requests:rate5m',
            expr: p.sum(c, 'rate(coredns_dns_requests_total{%(corednsSelector)s}[5m])' % c, ['zone', 'type', 'proto', 'family', 'view']),
          },
          {
            // A target label namespace (kube-system, from a ServiceMonitor)
            // is on the requests and not on the sum over the plugin's
            // namespaces: ignoring (namespace) matches them.
            record: 'job:coredns_k8slint_wasted_nxdomain:ratio_rate5m',
            expr: |||
              %s
              / ignoring (namespace)
              server:coredns_dns_requests:rate5m
            ||| % p.sum(c, 'namespace:coredns_k8slint_wasted_nxdomain:rate5m', [ns]),
          },
        ],
      },
    ],
  },
}
