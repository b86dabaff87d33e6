// The k8slint monitoring mixin: alerts, recording rules and a Grafana
// dashboard for coredns-custom (CoreDNS 1.15.0 with k8slint). Import it,
// override _config (config.libsonnet), and render prometheusAlerts,
// prometheusRules and grafanaDashboards, or use the files rendered here.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
