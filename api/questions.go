package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

const maxQuestionRunes = 1000

// staff reports whether c sees every asker and every answer: hosts, co-hosts and panelists
// (who answer). Only attendees are kept from anonymous askers and others' private answers.
func (c chatter) staff() bool { return c.Role != models.RoleAttendee }

// questionView is q as who may see it; false when who may not see it at all (a dismissed
// question, for attendees other than its asker).
func questionView(q models.Question, who chatter) (models.Question, bool) {
	if who.staff() || q.AskerID == who.ID {
		return q, true
	}
	if q.Dismissed {
		return models.Question{}, false
	}
	if q.Anonymous {
		q.AskerID, q.Name = "", ""
	}
	if !q.AnswerPublic {
		q.Answered, q.Answer, q.AnsweredBy = false, "", ""
	}
	return q, true
}

// publishQuestion sends each participant q as they may see it (questionView), once: the whole
// of it to the staff and its asker and, where that hides something, the attendees' view to
// the other attendees. Events are upserts keyed by id.
func (s *Server) publishQuestion(typ string, q models.Question) {
	q.Voted = false // per viewer: only in GET .../questions
	pub, ok := questionView(q, chatter{Role: models.RoleAttendee})
	if ok && pub == q {
		s.publish(q.WebinarID, RoomAudience{Everyone: true}, typ, q)
		return
	}
	if ok {
		s.publish(q.WebinarID, RoomAudience{Attendees: true, Except: q.AskerID}, typ, pub)
	}
	s.publish(q.WebinarID, RoomAudience{Staff: true, Participant: q.AskerID}, typ, q)
}

type questionRequest struct {
	Text      string `json:"text"`
	Anonymous bool   `json:"anonymous"`
	Name      string `json:"name"`
}

// checkText validates a question's or answer's text.
func checkText(text string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(text)); n == 0 || n > maxQuestionRunes {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("text must be 1-%d characters", maxQuestionRunes))
	}
	return nil
}

// qaOn refuses when the webinar's Q&A is off.
func (s *Server) qaOn(c echo.Context, id string) error {
	if err := s.policyAllows(c.Request().Context(), "qa"); err != nil {
		return err
	}
	set, err := s.Store.RoomSettings(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !set.QA {
		return echo.NewHTTPError(http.StatusForbidden, "Q&A is off in this webinar")
	}
	return nil
}

// postQuestion is POST /api/webinars/:id/questions {"text", "anonymous"}.
func (s *Server) postQuestion(c echo.Context) error {
	id := c.Param("id")
	who, err := s.speaker(c, id)
	if err != nil {
		return err
	}
	var in questionRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := checkText(in.Text); err != nil {
		return err
	}
	if err := s.qaOn(c, id); err != nil {
		return err
	}
	if ok, wait := s.chatLimit.Take(id + "\x00q\x00" + who.ID); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return echo.NewHTTPError(http.StatusTooManyRequests, "too many questions; wait a moment")
	}
	who = who.named(in.Name)
	q, err := s.Store.AddQuestion(c.Request().Context(), models.Question{WebinarID: id, AskerID: who.ID, Name: who.Name,
		Anonymous: in.Anonymous, Text: strings.TrimSpace(in.Text), At: s.now().UTC().Truncate(time.Millisecond)})
	if err != nil {
		return err
	}
	s.publishQuestion("question", q)
	return c.JSON(http.StatusCreated, map[string]int64{"id": q.ID})
}

