package api

import (
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPIDescribesEveryRoute fails when a JSON/media route is added without its
// description in openapi.yaml. Pages and static files are not API.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	doc := string(openAPI)
	param := regexp.MustCompile(`:([a-z]+)`)
	for _, r := range ts.api.echo.Routes() {
		if r.Method == "OPTIONS" || r.Method == "echo_route_not_found" || !(strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/whip/") ||
			strings.HasPrefix(r.Path, "/whep/") || strings.HasPrefix(r.Path, "/auth/") || r.Path == "/healthz" || r.Path == "/metrics") {
			continue
		}
		path := param.ReplaceAllString(r.Path, "{$1}")
		if !strings.Contains(doc, "\n  "+path+":") {
			t.Errorf("%s %s is not in openapi.yaml", r.Method, path)
		}
	}
}
