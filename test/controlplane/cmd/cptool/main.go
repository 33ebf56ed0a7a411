// cptool: small helpers the TypeScript harness needs and Node cannot do by itself (issuing
// X.509 certificates). Standard library only.
//
//	cptool init DIR                      CA, serving cert for 127.0.0.1/localhost, service-account
//	                                     key pair and an admin client cert (system:masters) in DIR
//	cptool client-cert DIR CN [GROUP...] prints {"cert": PEM, "key": PEM} for a client cert
//	                                     signed by DIR's CA (CN = user name, O = groups)
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cptool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) >= 2 && args[0] == "init" {
		return initDir(args[1])
	}
	if len(args) >= 3 && args[0] == "client-cert" {
		ca, caKey, err := loadCA(args[1])
		if err != nil {
			return err
		}
		certPEM, keyPEM, err := issue(ca, caKey, args[2], args[3:], nil, x509.ExtKeyUsageClientAuth)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]string{"cert": string(certPEM), "key": string(keyPEM)})
	}
	return errors.New("usage: cptool init DIR | cptool client-cert DIR CN [GROUP...]")
}

var serial int64 = time.Now().UnixNano()

func template(cn string, orgs []string) *x509.Certificate {
	serial++
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
}

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, orgs []string, ips []net.IP, usage x509.ExtKeyUsage) ([]byte, []byte, error) {
	key, keyPEM, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	t := template(cn, orgs)
	t.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	if ips != nil {
		t.IPAddresses = ips
		t.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, t, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

func write(dir string, files map[string][]byte) error {
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func initDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, caKeyPEM, err := newKey()
	if err != nil {
		return err
	}
	t := template("vps-operator-test-ca", nil)
	t.IsCA = true
	t.BasicConstraintsValid = true
	t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	caDER, err := x509.CreateCertificate(rand.Reader, t, t, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	servingCert, servingKey, err := issue(ca, caKey, "kube-apiserver", nil,
		[]net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback, net.ParseIP("10.0.0.1")}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
	}
	adminCert, adminKey, err := issue(ca, caKey, "admin", []string{"system:masters"}, nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return err
	}
	saKey, saKeyPEM, err := newKey()
	if err != nil {
		return err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	return write(dir, map[string][]byte{
		"ca.crt":      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"ca.key":      caKeyPEM,
		"serving.crt": servingCert,
		"serving.key": servingKey,
		"admin.crt":   adminCert,
		"admin.key":   adminKey,
		"sa.key":      saKeyPEM,
		"sa.pub":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER}),
	})
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("bad CA PEM in " + dir)
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("CA key is not ECDSA")
	}
	return ca, key, nil
}
