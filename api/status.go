package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"lectern/models"
	"lectern/translate"
)

// status says what degrades the service right now: which speech engine runs, whether
// each translator is healthy, backed off, and why, and whether the store can write.
func (s *Server) status(c echo.Context) error {
	out := struct {
		Engine      string                       `json:"engine"`
		EngineError string                       `json:"engine_error,omitempty"`
		Captions    captionsStatus               `json:"captions"`
		Translators []translate.TranslatorStatus `json:"translators"`
		Storage     models.StorageHealth         `json:"storage"`
		Node        nodeStatus                   `json:"node"`
		Cluster     *clusterStatus               `json:"cluster,omitempty"` // admins only
	}{Engine: s.EngineName, EngineError: s.EngineError, Captions: s.captionsStatus(),
		Translators: []translate.TranslatorStatus{}, Storage: s.Store.Health(), Node: s.nodeStatus()}
	if st := s.Live.Stage(); st != nil {
		out.Translators = st.Status()
	}
	if cl := callerOf(c); cl.user != nil && cl.user.Admin {
		var err error
		if out.Cluster, err = s.clusterStatus(c.Request().Context()); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

// healthz answers 503 while the node drains, else 200 while the process serves, so load balancers keep routing viewers
// (live video and unsaved captions still work on a full disk); the body says "degraded"
// when the store cannot write, for monitors that read it.
func (s *Server) healthz(c echo.Context) error {
	if s.Draining() { // the load balancer sends new viewers elsewhere; those here stay
		return c.String(http.StatusServiceUnavailable, "draining\n")
	}
	if h := s.Store.Health(); !h.OK {
		return c.String(http.StatusOK, "degraded: storage: "+h.Error+"\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

// captionsStatus is the live captions' readiness (the engine is warmed in the background
// after start-up) and how far behind they run.
type captionsStatus struct {
	Engine     string  `json:"engine"`
	Region     string  `json:"region,omitempty"` // where the engine sends audio ("local": this machine)
	Ready      bool    `json:"ready"`
	Workers    int     `json:"workers"`
	State      string  `json:"state"` // ok, delayed, paused; "off" without an engine
	LagSeconds float64 `json:"lag_seconds"`
	Gaps       int     `json:"gaps_pending"` // skipped utterances waiting to be filled
	Error      string  `json:"error,omitempty"`
}

func (s *Server) captionsStatus() captionsStatus {
	p := s.Live.Pool()
	if p == nil {
		return captionsStatus{Engine: s.EngineName, State: "off", Error: s.EngineError}
	}
	st := p.Status()
	return captionsStatus{Engine: st.Engine, Region: p.Engine().Region(), Ready: st.Ready, Workers: st.Workers, State: st.State,
		LagSeconds: st.Lag.Seconds(), Gaps: st.Gaps, Error: st.Error}
}
