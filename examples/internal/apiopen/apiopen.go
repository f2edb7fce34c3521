package apiopen

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/storage/postgres"
)

// Plan is the HTTP API a configuration serves.
type Plan struct {
	// Addr is the API server's listen address, ":<--port>" (every
	// interface); "" without the http module: no HTTP at all.
	Addr string
	// Modules are the API modules served on Addr, in mount order. Empty
	// with an Addr: the server answers /healthcheck and /version only.
	Modules []api.Module
	// ServerOptions configure the API server: the connection bound.
	ServerOptions []api.Option
	// MaxConnections is the connection bound: --max-connections, else
	// api.DefaultMaxConnections.
	MaxConnections int
	// EventsAddr is the hotshot-events server's listen address,
	// ":<--events-service-port>"; "" without the hotshot-events module.
	EventsAddr string
	// EventsModules are the modules served on EventsAddr.
	EventsModules []api.Module
	// Identity is the node identity the status module reports, validated.
	Identity api.Identity
	// Env is the config module's list ("NAME=value", secrets left out,
	// URLs redacted); nil without the config module.
	Env []string
	// StateRelayURL is where the node posts its signed light-client states
	// (--state-relay-server-url, as given: it may hold a password; print
	// it redacted); "" without a state key.
	StateRelayURL string
	// NotServed explains each module on the command line that this build
	// cannot serve.
	NotServed []string

	defaultBound bool
}

// Option configures Build.
type Option func(*settings)

type settings struct {
	env      func(string) (string, bool)
	extra    []string
	noState  bool
	envGiven bool
}

// WithEnv sets the environment lookup the config module's list is read
// from: os.LookupEnv in a binary, a map in tests. Default: an empty
// environment (every variable listed with an empty value).
func WithEnv(env func(string) (string, bool)) Option {
	return func(s *settings) { s.env, s.envGiven = env, env != nil }
}

// WithPublicEnv adds variable names to the config module's list, for a
// program with variables of its own (dev-node's ESPRESSO_DEV_NODE_PORT).
// Names that look secret (options.SecretName) are still left out.
func WithPublicEnv(names ...string) Option {
	return func(s *settings) { s.extra = append(s.extra, names...) }
}

// WithoutStateKey says the node has no state key: it signs no light-client
// state, so neither state-signature nor the state relay is planned.
func WithoutStateKey() Option {
	return func(s *settings) { s.noState = true }
}

// Build returns the API plan of cfg, which has passed options.Parse and
// Config.Validate (so query has a storage module). A bad identity option
// is an *options.Error naming it, matching options.ErrUsage.
func Build(cfg *options.Config, opts ...Option) (*Plan, error) {
	if cfg == nil {
		return nil, errors.New("apiopen: nil configuration")
	}
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if !s.envGiven {
		s.env = func(string) (string, bool) { return "", false }
	}
	id, err := Identity(&cfg.Global.Identity)
	if err != nil {
		return nil, err
	}
	p := &Plan{Identity: id}
	if !s.noState && cfg.Global.StateRelayServerURL != nil {
		p.StateRelayURL = cfg.Global.StateRelayServerURL.String()
	}
	if cfg.HTTP == nil {
		return p, nil
	}

	p.Addr = ":" + strconv.Itoa(int(cfg.HTTP.Port))
	p.MaxConnections, p.defaultBound = api.DefaultMaxConnections, true
	if n := cfg.HTTP.MaxConnections; n > 0 {
		p.MaxConnections, p.defaultBound = int(min(n, math.MaxInt32)), false
		p.ServerOptions = append(p.ServerOptions, api.WithMaxConnections(p.MaxConnections))
	}

	var errs []error
	add := func(m api.Module, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		p.Modules = append(p.Modules, m)
	}
	ok := func(m api.Module) (api.Module, error) { return m, nil }
	switch {
	case cfg.Query != nil:
		add(api.Status(id))
		var avOpts []api.AvailabilityOption
		if len(cfg.Query.Peers) > 0 {
			peers := make([]string, len(cfg.Query.Peers))
			for i, u := range cfg.Query.Peers {
				peers[i] = u.String()
			}
			avOpts = append(avOpts, api.WithPeers(peers, api.DefaultFetchTimeout))
		}
		add(api.Availability(avOpts...))
		add(api.AvailabilityV1(avOpts...))
		add(ok(api.Node()))
	case cfg.Status != nil:
		// Without query the status module reads the node's metrics only.
		add(api.Status(id))
	}
	if cfg.Submit != nil {
		add(ok(api.Submit()))
	}
	if cfg.Query != nil || cfg.Catchup != nil {
		add(ok(api.Catchup()))
	}
	if cfg.Config != nil {
		p.Env = ConfigEnv(s.env, s.extra...)
		add(api.Config(p.Env))
	}
	if !s.noState {
		add(ok(api.StateSignature()))
	}
	if cfg.Query != nil && cfg.StorageSQL != nil {
		add(api.MerkleState("block-state"))
		add(api.MerkleState("fee-state"))
	}
	if cfg.Explorer != nil {
		p.NotServed = append(p.NotServed, "explorer: not served, this build has no explorer module yet")
	}
	if cfg.HotShotEvents != nil {
		p.EventsAddr = ":" + strconv.Itoa(int(cfg.HotShotEvents.EventsServicePort))
		p.EventsModules = []api.Module{api.Events()}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("apiopen: %w", err)
	}
	return p, nil
}

