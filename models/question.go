package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Question is one Q&A question with its votes and answer. Who may see which field is the
// API's business (anonymous askers, private answers).
type Question struct {
	ID           int64     `json:"id"`
	WebinarID    string    `json:"-"`
	AskerID      string    `json:"asker_id,omitempty"`
	Name         string    `json:"name,omitempty"`
	Anonymous    bool      `json:"anonymous"`
	Text         string    `json:"text"`
	At           time.Time `json:"at"`
	Votes        int       `json:"votes"`
	Voted        bool      `json:"voted"` // by the participant the list was made for
	Answered     bool      `json:"answered"`
	Answer       string    `json:"answer,omitempty"`
	AnswerPublic bool      `json:"answer_public"`
	AnsweredBy   string    `json:"answered_by,omitempty"`
	Dismissed    bool      `json:"dismissed"`
}

// AddQuestion stores q and returns it with its id.
func (s *Store) AddQuestion(ctx context.Context, q Question) (Question, error) {
	err := s.db.QueryRowContext(ctx, `INSERT INTO questions(webinar_id, asker_id, name, anonymous, body, at_ms)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, q.WebinarID, q.AskerID, q.Name, q.Anonymous, q.Text, q.At.UnixMilli()).Scan(&q.ID)
	if err != nil {
		return Question{}, fmt.Errorf("add question: %w", err)
	}
	return q, nil
}

const questionColumns = `q.id, q.asker_id, q.name, q.anonymous, q.body, q.at_ms, q.answer, q.answer_public, q.answered_by, q.dismissed,
	(SELECT count(*) FROM question_votes v WHERE v.question_id = q.id),
	EXISTS (SELECT 1 FROM question_votes v WHERE v.question_id = q.id AND v.voter_id = ?)`

func scanQuestion(r scanner, webinarID string) (Question, error) {
	q := Question{WebinarID: webinarID}
	var at int64
	err := r.Scan(&q.ID, &q.AskerID, &q.Name, &q.Anonymous, &q.Text, &at, &q.Answer, &q.AnswerPublic, &q.AnsweredBy,
		&q.Dismissed, &q.Votes, &q.Voted)
	q.At = time.UnixMilli(at).UTC()
	q.Answered = q.AnsweredBy != ""
	return q, err
}

// Questions returns a webinar's questions, most votes first, then oldest first; Voted is set
// for voter's votes.
func (s *Store) Questions(ctx context.Context, webinarID, voter string) ([]Question, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+questionColumns+` FROM questions q WHERE q.webinar_id = ?
		ORDER BY 11 DESC, q.id`, voter, webinarID)
	if err != nil {
		return nil, fmt.Errorf("questions of %q: %w", webinarID, err)
	}
	defer rows.Close()
	out := []Question{}
	for rows.Next() {
		q, err := scanQuestion(rows, webinarID)
		if err != nil {
			return nil, fmt.Errorf("questions of %q: %w", webinarID, err)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// Question returns one question of a webinar, ErrNotFound when there is none.
func (s *Store) Question(ctx context.Context, webinarID string, id int64, voter string) (Question, error) {
	q, err := scanQuestion(s.db.QueryRowContext(ctx, `SELECT `+questionColumns+` FROM questions q
		WHERE q.webinar_id = ? AND q.id = ?`, voter, webinarID, id), webinarID)
	if errors.Is(err, sql.ErrNoRows) {
		return Question{}, fmt.Errorf("question %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Question{}, fmt.Errorf("question %d: %w", id, err)
	}
	return q, nil
}

// Vote records voter's vote on question id (a second vote changes nothing) and returns the
// question as it now is.
func (s *Store) Vote(ctx context.Context, webinarID string, id int64, voter string) (Question, error) {
	if _, err := s.Question(ctx, webinarID, id, voter); err != nil {
		return Question{}, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO question_votes(question_id, voter_id) VALUES (?, ?)
		ON CONFLICT DO NOTHING`, id, voter); err != nil {
		return Question{}, fmt.Errorf("vote on question %d: %w", id, err)
	}
	return s.Question(ctx, webinarID, id, voter)
}

// AnswerQuestion stores an answer (replacing any earlier one) by participant by.
func (s *Store) AnswerQuestion(ctx context.Context, webinarID string, id int64, text string, public bool, by string) (Question, error) {
	return s.updateQuestion(ctx, webinarID, id, `answer = ?, answer_public = ?, answered_by = ?`, text, public, by)
}

// DismissQuestion marks a question dismissed.
func (s *Store) DismissQuestion(ctx context.Context, webinarID string, id int64) (Question, error) {
	return s.updateQuestion(ctx, webinarID, id, `dismissed = 1`)
}

func (s *Store) updateQuestion(ctx context.Context, webinarID string, id int64, set string, args ...any) (Question, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE questions SET `+set+` WHERE webinar_id = ? AND id = ?`,
		append(args, webinarID, id)...)
	if err != nil {
		return Question{}, fmt.Errorf("update question %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Question{}, fmt.Errorf("question %d: %w", id, ErrNotFound)
	}
	return s.Question(ctx, webinarID, id, "")
}
