package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/pion/opus/pkg/oggreader"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// AudioPublisher is a WHIP presenter that sends an Ogg/Opus file in real time, packet by
// packet, as a browser's microphone would.
type AudioPublisher struct {
	pc       *webrtc.PeerConnection
	client   *http.Client
	location string
	key      string
	packets  [][]byte
	track    *webrtc.TrackLocalStaticSample
	// Started is when the first packet was sent: audio time 0 of the captions' timeline.
	Started time.Time
}

// PublishOgg connects a presenter to {url}/whip/{room}; Send then streams the file.
func PublishOgg(ctx context.Context, url, room, key, oggPath string) (*AudioPublisher, error) {
	packets, err := readOggPackets(oggPath)
	if err != nil {
		return nil, err
	}
	api, pcConf, err := newAPI(isLoopback(url))
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(pcConf)
	if err != nil {
		return nil, err
	}
	p := &AudioPublisher{pc: pc, client: &http.Client{Timeout: 30 * time.Second}, key: key, packets: packets}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "lectern-bench")
	if err != nil {
		pc.Close()
		return nil, err
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		pc.Close()
		return nil, err
	}
	connected := onConnected(pc)
	offer, err := gatheredOffer(ctx, pc)
	if err != nil {
		pc.Close()
		return nil, err
	}
	answer, loc, err := postOffer(ctx, p.client, url+"/whip/"+room, key, offer)
	if err != nil {
		pc.Close()
		return nil, err
	}
	p.location = loc
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		p.Close(ctx)
		return nil, err
	}
	if err := waitConnected(ctx, pc, connected); err != nil {
		p.Close(ctx)
		return nil, err
	}
	p.track = track
	return p, nil
}

// Duration is the length of the file being sent.
func (p *AudioPublisher) Duration() time.Duration {
	return time.Duration(len(p.packets)) * 20 * time.Millisecond
}

// Send streams every packet on a 20 ms schedule measured from the first one (so scheduling
// hiccups do not accumulate) and returns when the file has been sent or ctx ends.
func (p *AudioPublisher) Send(ctx context.Context) error {
	p.Started = time.Now()
	for i, pkt := range p.packets {
		if d := time.Until(p.Started.Add(time.Duration(i) * 20 * time.Millisecond)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := p.track.WriteSample(media.Sample{Data: pkt, Duration: 20 * time.Millisecond}); err != nil {
			return err
		}
	}
	return nil
}

// Close ends the WHIP session and the peer connection.
func (p *AudioPublisher) Close(ctx context.Context) {
	if p.location != "" {
		hangUp(ctx, p.client, p.location, p.key)
	}
	p.pc.Close()
}

// readOggPackets returns the Opus packets of an Ogg/Opus file, without its headers.
func readOggPackets(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out [][]byte
	for {
		pkt, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if bytes.HasPrefix(pkt, []byte("OpusHead")) || bytes.HasPrefix(pkt, []byte("OpusTags")) {
			continue
		}
		out = append(out, append([]byte(nil), pkt...))
	}
}
