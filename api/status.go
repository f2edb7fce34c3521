package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/text/language"
)

// Identity is what an operator says about a node, exposed as the
// consensus_node_identity_general and consensus_node_identity_location
// metrics (docs/operator.md, "Identity options"). Every field is optional.
type Identity struct {
	NodeName, CompanyName, CompanyWebsite  string
	OperatingSystem, NodeType, NetworkType string
	// CountryCode is an ISO 3166-1 alpha-2 code, such as "US".
	CountryCode string
	// Latitude and Longitude come together or not at all.
	Latitude, Longitude *float64
}

// Validate checks the location fields: a known two-letter country code,
// and latitude and longitude together, in range.
func (id Identity) Validate() error {
	if id.CountryCode != "" {
		r, err := language.ParseRegion(id.CountryCode)
		if err != nil || len(id.CountryCode) != 2 || !r.IsCountry() {
			return fmt.Errorf("%w: country code %q, want an ISO 3166-1 alpha-2 code such as US or DE", ErrInvalidOption, id.CountryCode)
		}
	}
	switch {
	case (id.Latitude == nil) != (id.Longitude == nil):
		return fmt.Errorf("%w: latitude and longitude go together: give both or neither", ErrInvalidOption)
	case id.Latitude != nil && (math.IsNaN(*id.Latitude) || *id.Latitude < -90 || *id.Latitude > 90):
		return fmt.Errorf("%w: latitude %v, want -90 to 90", ErrInvalidOption, *id.Latitude)
	case id.Longitude != nil && (math.IsNaN(*id.Longitude) || *id.Longitude < -180 || *id.Longitude > 180):
		return fmt.Errorf("%w: longitude %v, want -180 to 180", ErrInvalidOption, *id.Longitude)
	}
	return nil
}

type status struct{ id Identity }

// Status returns the status module: block height, success rate, time since
// the last decide, and the node's Prometheus metrics with its identity.
func Status(id Identity) (Module, error) {
	if err := id.Validate(); err != nil {
		return nil, err
	}
	return &status{id: id}, nil
}

func (s *status) Name() string    { return "status" }
func (s *status) Version() string { return "0.1.0" }

func (s *status) Register(r *Router, b Backend) error {
	r.Get("block-height", func(*Request) (any, error) { return b.BlockHeight(), nil })
	r.Get("success-rate", func(*Request) (any, error) {
		v := b.Status().View
		if v == 0 {
			return 0.0, nil
		}
		return float64(b.BlockHeight()) / float64(v), nil
	})
	r.Get("time-since-last-decide", func(*Request) (any, error) {
		last := b.Status().LastDecidedTime
		if last.IsZero() {
			return nil, notFound("the node has not decided a block yet")
		}
		return uint64(max(time.Since(last), 0) / time.Second), nil
	})
	identity, err := s.identityRegistry()
	if err != nil {
		return err
	}
	metrics := promhttp.HandlerFor(prometheus.Gatherers{b.Metrics(), identity}, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	r.Raw(http.MethodGet, "metrics", func(w http.ResponseWriter, req *Request) { metrics.ServeHTTP(w, req.Request) })
	return nil
}

// identityRegistry holds the two identity gauges (value 1, labels the
// operator's words).
func (s *status) identityRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	general := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "consensus", Name: "node_identity_general", Help: "The operator's description of this node."},
		[]string{"name", "company_name", "company_website", "operating_system", "node_type", "network_type"})
	general.WithLabelValues(s.id.NodeName, s.id.CompanyName, s.id.CompanyWebsite, s.id.OperatingSystem, s.id.NodeType, s.id.NetworkType).Set(1)
	location := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "consensus", Name: "node_identity_location", Help: "Where the operator says this node runs."},
		[]string{"country", "latitude", "longitude"})
	lat, lon := "", ""
	if s.id.Latitude != nil {
		lat, lon = strconv.FormatFloat(*s.id.Latitude, 'f', -1, 64), strconv.FormatFloat(*s.id.Longitude, 'f', -1, 64)
	}
	location.WithLabelValues(s.id.CountryCode, lat, lon).Set(1)
	for _, c := range []prometheus.Collector{general, location} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}
