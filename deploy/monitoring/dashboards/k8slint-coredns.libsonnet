// The dashboard: what k8slint sees (wasted NXDOMAIN, storms, A/AAAA
// pairs and suspected race drops with node_exporter's conntrack counters
// beside them, upstream failures), then the stock CoreDNS panels. Plain
// Grafana JSON, no library: the panels are built by the helpers below.
{
  local c = $._config,
  local g = c.grafana,
  local ns = c.namespaceLabel,
  local ds = { type: 'prometheus', uid: '${datasource}' },

  // The selector of every CoreDNS query of the dashboard.
  local sel = '%s=~"$cluster", job=~"$job", instance=~"$instance"' % g.clusterLabel,
  local nodeSel = '%s=~"$cluster", %s' % [g.clusterLabel, c.nodeExporterSelector],
  local m(name, extra='') = '%s{%s%s}' % [name, sel, extra],
  local rate(name, extra='') = 'rate(%s[$__rate_interval])' % m(name, extra),

  local target(t, i) = {
    datasource: ds,
    expr: t[0],
    legendFormat: t[1],
    refId: std.char(std.codepoint('A') + i),
  },
  local panel(type, title, description, targets, unit, w) = {
    type: type,
    title: title,
    description: description,
    datasource: ds,
    targets: std.mapWithIndex(function(i, t) target(t, i), targets),
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
    w:: w,
  },
  local timeseries(title, description, targets, unit='short', w=12) =
    panel('timeseries', title, description, targets, unit, w) {
      fieldConfig+: { defaults+: { custom: { fillOpacity: 10, lineWidth: 1, showPoints: 'never' } } },
      options: {
        legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },
  local stat(title, description, expr, unit='short') =
    panel('stat', title, description, [[expr, '']], unit, 6) {
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'area',
        textMode: 'auto',
        justifyMode: 'auto',
        orientation: 'auto',
        wideLayout: true,
        showPercentChange: false,
        percentChangeColorMode: 'standard',
      },
    },
  local row(title, panels) = { title: title, panels: panels },

  // Rows one under the other; in a row, panels left to right, wrapping at
  // Grafana's 24 columns. Panel ids follow the order.
  local layout(rows) =
    local place(acc, p) =
      local wrap = acc.x + p.w > 24;
      local x = if wrap then 0 else acc.x;
      local y = if wrap then acc.y + acc.h else acc.y;
      local h = if p.type == 'stat' then 4 else 8;
      {
        x: x + p.w,
        y: y,
        h: if wrap then h else std.max(acc.h, h),
        id: acc.id + 1,
        out: acc.out + [p { id: acc.id, gridPos: { x: x, y: y, w: p.w, h: h } }],
      };
    local addRow(acc, r) =
      local start = { x: 0, y: acc.y + 1, h: 0, id: acc.id + 1, out: [] };
      local placed = std.foldl(place, r.panels, start);
      {
        y: placed.y + placed.h,
        id: placed.id,
        out: acc.out + [{
          type: 'row',
          title: r.title,
          id: acc.id,
          collapsed: false,
          panels: [],
          gridPos: { x: 0, y: acc.y, w: 24, h: 1 },
        }] + placed.out,
      };
    std.foldl(addRow, rows, { y: 0, id: 1, out: [] }).out,

  // Series of server blocks where k8slint runs: the share of waste is
  // taken of their requests only.
  local k8slintServers = 'group by (instance, server) (%s)' % m('coredns_k8slint_tracked_clients'),

  local rows = [
    row('Wasted DNS (k8slint)', [
      stat(
        'Wasted NXDOMAIN share',
        'Share of the queries of the server blocks running k8slint that were search-path expansions answered NXDOMAIN.',
        'sum(%s) / sum(%s and on (instance, server) %s)' % [rate('coredns_k8slint_wasted_nxdomain_total'), rate('coredns_dns_requests_total'), k8slintServers],
        'percentunit',
      ),
      stat('Wasted NXDOMAIN', 'Search-path expansions answered NXDOMAIN, per second.', 'sum(%s)' % rate('coredns_k8slint_wasted_nxdomain_total'), 'reqps'),
      stat('Namespaces in a storm', "Namespaces whose wasted NXDOMAIN rate is at or above k8slint's storm threshold now.", 'count(max by (%s) (%s) == 1) or vector(0)' % [ns, m('coredns_k8slint_storm_active')]),
      stat('Suspected race drops', 'A or AAAA queries re-sent after their twin was lost, over the time range: each cost an application its resolver timeout.', 'sum(increase(%s[$__range]))' % m('coredns_k8slint_race_suspected_total')),
      timeseries('Wasted NXDOMAIN by namespace', 'Search-path expansions answered NXDOMAIN, per second, by the namespace of the pods that sent them.', [
        ['sum by (%s) (%s)' % [ns, rate('coredns_k8slint_wasted_nxdomain_total')], '{{%s}}' % ns],
      ], 'reqps'),
      timeseries('Search expansions by namespace', 'Queries for names built from the search list, per second, whatever their answer.', [
        ['sum by (%s) (%s)' % [ns, rate('coredns_k8slint_search_expansions_total')], '{{%s}}' % ns],
      ], 'reqps'),
      timeseries('Wasted NXDOMAIN share by server', 'Share of the queries of each server block that were wasted NXDOMAIN answers.', [
        ['sum by (server) (%s) / sum by (server) (%s and on (instance, server) %s)' % [rate('coredns_k8slint_wasted_nxdomain_total'), rate('coredns_dns_requests_total'), k8slintServers], '{{server}}'],
      ], 'percentunit'),
      timeseries('Storms', "1 while a namespace is in a storm (max over the replicas), and the storms that started.", [
        ['max by (%s) (%s)' % [ns, m('coredns_k8slint_storm_active')], 'in storm: {{%s}}' % ns],
        ['sum by (%s) (increase(%s[$__rate_interval]))' % [ns, m('coredns_k8slint_storms_total')], 'started: {{%s}}' % ns],
      ]),
    ]),
    row('A/AAAA pairs and the conntrack race', [
      timeseries('Parallel A/AAAA pairs by namespace', 'A and AAAA sent at once from one UDP socket (glibc and musl by default), per second: the traffic exposed to the conntrack insertion race. A lower bound: a busy server may count a parallel pair as same_socket.', [
        ['sum by (%s) (%s)' % [ns, rate('coredns_k8slint_parallel_a_aaaa_total')], '{{%s}}' % ns],
      ], 'reqps'),
      timeseries('Sequential A/AAAA pairs by mode', 'Pairs sent one after the other: same_socket (single-request), new_socket (single-request-reopen), tcp (use-vc), per second.', [
        ['sum by (mode) (%s)' % rate('coredns_k8slint_sequential_a_aaaa_total'), '{{mode}}'],
      ], 'reqps'),
      timeseries('Suspected race drops by namespace', 'Lone A or AAAA queries re-sent after their answer with the twin never seen, per second.', [
        ['sum by (%s) (%s)' % [ns, rate('coredns_k8slint_race_suspected_total')], '{{%s}}' % ns],
      ], 'reqps'),
      timeseries('Stall before the retransmission', 'Time from a lone query to its retransmission: what the application waited.', [
        ['histogram_quantile(0.5, sum by (le) (%s))' % rate('coredns_k8slint_race_retry_delay_seconds_bucket'), 'p50'],
        ['histogram_quantile(0.99, sum by (le) (%s))' % rate('coredns_k8slint_race_retry_delay_seconds_bucket'), 'p99'],
      ], 's'),
      timeseries('Node conntrack drops and insert failures (node_exporter)', "node_exporter's conntrack counters of every node, where node_exporter runs with its conntrack collector (empty otherwise). Since Linux 5.10 they count real losses only; resolved clashes are clash_resolve.", [
        ['sum by (instance) (rate(node_nf_conntrack_stat_drop{%s}[$__rate_interval]))' % nodeSel, 'drop {{instance}}'],
        ['sum by (instance) (rate(node_nf_conntrack_stat_insert_failed{%s}[$__rate_interval]))' % nodeSel, 'insert_failed {{instance}}'],
      ], 'pps', 24),
    ]),
    row('Upstream', [
      timeseries('Upstream failures by reason (k8slint)', 'Failed answers for names outside the cluster, per second: SERVFAIL and REFUSED answers and the errors of forward (timeout, connection_refused, no_healthy_upstream, error).', [
        ['sum by (reason) (%s)' % rate('coredns_k8slint_upstream_failures_total'), '{{reason}}'],
      ], 'reqps'),
      timeseries('Upstream degraded', "1 while k8slint judges the upstream degraded (the share of failed answers for names outside the cluster at or above upstream_degraded).", [
        ['max by (server) (%s)' % m('coredns_k8slint_upstream_degraded'), '{{server}}'],
      ]),
      timeseries('Forwarded queries by upstream and rcode', "Answers forward got from each upstream, per second (coredns_proxy_request_duration_seconds, proxy_name=\"forward\"): only answered exchanges, timeouts are in k8slint's failures.", [
        ['sum by (to, rcode) (%s)' % rate('coredns_proxy_request_duration_seconds_count', ', proxy_name="forward"'), '{{to}} {{rcode}}'],
      ], 'reqps'),
      timeseries('Forward latency by upstream', '99th and 50th percentile of the time upstreams took to answer.', [
        ['histogram_quantile(0.99, sum by (to, le) (%s))' % rate('coredns_proxy_request_duration_seconds_bucket', ', proxy_name="forward"'), 'p99 {{to}}'],
        ['histogram_quantile(0.5, sum by (to, le) (%s))' % rate('coredns_proxy_request_duration_seconds_bucket', ', proxy_name="forward"'), 'p50 {{to}}'],
      ], 's'),
      timeseries('Health checks and rejects', 'Failed health checks per upstream, times every upstream was unhealthy at once (healthcheck broken), and queries refused at max_concurrent, per second.', [
        ['sum by (to) (%s)' % rate('coredns_proxy_healthcheck_failures_total', ', proxy_name="forward"'), 'healthcheck failures {{to}}'],
        ['sum(%s)' % rate('coredns_forward_healthcheck_broken_total'), 'healthcheck broken'],
        ['sum(%s)' % rate('coredns_forward_max_concurrent_rejects_total'), 'max_concurrent rejects'],
      ], 'reqps', 24),
    ]),
    row('k8slint state', [
      timeseries('Tracked clients by instance', 'Client addresses whose recent queries k8slint keeps (at most clients_max per server block).', [
        ['sum by (instance) (%s)' % m('coredns_k8slint_tracked_clients'), '{{instance}}'],
      ]),
      timeseries('Client evictions by instance', 'Clients dropped to stay within clients_max, per second: when it stays above zero, walks and race drops are under-counted.', [
        ['sum by (instance) (%s)' % rate('coredns_k8slint_evictions_total'), '{{instance}}'],
      ], 'ops'),
    ]),
    row('CoreDNS', [
      timeseries('Requests by type', 'Queries CoreDNS received, per second.', [
        ['sum by (type) (%s)' % rate('coredns_dns_requests_total'), '{{type}}'],
      ], 'reqps'),
      timeseries('Responses by rcode', 'Answers CoreDNS sent, per second.', [
        ['sum by (rcode) (%s)' % rate('coredns_dns_responses_total'), '{{rcode}}'],
      ], 'reqps'),
      timeseries('Request latency', '99th and 50th percentile of the time CoreDNS took to answer.', [
        ['histogram_quantile(0.99, sum by (le) (%s))' % rate('coredns_dns_request_duration_seconds_bucket'), 'p99'],
        ['histogram_quantile(0.5, sum by (le) (%s))' % rate('coredns_dns_request_duration_seconds_bucket'), 'p50'],
      ], 's'),
      timeseries('Cache hit ratio', 'Share of the queries that reached cache answered from it.', [
        ['sum(%s) / sum(%s)' % [rate('coredns_cache_hits_total'), rate('coredns_cache_requests_total')], 'hits'],
      ], 'percentunit'),
      timeseries('Cache entries', 'Entries in the cache, by type (success, denial).', [
        ['sum by (type) (%s)' % m('coredns_cache_entries'), '{{type}}'],
      ]),
      timeseries('CPU by instance', 'CPU time CoreDNS used, in cores.', [
        ['sum by (instance) (%s)' % rate('process_cpu_seconds_total'), '{{instance}}'],
      ]),
      timeseries('Memory by instance', 'Resident memory of CoreDNS.', [
        ['sum by (instance) (%s)' % m('process_resident_memory_bytes'), '{{instance}}'],
      ], 'bytes'),
      timeseries('Panics', 'Panics CoreDNS recovered from, per second.', [
        ['sum(%s)' % rate('coredns_panics_total'), 'panics'],
      ], 'ops'),
    ]),
  ],

  local variable(name, label, query, hide=0, multi=false) = {
    name: name,
    label: label,
    type: 'query',
    datasource: ds,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: query,
    refresh: 2,
    sort: 1,
    hide: hide,
    multi: multi,
    includeAll: multi,
    [if multi then 'allValue']: '.+',
    current: if multi then { selected: true, text: 'All', value: '$__all' } else { selected: false, text: '', value: '' },
    options: [],
  },

  grafanaDashboards+:: {
    'k8slint-coredns.json': {
      uid: g.dashboardUID,
      title: 'CoreDNS / k8slint',
      description: 'What the cluster DNS wastes and why: k8slint (coredns-custom) and the stock CoreDNS metrics.',
      tags: g.dashboardTags,
      timezone: 'utc',
      refresh: g.refresh,
      editable: true,
      graphTooltip: 1,
      schemaVersion: 39,
      time: { from: 'now-1h', to: 'now' },
      annotations: { list: [] },
      links: [],
      templating: {
        list: [
          {
            name: 'datasource',
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            current: { selected: true, text: 'default', value: 'default' },
            hide: 0,
            options: [],
            refresh: 1,
          },
          variable(
            'cluster',
            'cluster',
            'label_values(up{%s}, %s)' % [c.corednsSelector, g.clusterLabel],
            hide=if g.showMultiCluster then 0 else 2,
          ) + {
            allValue: '.*',
            includeAll: !g.showMultiCluster,
            [if !g.showMultiCluster then 'current']: { selected: true, text: 'All', value: '$__all' },
          },
          variable('job', 'job', 'label_values(up{%s, %s=~"$cluster"}, job)' % [c.corednsSelector, g.clusterLabel]),
          variable('instance', 'instance', 'label_values(up{%s=~"$cluster", job=~"$job"}, instance)' % g.clusterLabel, multi=true),
        ],
      },
      panels: layout(rows),
    },
  },
}
