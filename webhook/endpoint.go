package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// Event types an endpoint may subscribe to.
const (
	WebinarStarted    = "webinar.started"
	WebinarEnded      = "webinar.ended"
	RecordingReady    = "recording.ready"
	TranscriptReady   = "transcript.ready"
	ParticipantJoined = "participant.joined" // batched: see Config.JoinWindow
)

// Types lists every event type, in the order the API documents them.
var Types = []string{WebinarStarted, WebinarEnded, RecordingReady, TranscriptReady, ParticipantJoined}

// Formats of a delivery's body: FormatJSON is the signed event envelope; FormatSlack is a
// Slack-compatible incoming-webhook message {"text": ...} (Slack, Mattermost, Rocket.Chat).
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// maxURLLen bounds a registered URL.
const maxURLLen = 2048

// CheckURL says why u cannot be an endpoint, or nil. Only https is accepted: the body carries
// participant names and links. With allowLoopback (tests, local development), http to
// 127.0.0.1, ::1 or localhost is accepted too.
func CheckURL(u string, allowLoopback bool) error {
	if u == "" || len(u) > maxURLLen {
		return fmt.Errorf("url must be 1-%d characters", maxURLLen)
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.Opaque != "" {
		return errors.New("url must be an absolute https URL")
	}
	if p.User != nil {
		return errors.New("url must not carry a user or password: deliveries are authenticated by their signature")
	}
	if p.Fragment != "" {
		return errors.New("url must not have a #fragment")
	}
	switch {
	case p.Scheme == "https":
		return nil
	case p.Scheme == "http" && allowLoopback && isLoopbackName(p.Hostname()):
		return nil
	}
	return errors.New("url must start with https://")
}

func isLoopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckEvents says why events is not a list of known event types, or nil.
func CheckEvents(events []string) error {
	if len(events) == 0 {
		return fmt.Errorf("events must list at least one of %s", strings.Join(Types, ", "))
	}
	for _, e := range events {
		if !known(e) {
			return fmt.Errorf("unknown event %q: events are %s", e, strings.Join(Types, ", "))
		}
	}
	return nil
}

func known(typ string) bool {
	for _, t := range Types {
		if t == typ {
			return true
		}
	}
	return false
}

// CheckFormat says why f is not a body format, or nil.
func CheckFormat(f string) error {
	if f != FormatJSON && f != FormatSlack {
		return fmt.Errorf("format must be %q or %q", FormatJSON, FormatSlack)
	}
	return nil
}

// errForbiddenAddr refuses a connection to an address a webhook must not reach.
var errForbiddenAddr = errors.New("webhook: destination address not allowed")

// guardDial refuses, at connect time (after DNS, so a name re-pointed later cannot slip
// through), addresses that only make sense for attacking the server's own network: loopback,
// link-local (cloud metadata services live at 169.254.169.254), unspecified and multicast.
// Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are reachable only with
// allowPrivate: an admin's self-hosted chat server often lives there, but a host (any
// teacher) must not be able to make the server knock on internal services.
func guardDial(allowLoopback, allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", errForbiddenAddr, address)
		}
		ip := net.ParseIP(host)
		switch {
		case ip == nil:
			return fmt.Errorf("%w: %s", errForbiddenAddr, address)
		case ip.IsLoopback() && allowLoopback:
			return nil
		case ip.IsLoopback(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsUnspecified(), ip.IsMulticast():
			return fmt.Errorf("%w: %s", errForbiddenAddr, ip)
		case ip.IsPrivate() && !allowPrivate:
			return fmt.Errorf("%w: %s is private (only account-wide endpoints may be)", errForbiddenAddr, ip)
		}
		return nil
	}
}
