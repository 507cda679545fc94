package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// selfSigned writes a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestPGWireTLS(t *testing.T) {
	cert, key := selfSigned(t)
	for _, method := range []string{"scram-sha-256", "password"} {
		t.Run(method, func(t *testing.T) {
			s := startPG(t, func(c *Config) {
				c.PGWire.TLSCert, c.PGWire.TLSKey, c.PGWire.AuthMethod = cert, key, method
			})
			url := strings.Replace(s.url("tsdb"), "sslmode=disable", "sslmode=require", 1)
			c := pgConnect(t, url)
			if c.PgConn().Conn().LocalAddr() == nil {
				t.Fatal("no connection")
			}
			var n int
			if err := c.QueryRow(context.Background(), "SELECT count(*) FROM cpu").Scan(&n); err != nil || n != 3 {
				t.Fatalf("over TLS: %v %d", err, n)
			}
			// Without TLS the cleartext method is never offered: SCRAM it is.
			plain := pgConnect(t, s.url("tsdb"))
			if err := plain.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			// A wrong token fails either way.
			if _, err := pgx.Connect(context.Background(), strings.Replace(url, adminToken, "not-the-token-0000000000", 1)); err == nil {
				t.Error("wrong token accepted")
			}
		})
	}
}
