package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy lets pages load only what the binary itself serves: no third-party
// script, style, font or beacon can see a viewer.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// studioContentSecurityPolicy adds only 'wasm-unsafe-eval' for the studio: its virtual
// background compiles MediaPipe's segmentation WASM, which this server serves itself. No
// eval of JavaScript and no other origin; the other pages run no WASM and keep the policy above.
var studioContentSecurityPolicy = strings.Replace(contentSecurityPolicy,
	"script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", 1)

func studioSecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", studioContentSecurityPolicy)
		return next(c)
	}
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)")
		return next(c)
	}
}

// cors opens WHIP/WHEP to clients on other origins (RFC 9725 §4.1: browsers publishing from
// another page, players embedding the stream). Credentials are bearer tokens, never cookies,
// so a wildcard origin leaks nothing.
func cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Location, Link, ETag, Accept-Patch")
		return next(c)
	}
}

func preflight(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Accept-Post", "application/sdp")
	return c.NoContent(http.StatusNoContent)
}
