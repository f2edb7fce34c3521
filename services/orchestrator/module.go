package orchestrator

import (
	"errors"
	"net/http"

	"github.com/gospresso/gospresso/api"
)

// ModuleName and ModuleVersion are the orchestrator's API module's: its
// routes are /v0/api/…, and /api/… redirects there.
const (
	ModuleName    = "api"
	ModuleVersion = "0.1.0"
)

// Route names, relative to /v0/api/.
const (
	RouteRegister    = "register"
	RouteConfig      = "config"
	RouteStart       = "start"
	RouteManualStart = "manual-start"
)

// ManualStartRequest is the body of POST manual-start.
type ManualStartRequest struct {
	Password string `json:"password"`
}

// Module returns the orchestrator's API module. It needs no api.Backend:
// mount it on a server of its own (NewServer).
func (o *Orchestrator) Module() api.Module { return module{o: o} }

// NewServer returns an api.Server serving only the orchestrator's module,
// with no node behind it (its /healthcheck says "available" until
// Shutdown), the body limit MaxBodySize and the orchestrator's logger;
// opts come after those and may override them.
func (o *Orchestrator) NewServer(opts ...api.Option) (*api.Server, error) {
	base := []api.Option{api.WithBodyLimit(MaxBodySize), api.WithLogger(o.log)}
	return api.New(nil, []api.Module{o.Module()}, append(base, opts...)...)
}

type module struct{ o *Orchestrator }

func (module) Name() string    { return ModuleName }
func (module) Version() string { return ModuleVersion }

func (m module) Register(rt *api.Router, _ api.Backend) error {
	rt.Post(RouteRegister, m.register)
	rt.Get(RouteConfig, func(*api.Request) (any, error) { return m.o.Config(), nil })
	rt.Get(RouteStart, func(*api.Request) (any, error) { return m.o.Status(), nil })
	rt.Post(RouteManualStart, m.manualStart)
	return nil
}

func (m module) register(req *api.Request) (any, error) {
	// The body bound holds whatever server the module is mounted on.
	req.Body = http.MaxBytesReader(nil, req.Body, MaxBodySize)
	var r Registration
	if err := req.DecodeBody(&r); err != nil {
		return nil, err
	}
	rc, err := m.o.Register(r)
	if err != nil {
		return nil, httpError(err)
	}
	return rc, nil
}

func (m module) manualStart(req *api.Request) (any, error) {
	req.Body = http.MaxBytesReader(nil, req.Body, MaxBodySize)
	var body ManualStartRequest
	if err := req.DecodeBody(&body); err != nil {
		return nil, err
	}
	st, err := m.o.ManualStart(body.Password)
	if err != nil {
		return nil, httpError(err)
	}
	return st, nil
}

// httpError gives an orchestrator error the status the package
// documentation names.
func httpError(err error) error {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalidRegistration), errors.Is(err, ErrBadProofOfPossession), errors.Is(err, ErrBadSignature):
		status = http.StatusBadRequest
	case errors.Is(err, ErrManualStartDisabled), errors.Is(err, ErrWrongPassword):
		status = http.StatusForbidden
	case errors.Is(err, ErrConflict), errors.Is(err, ErrFull), errors.Is(err, ErrStarted), errors.Is(err, ErrNoNodes):
		status = http.StatusConflict
	}
	return api.Errorf(status, "%v", err)
}
