package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
)

// slackData is what chat messages use of an event's data; the api package fills these fields.
type slackData struct {
	WatchURL      string  `json:"watch_url"`
	TranscriptURL string  `json:"transcript_url"`
	URL           string  `json:"url"`
	DurationS     float64 `json:"duration_s"`
	Count         int     `json:"count"`
	Participants  []struct {
		Name string `json:"name"`
	} `json:"participants"`
}

// slackBody is an incoming-webhook message {"text": ...} for ev of the webinar titled title.
func slackBody(ev Event, title string) []byte {
	b, _ := json.Marshal(map[string]string{"text": slackText(ev, title)})
	return b
}

func slackText(ev Event, title string) string {
	var d slackData
	_ = json.Unmarshal(ev.Data, &d) // a field that does not parse is left out of the message
	name := "“" + slackEscape(title) + "”"
	switch ev.Type {
	case WebinarStarted:
		return "Webinar " + name + " is live." + slackLink(d.WatchURL, "Watch")
	case WebinarEnded:
		return "Webinar " + name + " has ended." + slackLink(d.TranscriptURL, "Transcript")
	case RecordingReady:
		return fmt.Sprintf("A recording of %s is ready (%s).", name, minutes(d.DurationS)) + slackLink(d.URL, "Download")
	case TranscriptReady:
		return "The transcript of " + name + " is ready." + slackLink(d.TranscriptURL, "Transcript")
	case ParticipantJoined:
		return joinedText(name, d)
	}
	return slackEscape(ev.Type) + " in " + name
}

func joinedText(name string, d slackData) string {
	var names []string
	for _, p := range d.Participants {
		if len(names) == 5 {
			break
		}
		names = append(names, slackEscape(p.Name))
	}
	who := strings.Join(names, ", ")
	if more := d.Count - len(names); more > 0 {
		who += fmt.Sprintf(" and %d more", more)
	}
	people := "people"
	if d.Count == 1 {
		people = "person"
	}
	return fmt.Sprintf("%d %s joined %s: %s.", d.Count, people, name, who)
}

func minutes(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%.0f min", s/60)
}

// slackLink is " <url|label>", or "" without a URL. Slack reads <, > and & as markup.
func slackLink(u, label string) string {
	if u == "" {
		return ""
	}
	return " <" + slackEscape(u) + "|" + label + ">"
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }
