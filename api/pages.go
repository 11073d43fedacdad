package api

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"lectern/web"
)

func (s *Server) pageRoutes() {
	files := http.FileServer(http.FS(web.Static))
	s.echo.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", files)))
	s.echo.GET("/studio/:id", s.page("studio.html"))
	s.echo.GET("/watch/:id", s.page("watch.html"))
	s.echo.GET("/login", staticPage("login.html"))
	s.echo.GET("/account", staticPage("account.html"))
	s.echo.GET("/dashboard", staticPage("dashboard.html"))
	s.echo.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/dashboard") })
}

// staticPage serves a page that needs no webinar; its script asks /api/me who is signed in.
func staticPage(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := fs.ReadFile(web.Static, name)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.HTMLBlob(http.StatusOK, body)
	}
}

// page serves one of the embedded HTML pages for an existing webinar; the page's script
// reads the id from its own URL.
func (s *Server) page(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.Store.Webinar(c.Request().Context(), c.Param("id")); err != nil {
			return err
		}
		body, err := fs.ReadFile(web.Static, name)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.HTMLBlob(http.StatusOK, body)
	}
}
