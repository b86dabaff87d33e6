(import 'k8slint-coredns.libsonnet')
