package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"testing"
	"time"

	"tsgate/internal/testenv"

	"github.com/jackc/pgx/v5"
)

// tokenVolatile blanks what changes from run to run in token API bodies:
// timestamps and secrets.
var tokenVolatile = regexp.MustCompile(`"(created_at|last_used_at|token|new_token)":"[^"]*"`)

func normalizeTokens(s string) string { return tokenVolatile.ReplaceAllString(normalize(s), `"$1":X`) }

// TestArcTokenAPI replays the token API as arcli (internal/client/auth.go)
// and the Python client (auth/manager.py) call it, in order; expected
// bodies are Arc's (internal/api/auth_routes.go, internal/auth/auth.go
// TokenInfo): fiber.Map bodies with sorted keys, TokenInfo in struct
// order with a numeric id, expires_at null when unset.
func TestArcTokenAPI(t *testing.T) {
	ts := startGateway(t, nil)
	bearer := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Accept": "application/json", "Content-Type": "application/json"}
	}
	admin := bearer(adminToken)
	var secrets = map[string]string{}
	type step struct {
		name   string
		req    req
		status int
		body   string
		// keep names the secret a 2xx answer carries ("token" or
		// "new_token") to use in later steps.
		keep string
	}
	steps := []step{
		{"verify (arcli ping, python auth.verify)", req{method: "GET", path: "/api/v1/auth/verify", header: map[string]string{"Authorization": "Bearer " + adminToken, "Accept": "application/json"}}, 200,
			`{"permissions":["read","write","delete","admin"],"token_info":{"id":1,"name":"admin","description":"Initial admin token (set via TSGATE_AUTH_BOOTSTRAP_TOKEN)","permissions":["read","write","delete","admin"],"created_at":X,"enabled":true,"expires_at":null},"valid":true}`, ""},
		{"verify without token", req{method: "GET", path: "/api/v1/auth/verify", header: map[string]string{"Authorization": ""}}, 401,
			`{"error":"No token provided","valid":false}`, ""},
		{"verify bad token", req{method: "GET", path: "/api/v1/auth/verify", header: bearer("not-a-token-0123456789")}, 401,
			`{"error":"Invalid or expired token","valid":false}`, ""},
		{"verify by x-api-key", req{method: "GET", path: "/api/v1/auth/verify", header: map[string]string{"Authorization": "", "x-api-key": adminToken}}, 200,
			`{"permissions":["read","write","delete","admin"],"token_info":{"id":1,"name":"admin","description":"Initial admin token (set via TSGATE_AUTH_BOOTSTRAP_TOKEN)","permissions":["read","write","delete","admin"],"created_at":X,"enabled":true,"expires_at":null},"valid":true}`, ""},
		{"create (python: keys only when given)", req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"name": "grafana", "description": "dashboards", "permissions": ["read"]}`)}, 201,
			`{"message":"Token created successfully. Store this token securely - it cannot be retrieved again.","success":true,"token":X}`, "grafana"},
		{"create default permissions", req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"name":"ingest"}`)}, 201,
			`{"message":"Token created successfully. Store this token securely - it cannot be retrieved again.","success":true,"token":X}`, "ingest"},
		{"create duplicate name", req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"name":"grafana"}`)}, 500,
			`{"error":"token with name 'grafana' already exists","success":false}`, ""},
		{"create bad permission", req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"name":"x","permissions":["read","root"]}`)}, 400,
			`{"error":"Invalid permission: root. Valid permissions are: read, write, delete, admin","success":false}`, ""},
		{"create bad expiry", req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"name":"x","expires_in":"soon"}`)}, 400,
			`{"error":"Invalid expires_in format. Use duration like '24h' or '7d'","success":false}`, ""},
		{"create without name", req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"description":"x"}`)}, 400,
			`{"error":"Token name is required","success":false}`, ""},
		{"create bad body", req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"name":`)}, 400,
			`{"error":"Invalid request body: unexpected end of JSON input","success":false}`, ""},
		{"list", req{method: "GET", path: "/api/v1/auth/tokens", header: admin}, 200,
			`{"count":3,"success":true,"tokens":[` +
				`{"id":1,"name":"admin","description":"Initial admin token (set via TSGATE_AUTH_BOOTSTRAP_TOKEN)","permissions":["read","write","delete","admin"],"created_at":X,"last_used_at":X,"enabled":true,"expires_at":null},` +
				`{"id":2,"name":"grafana","description":"dashboards","permissions":["read"],"created_at":X,"enabled":true,"expires_at":null},` +
				`{"id":3,"name":"ingest","permissions":["read","write"],"created_at":X,"enabled":true,"expires_at":null}]}`, ""},
		{"get", req{method: "GET", path: "/api/v1/auth/tokens/2", header: admin}, 200,
			`{"success":true,"token":{"id":2,"name":"grafana","description":"dashboards","permissions":["read"],"created_at":X,"enabled":true,"expires_at":null}}`, ""},
		{"get missing", req{method: "GET", path: "/api/v1/auth/tokens/99", header: admin}, 404, `{"error":"Token not found","success":false}`, ""},
		{"get bad id", req{method: "GET", path: "/api/v1/auth/tokens/abc", header: admin}, 400, `{"error":"Invalid token ID","success":false}`, ""},
		{"permissions", req{method: "GET", path: "/api/v1/auth/tokens/2/permissions", header: admin}, 200,
			`{"permissions":[{"database":"*","permissions":["read"],"source":"token"}],"rbac_enabled":false,"success":true}`, ""},
		{"update (python: only given fields)", req{method: "PATCH", path: "/api/v1/auth/tokens/2", header: admin, body: []byte(`{"permissions": ["read", "write"]}`)}, 200,
			`{"message":"Token updated successfully","success":true}`, ""},
		{"update kept the rest", req{method: "GET", path: "/api/v1/auth/tokens/2", header: admin}, 200,
			`{"success":true,"token":{"id":2,"name":"grafana","description":"dashboards","permissions":["read","write"],"created_at":X,"enabled":true,"expires_at":null}}`, ""},
		{"update missing", req{method: "PATCH", path: "/api/v1/auth/tokens/99", header: admin, body: []byte(`{"name":"z"}`)}, 404, `{"error":"Token not found","success":false}`, ""},
		{"update bad permission", req{method: "PATCH", path: "/api/v1/auth/tokens/2", header: admin, body: []byte(`{"permissions":["all"]}`)}, 400,
			`{"error":"Invalid permission: all. Valid permissions are: read, write, delete, admin","success":false}`, ""},
		{"rotate", req{path: "/api/v1/auth/tokens/2/rotate", header: admin}, 200,
			`{"message":"Token rotated successfully. Store this new token securely - it cannot be retrieved again.","new_token":X,"success":true}`, "grafana-rotated"},
		{"delete", req{method: "DELETE", path: "/api/v1/auth/tokens/3", header: admin}, 200, `{"message":"Token deleted successfully","success":true}`, ""},
		{"deleted is gone", req{method: "GET", path: "/api/v1/auth/tokens/3", header: admin}, 404, `{"error":"Token not found","success":false}`, ""},
		{"delete missing", req{method: "DELETE", path: "/api/v1/auth/tokens/3", header: admin}, 404, `{"error":"Token not found","success":false}`, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			body := stepCheck{norm: normalizeTokens}.check(t, ts, contractStep{st.name, st.req, st.status, st.body})
			if st.keep != "" {
				var m map[string]any
				json.Unmarshal([]byte(body), &m)
				for _, k := range []string{"token", "new_token"} {
					if s, ok := m[k].(string); ok {
						secrets[st.keep] = s
					}
				}
			}
		})
	}
	// The tokens the API made authenticate with their permissions; a
	// rotated token's old secret does not.
	query := func(tok string) int {
		status, _, _ := ts.do(t, req{path: "/api/v1/query", header: map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, body: testenv.ArcQuery("SELECT 1")})
		return status
	}
	if got := query(secrets["grafana"]); got != 401 {
		t.Errorf("old secret after rotation: %d", got)
	}
	if got := query(secrets["grafana-rotated"]); got != 200 {
		t.Errorf("rotated secret: %d", got)
	}
	if status, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/auth/tokens", header: bearer(secrets["grafana-rotated"])}); status != 403 || body != `{"error":"Permission denied: admin required","success":false}` {
		t.Errorf("non-admin on the token API: %d %s", status, body)
	}
	// pg wire logs in with the rotated secret (SCRAM-SHA-256, a verifier
	// derived from the new secret), and not with the old one.
	host, port, _ := net.SplitHostPort(ts.gateway.Addr("pgwire").String())
	pgURL := func(tok string) string {
		return fmt.Sprintf("postgres://grafana:%s@%s:%s/default?sslmode=disable", tok, host, port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgURL(secrets["grafana-rotated"]))
	if err != nil {
		t.Fatalf("pg wire with the rotated secret: %v", err)
	}
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("pg wire query: %v", err)
	}
	if c2, err := pgx.Connect(ctx, pgURL(secrets["grafana"])); err == nil {
		c2.Close(ctx)
		t.Error("pg wire accepted the secret the rotation replaced")
	}
	// Revocation keeps the token, disabled, and stops it at once on
	// every front end (the open pg wire session included).
	if status, body, _ := ts.do(t, req{path: "/api/v1/auth/tokens/2/revoke", header: admin}); status != 200 || body != `{"message":"Token revoked successfully","success":true}` {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if got := query(secrets["grafana-rotated"]); got != 401 {
		t.Errorf("revoked token: %d", got)
	}
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err == nil {
		t.Error("an open pg wire session of a revoked token still runs queries")
	}
	c.Close(ctx)
	status, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/auth/tokens/2", header: admin})
	want := `{"success":true,"token":{"id":2,"name":"grafana","description":"dashboards","permissions":["read","write"],"created_at":X,"last_used_at":X,"enabled":false,"expires_at":null}}`
	if status != 200 || normalizeTokens(body) != want {
		t.Errorf("revoked token: %d\n%s\nwant\n%s", status, normalizeTokens(body), want)
	}
	// The API and `tsgate token` manage one store: a token the CLI's
	// store makes is listed and works at once.
	_, sec, tok := cliToken(t, ts.gateway, "from-cli")
	if tok.Seq != 4 {
		t.Errorf("CLI token number %d, want 4 (3 was deleted and is not reused)", tok.Seq)
	}
	if got := query(sec); got != 200 {
		t.Errorf("CLI token on the API: %d", got)
	}
	status, body, _ = ts.do(t, req{method: "GET", path: "/api/v1/auth/tokens/4", header: admin})
	if want := `{"success":true,"token":{"id":4,"name":"from-cli","permissions":["read"],"created_at":X,"last_used_at":X,"enabled":true,"expires_at":null}}`; status != 200 || normalizeTokens(body) != want {
		t.Errorf("CLI token in the API: %d %s", status, body)
	}
}

// TestArcTokenExpiry: expires_in in both of Arc's forms; an expired token
// is refused everywhere.
func TestArcTokenExpiry(t *testing.T) {
	ts := startGateway(t, nil)
	admin := map[string]string{"Content-Type": "application/json"}
	secrets := map[string]string{}
	for _, c := range []struct{ in, name string }{{"7d", "week"}, {"1ms", "brief"}} {
		status, body, _ := ts.do(t, req{path: "/api/v1/auth/tokens", header: admin, body: []byte(`{"name":"` + c.name + `","expires_in":"` + c.in + `"}`)})
		if status != 201 {
			t.Fatalf("%s: %d %s", c.in, status, body)
		}
		var m struct{ Token string }
		json.Unmarshal([]byte(body), &m)
		secrets[c.name] = m.Token
	}
	time.Sleep(5 * time.Millisecond)
	for name, want := range map[string]int{"week": 200, "brief": 401} {
		status, body, _ := ts.do(t, req{path: "/api/v1/query", header: map[string]string{"Authorization": "Bearer " + secrets[name], "Content-Type": "application/json"}, body: testenv.ArcQuery("SELECT 1")})
		if status != want {
			t.Errorf("%s token: %d %s", name, status, body)
		}
	}
	_, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/auth/tokens/2", header: admin})
	var got struct {
		Token struct {
			ExpiresAt *time.Time `json:"expires_at"`
		} `json:"token"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Token.ExpiresAt == nil {
		t.Fatalf("%s: %v", body, err)
	}
	if d := time.Until(*got.Token.ExpiresAt); d < 6*24*time.Hour || d > 7*24*time.Hour {
		t.Errorf("7d expiry is %v away", d)
	}
}
