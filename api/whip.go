package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/broadcast"
	"lectern/models"
)

// maxOfferBytes bounds an SDP offer. Real offers with three media sections are 4-8 KiB.
const maxOfferBytes = 64 << 10

// offerHandler answers POST /whip/{id} (RFC 9725) and POST /whep/{id}: an SDP offer in, 201
// with the answer and the session's Location out. Every refusal happens before any peer
// connection exists, so a refused request leaves nothing behind.
func (s *Server) offerHandler(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		w, err := s.Store.Webinar(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		node := kind == "whep" && s.nodeCaller(c, w.ID) // an edge pulling: no participant, no gate
		switch {
		case node:
		case kind == "whip":
			err = s.requirePublisher(c, w)
		default:
			err = s.allowMedia(c, w)
		}
		if errors.Is(err, errJoinFirst) { // a WHEP player can act on it: a participant token as its bearer token
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="lectern"`)
		}
		if err != nil {
			return err
		}
		if !node { // an origin serves its edges whatever its regions or draining say
			if to, err := s.placement(c, kind, w); err != nil || to != "" {
				if err != nil {
					return err
				}
				return redirect(c, to)
			}
		}
		if err := s.refuseEnded(ctx, w.ID); err != nil {
			if kind == "whip" && errors.Is(err, errEnded) { // the presenter can act on it: the host reopens the webinar
				return echo.NewHTTPError(http.StatusConflict, "this webinar was ended for everyone: the host reopens it to go live again")
			}
			return err
		}
		offer, err := readOffer(c.Request())
		if err != nil {
			return err
		}
		var sess broadcast.Session
		if kind == "whip" {
			origin, mine, cerr := s.claimOrigin(ctx, w.ID)
			if cerr != nil {
				s.Logger.Warn("whip: origin claim failed", "webinar", w.ID, "err", cerr)
				return echo.NewHTTPError(http.StatusServiceUnavailable, "the cluster directory is unavailable: try again shortly")
			}
			if !mine {
				return c.JSON(http.StatusConflict, map[string]string{"origin": origin.URL,
					"error": "this webinar is live from another node: publish to its origin"})
			}
			// The room (and its audio tap) exists before the first packet can arrive.
			if _, rerr := s.Live.Room(ctx, w); rerr != nil {
				s.unclaim(w.ID)
				return rerr
			}
			sess, err = s.Broadcast.PublishAs(ctx, w.ID, offer, s.publisherOf(c, w))
			if err != nil {
				s.unclaim(w.ID)
			} else {
				s.published(w.ID)
			}
		} else {
			s.pullIfEdge(ctx, w.ID)
			sess, err = s.Broadcast.Subscribe(ctx, w.ID, offer)
		}
		if errors.Is(err, broadcast.ErrBadOffer) {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		if errors.Is(err, broadcast.ErrStageFull) {
			return echo.NewHTTPError(http.StatusConflict, err.Error())
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", kind, w.ID, err)
		}
		if kind == "whip" {
			s.wentLive(ctx, w.ID)
		}
		s.emitStarted(c, kind, w)
		if pid := s.callerPID(c, w.ID); kind == "whep" && pid != "" {
			s.conns.addSession(w.ID, pid, sess.ID) // for removal; ending the webinar ends every session anyway
			s.forgetWhenDone(w.ID, sess)
		}
		h := c.Response().Header()
		h.Set("Location", "/"+kind+"/"+w.ID+"/"+sess.ID)
		h.Set("ETag", `"`+sess.ID+`"`)
		return c.Blob(http.StatusCreated, "application/sdp", []byte(sess.Answer))
	}
}

// endHandler answers DELETE on a session's Location. Ending a presenter session needs the
// credential that started it (or a host's); a viewer's session id is itself the unguessable
// capability to end it.
func (s *Server) endHandler(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		w, err := s.Store.Webinar(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		if kind == "whip" {
			if err := s.requirePublisher(c, w); err != nil {
				return err
			}
			if err := s.ownsStageSession(c, w, c.Param("session")); err != nil {
				return err
			}
		}
		if kind == "whep" {
			// The viewer left by itself; its session may also have failed before this DELETE.
			s.conns.forgetSession(w.ID, c.Param("session"))
		}
		if err := s.Broadcast.End(w.ID, c.Param("session")); errors.Is(err, broadcast.ErrNoSession) {
			return echo.NewHTTPError(http.StatusNotFound, "no such session")
		} else if err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	}
}

// noTrickle answers PATCH: sessions here are complete at creation (the answer carries every
// candidate), and RFC 9725 §4.3.1 asks a server without trickle ICE or ICE restarts to say 405.
func noTrickle(c echo.Context) error {
	c.Response().Header().Set("Allow", "DELETE, OPTIONS")
	return echo.NewHTTPError(http.StatusMethodNotAllowed, "trickle ICE and ICE restarts are not supported: send a complete offer")
}

// speakerName cleans the presenter's display name sent with WHIP (?speaker=): it goes into
// every caption and transcript, so it is short, printable, single-line text.
func speakerName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80])
	}
	return s
}

// requirePublisher lets in the webinar's stream key (OBS, GStreamer) or a caller whose role may
// publish: a panelist, co-host or host signed in (session or API token), or an admin.
func (s *Server) requirePublisher(c echo.Context, w models.Webinar) error {
	token, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if ok && w.KeyMatches(strings.TrimSpace(token)) {
		return nil
	}
	if _, ok, err := s.publishTokenMember(c, w); ok {
		return err // a per-member publish token (stage_token.go)
	}
	a, err := s.accessToWebinar(c, w)
	if err != nil {
		return err
	}
	if a.role != "" && auth.Can(a.role, auth.ActPublish) {
		return nil
	}
	if a.cl.user != nil {
		return a.deny(auth.ActPublish)
	}
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="lectern"`)
	return echo.NewHTTPError(http.StatusUnauthorized, "missing or wrong stream key")
}

// readOffer checks the content type and size of an SDP body and returns it.
func readOffer(r *http.Request) (string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/sdp" {
		return "", echo.NewHTTPError(http.StatusUnsupportedMediaType, "content type must be application/sdp")
	}
	if r.ContentLength > maxOfferBytes {
		return "", echo.NewHTTPError(http.StatusRequestEntityTooLarge, "offer larger than 64 KiB")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOfferBytes+1))
	if err != nil {
		return "", echo.NewHTTPError(http.StatusBadRequest, "reading offer: "+err.Error())
	}
	if len(body) > maxOfferBytes {
		return "", echo.NewHTTPError(http.StatusRequestEntityTooLarge, "offer larger than 64 KiB")
	}
	return string(body), nil
}
