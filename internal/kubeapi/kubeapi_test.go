package kubeapi

import (
	"encoding/json"
	"testing"
)

func TestYAMLPrintsAnObjectAsKubectlGetDoesAndLeavesItUnchanged(t *testing.T) {
	var o Object
	if err := decode([]byte(`{"kind":"ConfigMap","apiVersion":"v1",
		"metadata":{"name":"coredns","namespace":"kube-system","resourceVersion":"12345678901234567890",
			"managedFields":[{"manager":"kubectl","operation":"Apply"}]},
		"data":{"Corefile":".:53 {\n    errors\n}\n"}}`), &o); err != nil {
		t.Fatal(err)
	}
	got, err := YAML(o)
	if err != nil {
		t.Fatal(err)
	}
	// Keys sorted, no managedFields, the Corefile a literal block, the
	// resource version as the API server wrote it.
	want := `apiVersion: v1
data:
  Corefile: |
    .:53 {
        errors
    }
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
  resourceVersion: "12345678901234567890"
`
	if string(got) != want {
		t.Errorf("YAML:\n%s\nwant:\n%s", got, want)
	}
	if b, _ := json.Marshal(o["metadata"]); !json.Valid(b) || len(o["metadata"].(map[string]any)) != 4 {
		t.Errorf("YAML changed the object's metadata: %s", b)
	}
}

func TestMetaReadsTheControllerAmongTheOwners(t *testing.T) {
	var o Object
	if err := decode([]byte(`{"metadata":{"name":"web-7d9c-x2k4q","namespace":"shop","labels":{"app":"web"},
		"ownerReferences":[{"kind":"ConfigMap","name":"x"},{"kind":"ReplicaSet","name":"web-7d9c","controller":true}]}}`), &o); err != nil {
		t.Fatal(err)
	}
	m := MetaOf(o)
	ctl, ok := m.Controller()
	if m.Name != "web-7d9c-x2k4q" || m.Namespace != "shop" || m.Labels["app"] != "web" || !ok || ctl.Kind != "ReplicaSet" || ctl.Name != "web-7d9c" {
		t.Errorf("MetaOf = %+v, controller %+v %v", m, ctl, ok)
	}
	if _, ok := MetaOf(Object{}).Controller(); ok {
		t.Error("an object without owners has a controller")
	}
}
