package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"lectern/translate/internal/httpjson"
)

// parseCompletion reads choices[0].message.content of a chat completion and decodes it as a
// JSON array of exactly want strings. Code fences some models add around JSON are tolerated;
// anything else (commentary, a wrong count, a truncated answer) is an error, so the stage
// falls back rather than showing a wrong line.
func parseCompletion(b []byte, want int) ([]string, error) {
	var r struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding completion: %w", err)
	}
	if len(r.Choices) == 0 {
		return nil, errors.New("completion has no choices")
	}
	c := r.Choices[0]
	if c.FinishReason == "length" {
		return nil, errors.New("completion truncated (finish_reason length)")
	}
	content := strings.TrimSpace(c.Message.Content)
	if strings.HasPrefix(content, "```") {
		content = strings.TrimPrefix(content, "```json")
		content = strings.TrimPrefix(content, "```")
		content = strings.TrimSuffix(strings.TrimSpace(content), "```")
	}
	var lines []string
	if err := json.Unmarshal([]byte(content), &lines); err != nil {
		return nil, fmt.Errorf("model did not answer a JSON array of strings: %w", err)
	}
	if len(lines) != want {
		return nil, fmt.Errorf("model answered %d lines for %d", len(lines), want)
	}
	return lines, nil
}

type apiError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	} `json:"error"`
}

// errorMessage reads {"error": {"message", "type", "code"}}.
func errorMessage(b []byte) string {
	var r apiError
	if json.Unmarshal(b, &r) != nil || r.Error.Message == "" {
		return httpjson.Text(b)
	}
	return r.Error.Message
}

func errorCode(b []byte) string {
	var r apiError
	if json.Unmarshal(b, &r) != nil {
		return ""
	}
	s, _ := r.Error.Code.(string)
	return s
}
