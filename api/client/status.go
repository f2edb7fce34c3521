package client

import (
	"context"
	"net/http"
	"time"
)

// Health is the answer of /healthcheck: the node's health as the reference
// names it ("available", "unhealthy", "shutting_down", ...) and, per
// module and major version, the HTTP status the module answers with.
type Health struct {
	Status  string                    `json:"status"`
	Modules map[string]map[string]int `json:"modules"`
}

// Healthcheck reads /healthcheck. An unhealthy node answers 503 with the
// same body; that is reported in Health.Status, not as an error.
func (c *Client) Healthcheck(ctx context.Context) (Health, error) {
	var h Health
	err := c.call(ctx, http.MethodGet, "/healthcheck", nil, &h, http.StatusServiceUnavailable)
	return h, err
}

// ModuleHealth reads /v{major}/{module}/healthcheck and returns the health
// status it names; 503 (an unhealthy node) is reported in the status, not
// as an error.
func (c *Client) ModuleHealth(ctx context.Context, module string, major int) (string, error) {
	var h struct {
		Status string `json:"status"`
	}
	err := c.call(ctx, http.MethodGet, path(major, module, "healthcheck"), nil, &h, http.StatusServiceUnavailable)
	return h.Status, err
}

// ModuleVersion is a module's API version and the specification version.
type ModuleVersion struct {
	APIVersion  string `json:"api_version"`
	SpecVersion string `json:"spec_version"`
}

// VersionInfo is the answer of /version: every mounted module's versions
// (one per major mounted) and the node software's version.
type VersionInfo struct {
	Modules      map[string][]ModuleVersion `json:"modules"`
	AppVersion   string                     `json:"app_version"`
	DiscoVersion string                     `json:"disco_version"`
}

// Version reads /version.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	return getValue[VersionInfo](ctx, c, "/version")
}

// ModuleVersion reads /v{major}/{module}/version.
func (c *Client) ModuleVersion(ctx context.Context, module string, major int) (ModuleVersion, error) {
	return getValue[ModuleVersion](ctx, c, path(major, module, "version"))
}

// BlockHeight returns the number of decided blocks (status/block-height):
// the newest block has height BlockHeight-1.
func (c *Client) BlockHeight(ctx context.Context) (uint64, error) {
	return getValue[uint64](ctx, c, path(0, "status", "block-height"))
}

// SuccessRate returns the share of views that decided a block
// (status/success-rate: block height over current view).
func (c *Client) SuccessRate(ctx context.Context) (float64, error) {
	return getValue[float64](ctx, c, path(0, "status", "success-rate"))
}

// TimeSinceLastDecide returns how long ago the node last decided a block
// (status/time-since-last-decide), in whole seconds. Before its first
// decide the node answers 404 (ErrNotFound).
func (c *Client) TimeSinceLastDecide(ctx context.Context) (time.Duration, error) {
	s, err := getValue[uint64](ctx, c, path(0, "status", "time-since-last-decide"))
	if err != nil {
		return 0, err
	}
	return time.Duration(s) * time.Second, nil
}

// Metrics returns the node's Prometheus metrics in the text exposition
// format (status/metrics).
func (c *Client) Metrics(ctx context.Context) (string, error) {
	p := path(0, "status", "metrics")
	r, err := c.send(ctx, http.MethodGet, p, nil, "text/plain")
	if err != nil {
		return "", err
	}
	if r.status < 200 || r.status > 299 {
		return "", newAPIError(http.MethodGet, p, r.status, r.body)
	}
	return string(r.body), nil
}
