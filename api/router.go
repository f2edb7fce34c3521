package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gospresso/gospresso/types"
)

// Handler answers one request: the value it returns is written as JSON
// (status 200); an error is written as an Error (see toError).
type Handler func(r *Request) (any, error)

// Request is an HTTP request with its route parameters.
type Request struct {
	*http.Request
	params  map[string]string
	maxBody int64
}

// Context returns the request's context.
func (r *Request) Context() context.Context { return r.Request.Context() }

// Param returns the raw text of route parameter name.
func (r *Request) Param(name string) string { return r.params[name] }

// Uint64 parses route parameter name as a decimal u64, or answers 400.
func (r *Request) Uint64(name string) (uint64, error) {
	s := r.params[name]
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (len(s) > 1 && s[0] == '0') {
		return 0, badRequest("%s: %q is not a decimal integer from 0 to 18446744073709551615", name, s)
	}
	return n, nil
}

// Tagged parses route parameter name as TaggedBase64 with one of the given
// tags, or answers 400.
func (r *Request) Tagged(name string, tags ...string) (types.TaggedBase64, error) {
	s := r.params[name]
	t, err := types.ParseTaggedBase64(s)
	if err != nil {
		return t, badRequest("%s: %q is not TaggedBase64: %v", name, s, err)
	}
	if len(tags) > 0 && !slices.Contains(tags, t.Tag) {
		return t, badRequest("%s: tag %q, want %s", name, t.Tag, strings.Join(tags, " or "))
	}
	return t, nil
}

// Commitment parses route parameter name as a 32-byte commitment tagged
// with one of tags, or answers 400.
func (r *Request) Commitment(name string, tags ...string) (types.Commitment, error) {
	t, err := r.Tagged(name, tags...)
	if err != nil {
		return types.Commitment{}, err
	}
	if len(t.Value) != 32 {
		return types.Commitment{}, badRequest("%s: a %s value of %d bytes, want 32", name, t.Tag, len(t.Value))
	}
	return types.Commitment(t.Value), nil
}

// DecodeBody decodes the JSON body into v: 413 when it is larger than the
// server's body limit, 400 when it is not JSON of v's shape.
func (r *Request) DecodeBody(v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// A media type: case-insensitive, parameters (charset) allowed.
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return Errorf(http.StatusUnsupportedMediaType, "content type %q, want application/json", ct)
		}
	}
	body := http.MaxBytesReader(nil, r.Body, r.maxBody)
	d := json.NewDecoder(body)
	if err := d.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Errorf(http.StatusRequestEntityTooLarge, "request body over the limit of %d bytes", tooLarge.Limit)
		}
		if errors.Is(err, io.EOF) {
			return badRequest("empty request body, want JSON")
		}
		return badRequest("request body: %v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Errorf(http.StatusRequestEntityTooLarge, "request body over the limit of %d bytes", tooLarge.Limit)
		}
		return badRequest("request body: data after the JSON value")
	}
	return nil
}

// route is one registered route.
type route struct {
	method  string // GET, POST, or "" for a WebSocket stream
	module  string
	pattern []string // segments after /v{major}/{module}/; "{name}" for a parameter
	text    string   // the pattern as registered, for the index
	handle  func(w http.ResponseWriter, r *Request)
}

// specificity orders routes that match the same path: more literal
// segments first, then literals earlier.
func (rt *route) less(o *route) bool {
	for i := range min(len(rt.pattern), len(o.pattern)) {
		a, b := isParam(rt.pattern[i]), isParam(o.pattern[i])
		if a != b {
			return !a
		}
	}
	return false
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

func (rt *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.pattern) {
		return nil, false
	}
	var params map[string]string
	for i, p := range rt.pattern {
		if isParam(p) {
			if params == nil {
				params = make(map[string]string, 2)
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// Router collects the routes of one module at one major version. Patterns
// are relative to /v{major}/{module}/, segments separated by "/", with
// "{name}" for a parameter: "header/{height}", "header/hash/{hash}". Where
// two patterns match the same path the one with more literal segments, or
// with its literals earlier, wins.
type Router struct {
	module  string
	major   int
	routes  []*route
	log     *slog.Logger
	streams *sync.WaitGroup
}

// Module returns the name of the module whose routes this router collects.
func (r *Router) Module() string { return r.module }

// Major returns the major version the routes are mounted under.
func (r *Router) Major() int { return r.major }

// Get adds a GET route answered with h.
func (r *Router) Get(pattern string, h Handler) { r.add(http.MethodGet, pattern, r.json(h)) }

// Post adds a POST route answered with h.
func (r *Router) Post(pattern string, h Handler) { r.add(http.MethodPost, pattern, r.json(h)) }

// Raw adds a route whose handler writes the response itself.
func (r *Router) Raw(method, pattern string, h func(w http.ResponseWriter, r *Request)) {
	r.add(method, pattern, h)
}

func (r *Router) add(method, pattern string, h func(http.ResponseWriter, *Request)) {
	r.routes = append(r.routes, &route{method: method, module: r.module, pattern: strings.Split(pattern, "/"), text: pattern, handle: h})
}

// json wraps a Handler: JSON out, errors mapped by toError.
func (r *Router) json(h Handler) func(http.ResponseWriter, *Request) {
	return func(w http.ResponseWriter, req *Request) {
		v, err := h(req)
		if err != nil {
			writeError(w, req.Request, err, r.log)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(&Error{Status: http.StatusInternalServerError, Message: fmt.Sprintf("encode response: %v", err)})
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	e := toError(err)
	if e.Status >= 500 && e.Status != http.StatusServiceUnavailable {
		log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, e.Status, e)
}
