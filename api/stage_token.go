package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// Per-member publish tokens (issue 10): POST .../publish-token issues them, POST /whip/{id}
// takes them as its bearer (requirePublisher, publisherOf).

// publishTokenRequest is POST .../publish-token's body (optional).
type publishTokenRequest struct {
	Member    string `json:"member"`     // user id; "" for the caller
	ExpiresIn int64  `json:"expires_in"` // seconds; 0 for the default
}

const (
	publishTokenTTL    = 24 * time.Hour
	publishTokenMaxTTL = 30 * 24 * time.Hour
)

type publishTokenAnswer struct {
	Token     string    `json:"token"`
	Member    string    `json:"member"`
	ExpiresAt time.Time `json:"expires_at"`
	WHIPURL   string    `json:"whip_url"`
}

// publishToken is POST .../publish-token: a token a member's encoder (OBS, GStreamer, a
// second machine) publishes with as Authorization: Bearer on POST /whip/{id}, under that
// member's display name and stage slot. A signed-in panelist, co-host or host gets one for
// themselves; a host or co-host gets one for any member who may publish. It is stateless:
// it stops working when it expires, when the member may no longer publish (demoted,
// removed) and when the stream key is rotated.
func (s *Server) publishToken(c echo.Context) error {
	a, err := s.accessTo(c, c.Param("id"))
	if err != nil {
		return err
	}
	if a.cl.user == nil {
		return a.deny(auth.ActPublish)
	}
	var in publishTokenRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c.Request().Header.Get(echo.HeaderContentType), c.Request().Body, &in); err != nil {
			return err
		}
	}
	ttl := time.Duration(in.ExpiresIn) * time.Second
	if in.ExpiresIn < 0 || ttl > publishTokenMaxTTL {
		return echo.NewHTTPError(http.StatusBadRequest, `"expires_in" is seconds, at most 30 days`)
	}
	if ttl == 0 {
		ttl = publishTokenTTL
	}
	if err := s.mayIssuePublishToken(c.Request().Context(), a, &in); err != nil {
		return err
	}
	exp := s.now().Add(ttl)
	tok, err := s.auth.publish.Issue(auth.PublishClaims{Webinar: a.w.ID, Member: in.Member, Expires: exp.Unix()}, a.w.StreamKey)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, publishTokenAnswer{Token: tok, Member: in.Member, ExpiresAt: exp.UTC().Truncate(time.Second), WHIPURL: "/whip/" + a.w.ID})
}

// mayIssuePublishToken: a publisher for themselves, a moderator for any member who may publish.
func (s *Server) mayIssuePublishToken(ctx context.Context, a access, in *publishTokenRequest) error {
	if in.Member == "" || in.Member == a.cl.user.ID {
		in.Member = a.cl.user.ID
		if !a.can(auth.ActPublish) {
			return a.deny(auth.ActPublish)
		}
		return nil
	}
	if !a.can(auth.ActModerate) {
		return echo.NewHTTPError(http.StatusForbidden, "only the host and co-hosts get publish tokens for others")
	}
	role, err := s.Store.MemberRole(ctx, a.w.ID, in.Member)
	if errors.Is(err, models.ErrNotFound) || err == nil && !auth.Can(role, auth.ActPublish) {
		return echo.NewHTTPError(http.StatusBadRequest, "member is not a panelist, co-host or host of this webinar")
	}
	return err
}

// publishTokenMember checks a publish token bearer for webinar w: ok is false when the
// bearer is not one; err refuses a bad, expired or revoked one.
func (s *Server) publishTokenMember(c echo.Context, w models.Webinar) (user string, ok bool, err error) {
	tok := auth.BearerToken(c.Request().Header.Get("Authorization"))
	if !strings.HasPrefix(tok, auth.PublishPrefix) {
		return "", false, nil
	}
	claims, err := s.auth.publish.Verify(tok, w.ID, w.StreamKey)
	if err != nil {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="lectern", error="invalid_token"`)
		return "", true, echo.NewHTTPError(http.StatusUnauthorized, "invalid or expired publish token")
	}
	u, err := s.Store.User(c.Request().Context(), claims.Member)
	if errors.Is(err, models.ErrNotFound) || err == nil && u.Disabled {
		return "", true, echo.NewHTTPError(http.StatusForbidden, "this publish token's account is gone or disabled")
	}
	if err != nil || u.Admin { // an admin is the host of every webinar
		return claims.Member, true, err
	}
	role, err := s.Store.MemberRole(c.Request().Context(), w.ID, claims.Member)
	if errors.Is(err, models.ErrNotFound) || err == nil && !auth.Can(role, auth.ActPublish) {
		return "", true, echo.NewHTTPError(http.StatusForbidden, "this publish token's member may no longer publish in this webinar")
	}
	return claims.Member, true, err
}
