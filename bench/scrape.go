package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// serverStats is what the load generator reads from the server's /metrics.
type serverStats struct {
	ok        bool
	cpu       float64 // process_cpu_seconds_total
	rss       float64 // process_resident_memory_bytes
	heap      float64 // go_memstats_heap_inuse_bytes
	routines  float64 // go_goroutines
	forwarded float64 // lectern_broadcast_forwarded_packets_total
	dropped   float64 // lectern_broadcast_dropped_packets_total
	pliSent   float64 // lectern_broadcast_pli_sent_total
	received  float64 // lectern_broadcast_received_packets_total
}

// scrape fetches and parses the Prometheus text format; unlabelled samples only.
func scrape(ctx context.Context, client *http.Client, url string) (serverStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return serverStats{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return serverStats{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serverStats{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	st := serverStats{}
	targets := map[string]*float64{
		"process_cpu_seconds_total":                 &st.cpu,
		"process_resident_memory_bytes":             &st.rss,
		"go_memstats_heap_inuse_bytes":              &st.heap,
		"go_goroutines":                             &st.routines,
		"lectern_broadcast_forwarded_packets_total": &st.forwarded,
		"lectern_broadcast_dropped_packets_total":   &st.dropped,
		"lectern_broadcast_pli_sent_total":          &st.pliSent,
		"lectern_broadcast_received_packets_total":  &st.received,
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if p, ok := targets[name]; ok {
			if v, err := strconv.ParseFloat(strings.Fields(value)[0], 64); err == nil {
				*p = v
				if name == "process_cpu_seconds_total" {
					st.ok = true
				}
			}
		}
	}
	return st, sc.Err()
}
