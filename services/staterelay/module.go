package staterelay

import (
	"errors"
	"net/http"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/lightclient"
)

// ModuleName and ModuleVersion are the relay's API module's: its routes are
// /v0/api/state, and /api/state redirects there.
const (
	ModuleName    = "api"
	ModuleVersion = "0.1.0"
)

// Module returns the relay's API module, reading and writing r. It needs no
// api.Backend: mount it on a server of its own (NewServer), or beside a
// node's modules.
func (r *Relay) Module() api.Module { return module{r: r} }

// NewServer returns an api.Server serving only the relay's module, with no
// node behind it (its /healthcheck says "available" until Shutdown), the
// body limit MaxBodySize and the relay's logger; opts come after those and
// may override them.
func (r *Relay) NewServer(opts ...api.Option) (*api.Server, error) {
	base := []api.Option{api.WithBodyLimit(MaxBodySize), api.WithLogger(r.log)}
	return api.New(nil, []api.Module{r.Module()}, append(base, opts...)...)
}

type module struct{ r *Relay }

func (module) Name() string    { return ModuleName }
func (module) Version() string { return ModuleVersion }

func (m module) Register(rt *api.Router, _ api.Backend) error {
	rt.Post("state", m.post)
	rt.Get("state", m.get)
	return nil
}

func (m module) post(req *api.Request) (any, error) {
	// The body bound holds whatever server the module is mounted on.
	req.Body = http.MaxBytesReader(nil, req.Body, MaxBodySize)
	var st lightclient.SignedState
	if err := req.DecodeBody(&st); err != nil {
		return nil, err
	}
	rc, err := m.r.Submit(st)
	if err != nil {
		return nil, httpError(err)
	}
	return rc, nil
}

func (m module) get(*api.Request) (any, error) {
	c, err := m.r.Latest()
	if err != nil {
		return nil, httpError(err)
	}
	return c, nil
}

// httpError gives a relay error the status the package documentation
// names.
func httpError(err error) error {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrMissing), errors.Is(err, ErrBadSignature):
		status = http.StatusBadRequest
	case errors.Is(err, ErrUnknownKey):
		status = http.StatusForbidden
	case errors.Is(err, ErrEquivocation), errors.Is(err, ErrConflictingState):
		status = http.StatusConflict
	case errors.Is(err, ErrTooOld):
		status = http.StatusGone
	case errors.Is(err, ErrFull):
		status = http.StatusServiceUnavailable
	case errors.Is(err, ErrNoCertifiedState):
		status = http.StatusNotFound
	}
	return api.Errorf(status, "%v", err)
}
