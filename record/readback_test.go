package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// parsedWebM is what a test learns from reading a recording back.
type parsedWebM struct {
	codecs   []string
	blocks   map[uint64]int   // SimpleBlocks per track
	lastMs   map[uint64]int64 // last block time per track
	clusters int
	duration float64 // Segment Info Duration, ms (0 if unset)
}

// readWebM parses a recording with ebml-go. truncated allows the file to end
// mid-element (a killed recorder); everything before that must parse.
func readWebM(t testing.TB, path string, truncated bool) parsedWebM {
	t.Helper()
	return readDoc(t, path, truncated, "webm")
}

// readDoc is readWebM for a file of the EBML doc type docType (webm, matroska).
func readDoc(t testing.TB, path string, truncated bool, docType string) parsedWebM {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	err = ebml.Unmarshal(bytes.NewReader(b), &doc)
	if err != nil && !(truncated && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF))) {
		t.Fatalf("parse %s: %v", path, err)
	}
	if doc.Header.DocType != docType {
		t.Fatalf("doc type %q, want %s", doc.Header.DocType, docType)
	}
	p := parsedWebM{blocks: map[uint64]int{}, lastMs: map[uint64]int64{}, duration: doc.Segment.Info.Duration}
	for _, te := range doc.Segment.Tracks.TrackEntry {
		p.codecs = append(p.codecs, te.CodecID)
	}
	for _, c := range doc.Segment.Cluster {
		p.clusters++
		for _, blk := range c.SimpleBlock {
			p.blocks[blk.TrackNumber]++
			p.lastMs[blk.TrackNumber] = int64(c.Timecode) + int64(blk.Timecode)
		}
	}
	return p
}

// probe runs ffprobe on path and returns the codec names of its streams, the
// packets it read of each and the duration it reports (seconds; -1 if none).
func probe(t testing.TB, path string) (codecs []string, packets []int, duration float64) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatal("ffprobe is needed (Debian package ffmpeg)")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", "-count_packets", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var res struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Packets   string `json:"nb_read_packets"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output: %v", err)
	}
	for _, s := range res.Streams {
		n, _ := strconv.Atoi(s.Packets)
		codecs, packets = append(codecs, s.CodecName), append(packets, n)
	}
	duration = -1
	if d, err := strconv.ParseFloat(res.Format.Duration, 64); err == nil {
		duration = d
	}
	return codecs, packets, duration
}
