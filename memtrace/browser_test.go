package memtrace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBrowserCORS runs a page from another origin in headless Chromium:
// it registers agents, writes and lists memories, closes a session (PUT)
// and deletes an agent (DELETE), each with x-api-key and a JSON body, so
// each is preceded by a real CORS preflight the browser must accept.
// Chromium is a large install kept out of the test scripts: without it
// the test is skipped (TestWireParity checks the same headers without a
// browser).
func TestBrowserCORS(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium on PATH (apt-get install chromium)")
	}
	base, _ := startGateway(t, nil)
	page, err := os.ReadFile("testdata/cors.html")
	if err != nil {
		t.Fatal(err)
	}
	html := strings.NewReplacer("{{API}}", base, "{{KEY}}", adminKey).Replace(string(page))
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(html))
	}))
	defer site.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=15000", "--dump-dom", site.URL).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for _, want := range []string{"register agent 201 ", "create memory 201 ", "list 200 ", "session 201 ", "close session (PUT) 200 ",
		"context 200 ", "temp agent 201 ", "delete agent (DELETE) 204", `no key (401 readable) 401 {"error":"missing API key"}`, "done"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page did not get %q:\n%s", want, dom)
		}
	}
}
