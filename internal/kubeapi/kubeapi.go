// Package kubeapi reads a live cluster for `dnslint cluster`: it connects
// with a kubeconfig the way kubectl does (client-go's loading rules,
// contexts, exec credentials), lists objects page by page (limit and
// continue, as `kubectl get --chunk-size`), GETs through the API server's
// pod proxy, and writes an object as `kubectl get -o yaml` prints it, so
// that dnslint lints the cluster's objects exactly as it lints the same
// objects saved to files.
package kubeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// Client is an authenticated connection to one API server.
type Client struct {
	http *http.Client
	base *url.URL
	// Namespace is the kubeconfig context's namespace ("default" when it
	// names none), what kubectl uses without -n.
	Namespace string
}

// Connect loads the kubeconfig as kubectl does: file kubeconfig if not
// empty, else $KUBECONFIG or ~/.kube/config, else the in-cluster service
// account; context selects a context other than the current one.
func Connect(kubeconfig, context string) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %v", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %v", err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %v", err)
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %v", err)
	}
	return &Client{http: hc, base: base, Namespace: ns}, nil
}

// StatusError is a request the API server refused, with its Status
// message ("configmaps \"coredns\" is forbidden: User ... cannot get ...").
type StatusError struct {
	Code    int
	Reason  string // Forbidden, NotFound, ...
	Message string
}

func (e *StatusError) Error() string { return e.Message }

// IsNotFound reports whether err is the API server's 404.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// IsForbidden reports whether err is the API server's 403.
func IsForbidden(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusForbidden
}

// maxBody bounds what one response may hold: a page of objects or a
// report, never more than this.
const maxBody = 64 << 20

// Get GETs path (with query) from the API server and returns the body of a
// 2xx answer; any other answer is a *StatusError.
func (c *Client) Get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", path, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("GET %s: answer larger than %d bytes", path, maxBody)
	}
	if resp.StatusCode/100 == 2 {
		return body, nil
	}
	se := &StatusError{Code: resp.StatusCode}
	var st struct{ Message, Reason string }
	if json.Unmarshal(body, &st) == nil && st.Message != "" {
		se.Message, se.Reason = st.Message, st.Reason
	} else {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		se.Message = fmt.Sprintf("GET %s: %s: %s", path, resp.Status, msg)
	}
	return nil, se
}

// Object is one API object as JSON decodes it (numbers as json.Number, so
// that they print as the API server wrote them).
type Object = map[string]any

func decode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// GetObject GETs one object.
func (c *Client) GetObject(ctx context.Context, path string) (Object, error) {
	b, err := c.Get(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	var o Object
	if err := decode(b, &o); err != nil {
		return nil, fmt.Errorf("GET %s: %v", path, err)
	}
	return o, nil
}

// List lists the collection at path (".../namespaces/NS/deployments", or
// ".../deployments" for every namespace), with query (a labelSelector, or
// nil), limit objects a page, and calls
// each for every object in order, with the apiVersion and kind the list
// leaves out of its items set as kubectl sets them. It stops at the first
// error, of the API or of each.
func (c *Client) List(ctx context.Context, path string, query url.Values, limit int, each func(Object) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	for {
		b, err := c.Get(ctx, path, q)
		if err != nil {
			return err
		}
		var page struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
			Items []Object `json:"items"`
		}
		if err := decode(b, &page); err != nil {
			return fmt.Errorf("GET %s: %v", path, err)
		}
		kind := strings.TrimSuffix(page.Kind, "List")
		for _, o := range page.Items {
			if _, ok := o["apiVersion"]; !ok {
				o["apiVersion"] = page.APIVersion
			}
			if _, ok := o["kind"]; !ok {
				o["kind"] = kind
			}
			if err := each(o); err != nil {
				return err
			}
		}
		if page.Metadata.Continue == "" {
			return nil
		}
		q.Set("continue", page.Metadata.Continue)
	}
}

// YAML writes o as `kubectl get -o yaml` prints one object: without
// metadata.managedFields (kubectl's --show-managed-fields=false), keys
// sorted, through the same JSON-to-YAML conversion.
func YAML(o Object) ([]byte, error) {
	if md, ok := o["metadata"].(map[string]any); ok {
		if _, ok := md["managedFields"]; ok {
			c := make(map[string]any, len(md))
			for k, v := range md {
				if k != "managedFields" {
					c[k] = v
				}
			}
			o2 := make(Object, len(o))
			for k, v := range o {
				o2[k] = v
			}
			o2["metadata"] = c
			o = o2
		}
	}
	j, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}

// Meta is what dnslint reads of an object's metadata.
type Meta struct {
	Namespace, Name string
	Owners          []Owner // ownerReferences
	Labels          map[string]string
}

// Owner is one owner reference.
type Owner struct {
	Kind, Name string
	Controller bool
}

// MetaOf reads o's metadata.
func MetaOf(o Object) Meta {
	var m Meta
	md, _ := o["metadata"].(map[string]any)
	m.Namespace, _ = md["namespace"].(string)
	m.Name, _ = md["name"].(string)
	if ls, ok := md["labels"].(map[string]any); ok {
		m.Labels = map[string]string{}
		for k, v := range ls {
			m.Labels[k], _ = v.(string)
		}
	}
	refs, _ := md["ownerReferences"].([]any)
	for _, r := range refs {
		rm, _ := r.(map[string]any)
		ow := Owner{}
		ow.Kind, _ = rm["kind"].(string)
		ow.Name, _ = rm["name"].(string)
		ow.Controller, _ = rm["controller"].(bool)
		m.Owners = append(m.Owners, ow)
	}
	return m
}

// Controller returns the owner reference marked controller, if any.
func (m Meta) Controller() (Owner, bool) {
	for _, o := range m.Owners {
		if o.Controller {
			return o, true
		}
	}
	return Owner{}, false
}