// Identity converts the identity options into the api.Identity the status
// module reports, checked with api.Identity.Validate's rules. An error is
// an *options.Error naming the option.
func Identity(o *options.Identity) (api.Identity, error) {
	id := api.Identity{
		NodeName: o.NodeName, CompanyName: o.CompanyName, OperatingSystem: o.OperatingSystem,
		NodeType: o.NodeType, NetworkType: o.NetworkType, CountryCode: o.CountryCode,
		Latitude: o.Latitude, Longitude: o.Longitude,
	}
	if o.CompanyWebsite != nil {
		id.CompanyWebsite = o.CompanyWebsite.String()
	}
	if cc := id.CountryCode; cc != "" {
		if (api.Identity{CountryCode: cc}).Validate() != nil {
			return api.Identity{}, usage(options.ErrInvalidValue,
				"--country-code: %q: not an ISO 3166-1 alpha-2 country code (want e.g. US or DE)", cc)
		}
	}
	switch lat, lon := id.Latitude, id.Longitude; {
	case lat != nil && lon == nil:
		return api.Identity{}, usage(options.ErrMissingValue, "--latitude needs --longitude too (give both or neither)")
	case lat == nil && lon != nil:
		return api.Identity{}, usage(options.ErrMissingValue, "--longitude needs --latitude too (give both or neither)")
	case lat != nil:
		zero := 0.0
		if (api.Identity{Latitude: lat, Longitude: &zero}).Validate() != nil {
			return api.Identity{}, usage(options.ErrInvalidValue, "--latitude: %v: out of range (want -90 to 90)", *lat)
		}
		if (api.Identity{Latitude: &zero, Longitude: lon}).Validate() != nil {
			return api.Identity{}, usage(options.ErrInvalidValue, "--longitude: %v: out of range (want -180 to 180)", *lon)
		}
	}
	if err := id.Validate(); err != nil { // rules added to api later
		return api.Identity{}, usage(options.ErrInvalidValue, "identity options: %v", err)
	}
	return id, nil
}

func usage(kind error, format string, args ...any) *options.Error {
	return &options.Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// ConfigEnv returns the config module's list: for every name of
// options.PublicEnvNames and extra, sorted, "NAME=value" with the value
// env gives (empty when unset) passed through RedactValue. Names that look
// secret (options.SecretName) are left out whatever the caller passes.
func ConfigEnv(env func(string) (string, bool), extra ...string) []string {
	names := append(options.PublicEnvNames(), extra...)
	slices.Sort(names)
	names = slices.Compact(names)
	out := make([]string, 0, len(names))
	for _, name := range names {
		if name == "" || options.SecretName(name) {
			continue
		}
		v, _ := env(name)
		out = append(out, name+"="+RedactValue(v))
	}
	return out
}

// redacted replaces what RedactValue hides.
const redacted = "xxxxx"

// RedactValue hides what may be a credential in an environment value. In
// every URL of a comma-separated list it hides the password of the user
// info and of any password parameter (postgres.RedactURI), and the path,
// query and fragment, where RPC providers put API keys
// (https://rpc.example/v2/KEY becomes https://rpc.example/xxxxx): only
// scheme://[user[:xxxxx]@]host[:port] stays. Text without "://" is
// returned unchanged.
func RedactValue(v string) string {
	if !strings.Contains(v, "://") {
		return v
	}
	// Redacting the whole value first covers a password holding a comma.
	parts := strings.Split(postgres.RedactURI(v), ",")
	for i, part := range parts {
		parts[i] = redactURL(part)
	}
	return strings.Join(parts, ",")
}

func redactURL(s string) string {
	t := strings.TrimSpace(s)
	scheme, _, ok := strings.Cut(t, "://")
	if !ok {
		return s
	}
	t = postgres.RedactURI(t)
	u, err := url.Parse(t)
	if err != nil || u.Opaque != "" {
		return scheme + "://" + redacted
	}
	if (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery {
		return t
	}
	keep := url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host}
	return keep.String() + "/" + redacted
}

// Paths names modules by where they are mounted: "/v0/status",
// "/v1/availability".
func Paths(mods []api.Module) []string {
	out := make([]string, 0, len(mods))
	for _, m := range mods {
		major, _, _ := strings.Cut(m.Version(), ".")
		out = append(out, "/v"+major+"/"+m.Name())
	}
	return out
}

// Describe returns the plan as lines for the start-up output, without
// secrets:
//
//	api: :8080 (max connections 1024, the default): /v0/status, /v0/availability, ...
//	api: hotshot-events server :9000: /v0/hotshot-events
//	api: explorer: not served, this build has no explorer module yet
//	state relay: http://localhost:8083 (signed light-client states are posted there)
func (p *Plan) Describe() string {
	var b strings.Builder
	if p.Addr == "" {
		b.WriteString("api: none (no http module: no HTTP server at all)\n")
	} else {
		bound := fmt.Sprintf("max connections %d", p.MaxConnections)
		if p.defaultBound {
			bound += ", the default"
		}
		served := "/healthcheck and /version only"
		if len(p.Modules) > 0 {
			served = strings.Join(Paths(p.Modules), ", ")
		}
		fmt.Fprintf(&b, "api: %s (%s): %s\n", p.Addr, bound, served)
	}
	if p.EventsAddr != "" {
		fmt.Fprintf(&b, "api: hotshot-events server %s: %s\n", p.EventsAddr, strings.Join(Paths(p.EventsModules), ", "))
	}
	for _, n := range p.NotServed {
		fmt.Fprintf(&b, "api: %s\n", n)
	}
	if p.StateRelayURL != "" {
		fmt.Fprintf(&b, "state relay: %s (signed light-client states are posted there)\n", postgres.RedactURI(p.StateRelayURL))
	}
	return b.String()
}
