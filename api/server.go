package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Module is one API module: routes mounted at /v{major}/{name}/, where
// major is the first number of Version. The same name may be mounted at
// several majors (availability serves v0 and v1) by distinct modules.
type Module interface {
	// Name is the path segment the module is mounted under.
	Name() string
	// Version is the module's API version, "major.minor.patch".
	Version() string
	// Register adds the module's routes, which read what they serve from b.
	Register(r *Router, b Backend) error
}

// SpecVersion is the version of the API specification every module
// reports beside its own API version.
const SpecVersion = "0.1.0"

// Defaults of the server options.
const (
	// DefaultMaxConnections is the default bound on open connections.
	DefaultMaxConnections = 1024
	// DefaultBodyLimit bounds a request body: a 1 MB block's worth of
	// transactions in base64, with room for JSON.
	DefaultBodyLimit = 2 << 20
	// DefaultReadTimeout bounds reading a request, headers and body.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds writing a response (streams excepted).
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout closes keep-alive connections idle this long.
	DefaultIdleTimeout = 2 * time.Minute
)

// Option configures New.
type Option func(*settings) error

type settings struct {
	maxConns     int
	bodyLimit    int64
	readTimeout  time.Duration
	writeTimeout time.Duration
	log          *slog.Logger
	appVersion   string
}

// WithMaxConnections bounds the connections the server keeps open; a
// connection beyond the bound is answered 429 and closed at once, never
// queued. Default DefaultMaxConnections.
func WithMaxConnections(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: max connections %d, want at least 1", ErrInvalidOption, n)
		}
		s.maxConns = n
		return nil
	}
}

// WithBodyLimit bounds request bodies; a larger one is answered 413.
// Default DefaultBodyLimit.
func WithBodyLimit(n int64) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: body limit %d bytes, want at least 1", ErrInvalidOption, n)
		}
		s.bodyLimit = n
		return nil
	}
}

// WithTimeouts sets how long reading a request and writing a response may
// take. Defaults DefaultReadTimeout and DefaultWriteTimeout.
func WithTimeouts(read, write time.Duration) Option {
	return func(s *settings) error {
		if read <= 0 || write <= 0 {
			return fmt.Errorf("%w: timeouts %v and %v, want both > 0", ErrInvalidOption, read, write)
		}
		s.readTimeout, s.writeTimeout = read, write
		return nil
	}
}

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		s.log = l
		return nil
	}
}

// WithAppVersion sets the app_version /version reports. Default "".
func WithAppVersion(v string) Option {
	return func(s *settings) error { s.appVersion = v; return nil }
}

// mounted is a module registered at one major version.
type mounted struct {
	module Module
	major  int
	routes []*route
}

// Server serves API modules over HTTP. Create it with New, serve it with
// Serve (or use it as an http.Handler), and stop it with Shutdown.
type Server struct {
	backend Backend
	set     settings
	mounted []*mounted
	latest  map[string]int // module name -> highest major
	index   *template.Template

	mu       sync.Mutex
	srv      *http.Server
	stopping atomic.Bool
	// base is the context of every request; Shutdown cancels it once
	// plain requests have finished, which ends the streams, and then waits
	// for them (http.Server does not track hijacked connections).
	base    context.Context
	cancel  context.CancelFunc
	streams sync.WaitGroup
}

