// What the mixin renders into this directory (make monitoring), given the
// mixin (mixin.libsonnet, its _config maybe overridden). Every output is a
// string: the file.
function(mixin)
local c = mixin._config;
local header = '# Generated from deploy/monitoring/mixin.libsonnet by `make monitoring`: edit the .libsonnet files, not this one.\n';

{
  'prometheus_alerts.yaml': header + std.manifestYamlDoc(mixin.prometheusAlerts, quote_keys=false),
  'prometheus_rules.yaml': header + std.manifestYamlDoc(mixin.prometheusRules, quote_keys=false),
  // The same groups as a prometheus-operator PrometheusRule.
  'prometheusrule.yaml': header + std.manifestYamlDoc({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: c.prometheusRule,
    spec: { groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups },
  }, quote_keys=false),
} + {
  ['dashboards_out/' + name]: std.manifestJsonEx(mixin.grafanaDashboards[name], '  ') + '\n'
  for name in std.objectFields(mixin.grafanaDashboards)
}
