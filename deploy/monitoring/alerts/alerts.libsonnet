// Every alert gets a runbook_url: the runbookURLPattern with the alert
// name in lower case, the anchor of its heading in docs/runbooks.md. An
// expression of several lines ends with a newline, so that YAML shows it
// as a block.
(import 'k8slint.libsonnet') +
(import 'coredns.libsonnet') +
(import 'forward.libsonnet') +
{
  prometheusAlerts+:: {
    groups: [
      g {
        rules: [
          r {
            annotations+: { runbook_url: $._config.runbookURLPattern % std.asciiLower(r.alert) },
            expr: if std.member(r.expr, '\n') && !std.endsWith(r.expr, '\n') then r.expr + '\n' else r.expr,
          }
          for r in super.rules
        ],
      }
      for g in super.groups
    ],
  },
}
