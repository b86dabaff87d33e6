// Small helpers shared by the alerts, rules and dashboard.
{
  // sumWithout(c, 'rate(x[5m])') sums over the replicas: without (pod,
  // instance), so every other label (cluster, job, server, namespace, ...)
  // is kept.
  without(c, extra=[]):: 'without (%s)' % std.join(', ', c.podLabels + extra),
  sum(c, expr, extra=[]):: 'sum %s (%s)' % [self.without(c, extra), expr],
  max(c, expr, extra=[]):: 'max %s (%s)' % [self.without(c, extra), expr],

  // A warning/critical pair of one alert: the same rule with two
  // thresholds (or durations), as kube-prometheus writes them.
  pair(rule, warning, critical):: [
    rule(warning) + { labels+: { severity: 'warning' } },
    rule(critical) + { labels+: { severity: 'critical' } },
  ],
}