// New registers the modules' routes on a new server reading from b. b may
// be nil for a server with no node behind it, whose modules read no Backend
// (such as the state relay's): its health is then "available" until
// Shutdown, and its index shows no block height. The node's modules need a
// Backend.
func New(b Backend, modules []Module, opts ...Option) (*Server, error) {
	base, cancel := context.WithCancel(context.Background())
	s := &Server{backend: b, latest: make(map[string]int), base: base, cancel: cancel, set: settings{
		maxConns: DefaultMaxConnections, bodyLimit: DefaultBodyLimit,
		readTimeout: DefaultReadTimeout, writeTimeout: DefaultWriteTimeout,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
	for _, o := range opts {
		if err := o(&s.set); err != nil {
			return nil, err
		}
	}
	seen := make(map[string]bool)
	for _, m := range modules {
		if m == nil {
			return nil, fmt.Errorf("%w: nil module", ErrInvalidOption)
		}
		name := m.Name()
		if name == "" || strings.ContainsAny(name, "/ ") || name == "healthcheck" || name == "version" {
			return nil, fmt.Errorf("%w: module name %q", ErrInvalidOption, name)
		}
		major, err := majorOf(m.Version())
		if err != nil {
			return nil, fmt.Errorf("%w: module %s: %v", ErrInvalidOption, name, err)
		}
		key := name + "/" + strconv.Itoa(major)
		if seen[key] {
			return nil, fmt.Errorf("%w: module %s v%d mounted twice", ErrInvalidOption, name, major)
		}
		seen[key] = true
		r := &Router{module: name, major: major, log: s.set.log, streams: &s.streams}
		if err := m.Register(r, b); err != nil {
			return nil, fmt.Errorf("api: module %s: %w", name, err)
		}
		slices.SortStableFunc(r.routes, func(a, b *route) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		s.mounted = append(s.mounted, &mounted{module: m, major: major, routes: r.routes})
		if cur, ok := s.latest[name]; !ok || major > cur {
			s.latest[name] = major
		}
	}
	s.index = template.Must(template.New("index").Parse(indexHTML))
	return s, nil
}

func majorOf(v string) (int, error) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return 0, fmt.Errorf("version %q, want major.minor.patch", v)
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return 0, fmt.Errorf("version %q, want major.minor.patch", v)
		}
	}
	major, _ := strconv.Atoi(parts[0])
	return major, nil
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A handler bug answers 500 rather than killing the connection
		// silently; the stack goes to the log.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.set.log.Error("api: handler panicked", "path", r.URL.Path, "panic", p)
			writeJSON(w, http.StatusInternalServerError, Errorf(http.StatusInternalServerError, "internal error"))
		}
	}()
	path := r.URL.Path
	switch path {
	case "/", "":
		s.serveIndex(w, r)
		return
	case "/healthcheck", "/version":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeJSON(w, http.StatusMethodNotAllowed, Errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", r.Method, path))
		} else if path == "/healthcheck" {
			s.serveHealth(w, r)
		} else {
			s.serveVersion(w, r)
		}
		return
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	major, versioned := parseMajor(segs[0])
	if !versioned {
		// /status/block-height → /v0/status/block-height (307).
		if latest, ok := s.latest[segs[0]]; ok {
			u := *r.URL
			u.Path = "/v" + strconv.Itoa(latest) + path
			u.RawPath, u.ForceQuery = "", false
			http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
			return
		}
		writeJSON(w, http.StatusNotFound, notFound("no module %q (modules: %s)", segs[0], strings.Join(s.moduleNames(), ", ")))
		return
	}
	if len(segs) < 2 {
		writeJSON(w, http.StatusNotFound, notFound("path %q names no module", path))
		return
	}
	m := s.find(segs[1], major)
	if m == nil {
		writeJSON(w, http.StatusNotFound, notFound("no module %q at version %d", segs[1], major))
		return
	}
	rest := segs[2:]
	if len(rest) == 1 && (rest[0] == "healthcheck" || rest[0] == "version") && r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusMethodNotAllowed, Errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", r.Method, path))
		return
	}
	if len(rest) == 1 {
		switch rest[0] {
		case "healthcheck":
			st, code := s.health()
			writeJSON(w, code, map[string]string{"status": st})
			return
		case "version":
			writeJSON(w, http.StatusOK, versionInfo{APIVersion: m.module.Version(), SpecVersion: SpecVersion})
			return
		}
	}
	allowed := false
	for _, rt := range m.routes {
		params, ok := rt.match(rest)
		if !ok {
			continue
		}
		if rt.method != r.Method && (r.Method != http.MethodHead || rt.method != http.MethodGet) {
			allowed = true
			continue
		}
		rt.handle(w, &Request{Request: r, params: params, maxBody: s.set.bodyLimit})
		return
	}
	if allowed {
		writeJSON(w, http.StatusMethodNotAllowed, Errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", r.Method, path))
		return
	}
	writeJSON(w, http.StatusNotFound, notFound("no route %s in module %s v%d (routes are listed at /)", strings.Join(rest, "/"), m.module.Name(), major))
}

