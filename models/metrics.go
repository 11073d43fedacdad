package models

import "github.com/prometheus/client_golang/prometheus"

// storeCollector exports the store's health and pool use, read at scrape time.
type storeCollector struct {
	s                             *Store
	writeErrors, busy, degraded   *prometheus.Desc
	openConns, inUse, waitSeconds *prometheus.Desc
}

// Collector returns the store's metrics for a Prometheus registry.
func (s *Store) Collector() prometheus.Collector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &storeCollector{s: s,
		writeErrors: d("lectern_store_write_errors_total", "Writes the storage refused (disk full, I/O error, read-only file)."),
		busy:        d("lectern_store_busy_total", "Statements shed because no database connection or lock was free in time (answered 503)."),
		degraded:    d("lectern_store_degraded", "1 while the last write to the database failed on storage, else 0."),
		openConns:   d("lectern_store_connections", "Open database connections (bounded by models.MaxConns)."),
		inUse:       d("lectern_store_connections_in_use", "Database connections running a statement."),
		waitSeconds: d("lectern_store_connection_wait_seconds_total", "Time statements spent waiting for a free connection."),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.writeErrors, c.busy, c.degraded, c.openConns, c.inUse, c.waitSeconds} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.s.Health()
	st := c.s.db.db.Stats()
	degraded := 0.0
	if !h.OK {
		degraded = 1
	}
	ch <- prometheus.MustNewConstMetric(c.writeErrors, prometheus.CounterValue, float64(h.WriteErrors))
	ch <- prometheus.MustNewConstMetric(c.busy, prometheus.CounterValue, float64(h.Busy))
	ch <- prometheus.MustNewConstMetric(c.degraded, prometheus.GaugeValue, degraded)
	ch <- prometheus.MustNewConstMetric(c.openConns, prometheus.GaugeValue, float64(st.OpenConnections))
	ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(st.InUse))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, st.WaitDuration.Seconds())
}