// getQuestions is GET /api/webinars/:id/questions: most votes first, then oldest first.
func (s *Server) getQuestions(c echo.Context) error {
	id := c.Param("id")
	who, err := s.chatter(c, id)
	if err != nil {
		return err
	}
	qs, err := s.Store.Questions(c.Request().Context(), id, who.ID)
	if err != nil {
		return err
	}
	out := qs[:0]
	for _, q := range qs {
		if v, ok := questionView(q, who); ok {
			out = append(out, v)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// questionID parses :qid; a malformed one names no question.
func questionID(c echo.Context) (int64, error) {
	qid, err := strconv.ParseInt(c.Param("qid"), 10, 64)
	if err != nil {
		return 0, echo.NewHTTPError(http.StatusNotFound, "no such question")
	}
	return qid, nil
}

func questionError(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such question")
	}
	return err
}

// voteQuestion is POST .../questions/:qid/vote. Voting is idempotent: a participant's second
// vote is 200 with the count unchanged, so a retried click cannot count twice nor fail.
func (s *Server) voteQuestion(c echo.Context) error {
	id := c.Param("id")
	who, err := s.speaker(c, id)
	if err != nil {
		return err
	}
	qid, err := questionID(c)
	if err != nil {
		return err
	}
	if err := s.qaOn(c, id); err != nil {
		return err
	}
	before, err := s.Store.Question(c.Request().Context(), id, qid, who.ID)
	if err != nil {
		return questionError(err)
	}
	if _, ok := questionView(before, who); !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such question")
	}
	q, err := s.Store.Vote(c.Request().Context(), id, qid, who.ID)
	if err != nil {
		return questionError(err)
	}
	if !before.Voted {
		s.publishQuestion("question.updated", q)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": q.ID, "votes": q.Votes, "voted": true})
}

type answerRequest struct {
	Text   string `json:"text"`
	Public bool   `json:"public"`
}

// answerQuestion is POST .../questions/:qid/answer (host, co-host, panelist).
func (s *Server) answerQuestion(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.require(c, id, auth.ActPublish); err != nil {
		return err
	}
	who, err := s.speaker(c, id)
	if err != nil {
		return err
	}
	qid, err := questionID(c)
	if err != nil {
		return err
	}
	var in answerRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := checkText(in.Text); err != nil {
		return err
	}
	q, err := s.Store.AnswerQuestion(c.Request().Context(), id, qid, strings.TrimSpace(in.Text), in.Public, who.Name)
	if err != nil {
		return questionError(err)
	}
	s.publishQuestion("question.updated", q)
	return c.JSON(http.StatusOK, q)
}

// dismissQuestion is POST .../questions/:qid/dismiss (host, co-host): attendees other than
// the asker no longer see it.
func (s *Server) dismissQuestion(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.require(c, id, auth.ActModerate); err != nil {
		return err
	}
	qid, err := questionID(c)
	if err != nil {
		return err
	}
	q, err := s.Store.DismissQuestion(c.Request().Context(), id, qid)
	if err != nil {
		return questionError(err)
	}
	// Attendees drop it by id; the hosts and the asker get the whole question.
	s.publish(id, RoomAudience{Everyone: true}, "question.updated", map[string]any{"id": q.ID, "dismissed": true})
	s.publish(id, RoomAudience{Hosts: true, Participant: q.AskerID}, "question.updated", q)
	return c.JSON(http.StatusOK, q)
}

// exportQuestions is GET /api/webinars/:id/questions.txt|questions.json (host, co-host).
func (s *Server) exportQuestions(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if _, err := s.require(c, id, auth.ActModerate); err != nil {
			return err
		}
		qs, err := s.Store.Questions(c.Request().Context(), id, "")
		if err != nil {
			return err
		}
		if format == "json" {
			return c.JSON(http.StatusOK, qs)
		}
		var b strings.Builder
		for _, q := range qs {
			fmt.Fprintf(&b, "[%s] %s (%d votes", q.At.Format(time.RFC3339), q.Name, q.Votes)
			if q.Anonymous {
				b.WriteString(", anonymous")
			}
			if q.Dismissed {
				b.WriteString(", dismissed")
			}
			fmt.Fprintf(&b, "): %s\n", q.Text)
			if q.Answered {
				vis := "private"
				if q.AnswerPublic {
					vis = "public"
				}
				fmt.Fprintf(&b, "    answer by %s (%s): %s\n", q.AnsweredBy, vis, q.Answer)
			}
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
	}
}