func parseMajor(seg string) (int, bool) {
	if len(seg) < 2 || seg[0] != 'v' || (len(seg) > 2 && seg[1] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(seg[1:], 10, 16)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

func (s *Server) find(name string, major int) *mounted {
	for _, m := range s.mounted {
		if m.module.Name() == name && m.major == major {
			return m
		}
	}
	return nil
}

func (s *Server) moduleNames() []string {
	var names []string
	for name := range s.latest {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// health reports the node's health as the reference names it, with the
// HTTP status that goes with it.
func (s *Server) health() (string, int) {
	switch {
	case s.stopping.Load():
		return "shutting_down", http.StatusOK
	case s.backend != nil && s.backend.Status().Halted:
		return "unhealthy", http.StatusServiceUnavailable
	}
	return "available", http.StatusOK
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	st, code := s.health()
	modules := make(map[string]map[string]int)
	for _, m := range s.mounted {
		if modules[m.module.Name()] == nil {
			modules[m.module.Name()] = make(map[string]int)
		}
		modules[m.module.Name()][strconv.Itoa(m.major)] = code
	}
	writeJSON(w, code, map[string]any{"status": st, "modules": modules})
}

type versionInfo struct {
	APIVersion  string `json:"api_version"`
	SpecVersion string `json:"spec_version"`
}

func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	modules := make(map[string][]versionInfo)
	for _, m := range s.mounted {
		modules[m.module.Name()] = append(modules[m.module.Name()], versionInfo{APIVersion: m.module.Version(), SpecVersion: SpecVersion})
	}
	writeJSON(w, http.StatusOK, map[string]any{"modules": modules, "app_version": s.set.appVersion, "disco_version": SpecVersion})
}

const indexHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>gospresso node API</title></head>
<body>
<h1>gospresso node API</h1>
<p>{{if .Node}}Block height: {{.Height}}. {{end}}Health: <a href="/healthcheck">/healthcheck</a>. Versions: <a href="/version">/version</a>.</p>
{{range .Modules}}<h2>{{.Name}} (v{{.Major}}, API {{.Version}})</h2>
<ul>{{range .Routes}}<li><code>{{.}}</code></li>{{end}}</ul>
{{end}}
</body></html>
`

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusMethodNotAllowed, Errorf(http.StatusMethodNotAllowed, "method %s not allowed on /", r.Method))
		return
	}
	type mod struct {
		Name, Version string
		Major         int
		Routes        []string
	}
	var mods []mod
	for _, m := range s.mounted {
		md := mod{Name: m.module.Name(), Version: m.module.Version(), Major: m.major}
		prefix := fmt.Sprintf("/v%d/%s/", m.major, m.module.Name())
		md.Routes = append(md.Routes, "GET "+prefix+"healthcheck", "GET "+prefix+"version")
		for _, rt := range m.routes {
			method := rt.method
			if method == "" {
				method = "GET"
			}
			md.Routes = append(md.Routes, method+" "+prefix+rt.text)
		}
		mods = append(mods, md)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	data := map[string]any{"Modules": mods}
	if s.backend != nil {
		data["Node"], data["Height"] = true, s.backend.BlockHeight()
	}
	_ = s.index.Execute(w, data)
}

// Serve serves the API on ln until Shutdown (which makes it return nil) or
// a listener error. It enforces the connection bound and the timeouts.
func (s *Server) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.set.readTimeout,
		ReadTimeout:       s.set.readTimeout,
		WriteTimeout:      s.set.writeTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.set.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.base },
	}
	s.mu.Lock()
	if s.srv != nil {
		s.mu.Unlock()
		return errors.New("api: server already serving")
	}
	s.srv = srv
	s.mu.Unlock()
	err := srv.Serve(&limitListener{Listener: ln, max: int64(s.set.maxConns)})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, tells streams to end, and waits
// for requests in progress within ctx; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		s.cancel()
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		_ = srv.Close()
	}
	s.cancel()
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = fmt.Errorf("api: streams still closing: %w", ctx.Err())
		}
	}
	return err
}

// limitListener answers connections beyond max with 429 and closes them at
// once, so load beyond the bound is refused, never queued.
type limitListener struct {
	net.Listener
	max    int64
	active atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) > l.max {
			l.active.Add(-1)
			go refuse(c)
			continue
		}
		return &countedConn{Conn: c, l: l}, nil
	}
}

const tooManyBody = `{"status":429,"message":"too many connections: try again later"}` + "\n"

var tooMany = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\n" +
	"Content-Length: " + strconv.Itoa(len(tooManyBody)) + "\r\n\r\n" + tooManyBody

func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = io.WriteString(c, tooMany)
	_ = c.Close()
}

type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.active.Add(-1) })
	return c.Conn.Close()
}
