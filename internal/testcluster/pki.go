package testcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// User is a static-token user of the API server.
type User struct {
	Name   string
	Groups []string
}

// The users every cluster has: the admin, one per component, and two that
// tests and the README use.
var builtinUsers = []User{
	{Name: "admin", Groups: []string{"system:masters"}},
	{Name: "system:kube-controller-manager"},
	{Name: "system:kube-scheduler"},
	{Name: "system:kube-proxy"},
	{Name: "system:node:" + NodeName, Groups: []string{"system:nodes"}},
	{Name: "coredns"}, // bound to ClusterRole system:coredns
	{Name: "linter"},  // bound to ClusterRole view
}

// pki writes the cluster's certificates, keys and token file under dir/pki:
// a CA, the API server's serving certificate (for 127.0.0.1, the node IP
// and the kubernetes Service), its client certificate for kubelets, the
// service-account signing key, and a token per user.
func writePKI(dir string, users []User) (tokens map[string]string, err error) {
	p := filepath.Join(dir, "pki")
	if err := os.MkdirAll(p, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "k8slint-testcluster-ca"},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	if err := writeCert(p, "ca", caDER, caKey); err != nil {
		return nil, err
	}
	leaf := func(name string, serial int64, subject pkix.Name, usage x509.ExtKeyUsage, dnsNames []string, ips []net.IP) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      subject,
			NotBefore:    now,
			NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     dnsNames,
			IPAddresses:  ips,
		}, ca, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		return writeCert(p, name, der, key)
	}
	if err := leaf("apiserver", 2, pkix.Name{CommonName: "kube-apiserver"}, x509.ExtKeyUsageServerAuth,
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain},
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(APIServiceIP), net.ParseIP(NodeIP)}); err != nil {
		return nil, err
	}
	if err := leaf("apiserver-kubelet-client", 3, pkix.Name{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}}, x509.ExtKeyUsageClientAuth, nil, nil); err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := writeKey(filepath.Join(p, "sa.key"), saKey); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(p, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return nil, err
	}

	tokens = map[string]string{}
	var csv strings.Builder
	for i, u := range users {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		tok := hex.EncodeToString(b)
		tokens[u.Name] = tok
		fmt.Fprintf(&csv, "%s,%s,uid-%d", tok, u.Name, i)
		if len(u.Groups) > 0 {
			fmt.Fprintf(&csv, ",\"%s\"", strings.Join(u.Groups, ","))
		}
		csv.WriteString("\n")
	}
	return tokens, os.WriteFile(filepath.Join(p, "tokens.csv"), []byte(csv.String()), 0o600)
}

func writeCert(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return writeKey(filepath.Join(dir, name+".key"), key)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	b, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b}), 0o600)
}

// kubeconfig is a kubeconfig for user (by token) against server.
func kubeconfig(caFile, server, user, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: k8slint
  cluster:
    certificate-authority: %s
    server: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: k8slint
  context: {cluster: k8slint, user: %q}
current-context: k8slint
`, caFile, server, quoteYAML(user), token, user)
}

func quoteYAML(s string) string { return fmt.Sprintf("%q", s) }
