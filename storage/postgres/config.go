package postgres

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Sentinel errors of the Postgres backend. Errors of the storage contract
// (not found, closed, locked, conflict, pruned) wrap the storage package's
// sentinels instead.
var (
	// ErrInvalidConfig is returned by Open for a Config it cannot use: an
	// unparsable URI, an unknown URI parameter, a bad schema name or pool
	// setting. The message names the field, the value and what was expected.
	ErrInvalidConfig = errors.New("postgres: invalid configuration")
	// ErrSchemaVersion is returned by Open when the schema was migrated by a
	// newer build than this one (its migrations table has versions this
	// build does not know).
	ErrSchemaVersion = errors.New("postgres: schema is newer than this build")
	// ErrLockLost is returned by writes after the connection holding the
	// store's advisory lock was lost and, on reconnecting, another session
	// held the lock: another process took the store while this one's
	// connection was down, so the store refuses to write from then on. It
	// comes wrapped together with storage.ErrLocked. (A lost connection
	// with no other owner is reconnected and the lock taken again; see
	// WithReconnectWindow and ErrConnectionLost.)
	ErrLockLost = errors.New("postgres: advisory lock lost")
	// ErrOutOfRange is returned for a height, view or timestamp above
	// 2^63-1, which a Postgres BIGINT column cannot hold.
	ErrOutOfRange = errors.New("postgres: value out of range")
)

// Defaults of the Config fields (docs/storage.md, "The storage-sql module").
const (
	// DefaultHost is the server host when neither Host nor the URI names one.
	DefaultHost = "localhost"
	// DefaultPort is the server port when neither Port nor the URI gives one.
	DefaultPort = 5432
	// DefaultSchema holds the store when Schema is empty.
	DefaultSchema = "public"
	// DefaultMaxConnections caps the pool when MaxConnections is 0.
	DefaultMaxConnections = 25
	// DefaultMinConnections is the number of connections opened at Open.
	DefaultMinConnections = 0
	// DefaultIdleConnectionTimeout closes idle pool connections.
	DefaultIdleConnectionTimeout = 10 * time.Minute
	// DefaultConnectionTimeout is the maximum lifetime of a pool connection.
	DefaultConnectionTimeout = 30 * time.Minute
	// DefaultSlowStatementThreshold is the duration above which a statement
	// is logged.
	DefaultSlowStatementThreshold = time.Second
	// DefaultConnectTimeout bounds establishing one connection (dial and
	// start-up) unless the URI's connect_timeout says otherwise.
	DefaultConnectTimeout = 10 * time.Second
)

// Config locates the database and sets up the connection pool. The zero
// value connects to localhost:5432 as the operating-system user, without TLS,
// into schema "public", with the default pool.
//
// Connection fields: URI is parsed first, then every non-zero explicit field
// (Host, Port, Database, User, Password) replaces the corresponding part of
// the URI. UseTLS alone decides TLS (docs/storage.md, "Postgres").
type Config struct {
	// URI is postgres[ql]://[user[:password]@][host[:port][,...]][/database][?params];
	// "" means no URI. Supported parameters: sslmode (see UseTLS),
	// connect_timeout (seconds) and application_name.
	URI string
	// Host is the server host name, IP address or Unix socket directory
	// (a comma-separated list is tried in order); default localhost.
	Host string
	// Port is the server port for every host; 0 keeps the URI's port or 5432.
	Port uint16
	// Database is the database name; "" keeps the URI's or lets the server
	// use the user name.
	Database string
	// User is the role to connect as; default the operating-system user.
	User string
	// Password authenticates User; never logged or shown by String. When
	// empty, ~/.pgpass is consulted as libpq does.
	Password string
	// UseTLS connects with sslmode=require (or the URI's verify-ca or
	// verify-full, which are stricter); without it sslmode=disable, and a
	// URI asking for TLS is refused as a configuration error.
	UseTLS bool
	// Schema is the Postgres schema that holds the store; default "public".
	// Lowercase letters, digits and _, starting with a letter or _, at most
	// 63 bytes, not starting with pg_.
	Schema string

	// MaxConnections caps the pool; 0 means 25.
	MaxConnections int
	// MinConnections connections are opened at Open and kept idle;
	// database/sql has no true minimum, so the idle timeout may close them.
	MinConnections int
	// IdleConnectionTimeout closes connections idle for longer; 0 means
	// 10m, negative means never.
	IdleConnectionTimeout time.Duration
	// ConnectionTimeout is the maximum lifetime of a pooled connection; 0
	// means 30m, negative means unlimited.
	ConnectionTimeout time.Duration
	// SlowStatementThreshold logs statements that take longer; 0 means 1s,
	// negative disables the log.
	SlowStatementThreshold time.Duration
}

// endpoint is one server address.
type endpoint struct {
	host string
	port uint16
}

// settings is a Config resolved: defaults applied, URI merged, validated.
type settings struct {
	endpoints      []endpoint
	database       string
	user           string
	password       string
	sslMode        pq.SSLMode
	connectTimeout time.Duration
	appName        string
	schema         string

	maxConns, minConns int
	idleTimeout        time.Duration
	maxLifetime        time.Duration
	slowThreshold      time.Duration
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// uriParams are the URI query parameters Open understands.
var uriParams = []string{"sslmode", "connect_timeout", "application_name"}

func invalid(field, value, want string) error {
	return fmt.Errorf("%w: %s: %q: %s", ErrInvalidConfig, field, value, want)
}

// resolve merges the URI with the explicit fields, applies the defaults and
// validates everything.
func (c Config) resolve() (settings, error) {
	s := settings{
		connectTimeout: DefaultConnectTimeout,
		appName:        "gospresso",
	}
	var uriSSL pq.SSLMode
	if c.URI != "" {
		var err error
		if uriSSL, err = s.mergeURI(c.URI); err != nil {
			return settings{}, err
		}
	}
	if c.Host != "" {
		s.endpoints = nil
		for _, h := range strings.Split(c.Host, ",") {
			if h = strings.TrimSpace(h); h == "" {
				return settings{}, invalid("host", c.Host, "empty host name in the list (want host[,host...])")
			}
			s.endpoints = append(s.endpoints, endpoint{host: h})
		}
	}
	if len(s.endpoints) == 0 {
		s.endpoints = []endpoint{{host: DefaultHost}}
	}
	for i := range s.endpoints {
		if c.Port != 0 {
			s.endpoints[i].port = c.Port
		}
		if s.endpoints[i].port == 0 {
			s.endpoints[i].port = DefaultPort
		}
	}
	if c.Database != "" {
		s.database = c.Database
	}
	if c.User != "" {
		s.user = c.User
	}
	if c.Password != "" {
		s.password = c.Password
	}
	if s.user == "" {
		u, err := user.Current()
		if err != nil || u.Username == "" {
			return settings{}, fmt.Errorf("%w: user: not set, and the operating-system user is unknown (set user or the URI's user)", ErrInvalidConfig)
		}
		s.user = u.Username
	}

	switch {
	case !c.UseTLS && uriSSL != "" && uriSSL != pq.SSLModeDisable && uriSSL != pq.SSLModeAllow && uriSSL != pq.SSLModePrefer:
		return settings{}, invalid("uri: sslmode", string(uriSSL), "TLS is chosen only by use_tls (--use-tls); set it, or use sslmode=disable")
	case !c.UseTLS:
		s.sslMode = pq.SSLModeDisable
	case uriSSL == pq.SSLModeVerifyCA || uriSSL == pq.SSLModeVerifyFull:
		s.sslMode = uriSSL
	default:
		s.sslMode = pq.SSLModeRequire
	}

	s.schema = c.Schema
	if s.schema == "" {
		s.schema = DefaultSchema
	}
	if !schemaName.MatchString(s.schema) || strings.HasPrefix(s.schema, "pg_") {
		return settings{}, invalid("schema", c.Schema, "want lowercase letters, digits and _, starting with a letter or _, at most 63 bytes, not starting with pg_")
	}

	s.maxConns = c.MaxConnections
	switch {
	case s.maxConns == 0:
		s.maxConns = DefaultMaxConnections
	case s.maxConns < 0:
		return settings{}, invalid("max_connections", strconv.Itoa(c.MaxConnections), "want a positive number (0 for the default 25)")
	}
	s.minConns = c.MinConnections
	if s.minConns < 0 || s.minConns > s.maxConns {
		return settings{}, invalid("min_connections", strconv.Itoa(c.MinConnections), fmt.Sprintf("want 0..max_connections (%d)", s.maxConns))
	}
	s.idleTimeout = durationOr(c.IdleConnectionTimeout, DefaultIdleConnectionTimeout)
	s.maxLifetime = durationOr(c.ConnectionTimeout, DefaultConnectionTimeout)
	s.slowThreshold = durationOr(c.SlowStatementThreshold, DefaultSlowStatementThreshold)
	return s, nil
}

// durationOr maps 0 to def and negative values to 0 (no limit).
func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// mergeURI fills s from a postgres URI and returns the sslmode it names ("" if none).
func (s *settings) mergeURI(raw string) (pq.SSLMode, error) {
	red := RedactURI(raw)
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok || (!strings.EqualFold(scheme, "postgres") && !strings.EqualFold(scheme, "postgresql")) {
		return "", invalid("uri", red, "want postgres://[user[:password]@][host[:port][,...]][/database][?params] (or postgresql://)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", invalid("uri", red, err.Error())
	}
	if u.Opaque != "" || u.Fragment != "" || u.RawFragment != "" {
		return "", invalid("uri", red, "want postgres://[user[:password]@][host[:port][,...]][/database][?params]")
	}
	if u.User != nil {
		s.user = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			s.password = pw
		}
	}
	if u.Host != "" {
		for _, part := range strings.Split(u.Host, ",") {
			ep, err := parseEndpoint(part)
			if err != nil {
				return "", invalid("uri: host", part, err.Error())
			}
			s.endpoints = append(s.endpoints, ep)
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if strings.Contains(db, "/") {
			return "", invalid("uri: database", db, "want one path segment, the database name")
		}
		s.database = db
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", invalid("uri: query", redactQuery(u.RawQuery), "want key=value pairs separated by &")
	}
	var ssl pq.SSLMode
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "sslmode":
			switch m := pq.SSLMode(v); m {
			case pq.SSLModeDisable, pq.SSLModeAllow, pq.SSLModePrefer, pq.SSLModeRequire, pq.SSLModeVerifyCA, pq.SSLModeVerifyFull:
				ssl = m
			default:
				return "", invalid("uri: sslmode", v, "want disable, allow, prefer, require, verify-ca or verify-full")
			}
		case "connect_timeout":
			n, err := strconv.ParseUint(v, 10, 31)
			if err != nil {
				return "", invalid("uri: connect_timeout", v, "want whole seconds (0 for no timeout)")
			}
			s.connectTimeout = time.Duration(n) * time.Second
		case "application_name":
			s.appName = v
		default:
			return "", invalid("uri: parameter", key, "not supported (want "+strings.Join(uriParams, ", ")+")")
		}
	}
	return ssl, nil
}

// parseEndpoint splits host[:port], [ipv6][:port] or :port.
func parseEndpoint(s string) (endpoint, error) {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return endpoint{}, errors.New("unclosed [ in an IPv6 address")
		}
		host, port = s[1:end], s[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return endpoint{}, errors.New("want [ipv6]:port")
		}
		port = strings.TrimPrefix(port, ":")
		if net.ParseIP(host) == nil {
			return endpoint{}, errors.New("want an IPv6 address inside [ ]")
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	h, err := url.PathUnescape(host)
	if err != nil {
		return endpoint{}, errors.New("bad %-escape in the host name")
	}
	ep := endpoint{host: h}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return endpoint{}, fmt.Errorf("port %q: want 1..65535", port)
		}
		ep.port = uint16(n)
	}
	return ep, nil
}

// RedactURI returns raw with the password of its user info
// (scheme://user:PASSWORD@host) and the value of every "password" query
// parameter (?password=PASSWORD, &password=PASSWORD) replaced by "xxxxx",
// for errors, logs and summaries. It works on any scheme and on text that
// does not parse as a URL; text without "://" is returned unchanged. Where
// the text is ambiguous it hides more rather than less: the user info runs
// to the last '@' before the first '/', so a password holding an unescaped
// '@', '?' or '#' is hidden whole, and a query value runs to the next '&'.
func RedactURI(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	start := len(raw) - len(rest)
	hide := make([]bool, len(raw))
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			for i := start + colon + 1; i < start+at; i++ {
				hide[i] = true
			}
		}
	}
	markPasswordParams(raw[start:], hide[start:])
	return mask(raw, hide)
}

// redactQuery is RedactURI for a raw query string (without its '?').
func redactQuery(query string) string {
	s := "?" + query
	hide := make([]bool, len(s))
	markPasswordParams(s, hide)
	return mask(s, hide)[1:]
}

// markPasswordParams marks in hide the value of every "password" parameter
// in s: what follows a "password=" (in any case) right after a '?' or '&',
// up to the next '&' or the end.
func markPasswordParams(s string, hide []bool) {
	const key = "password="
	for i := 0; i+len(key) < len(s); i++ {
		if (s[i] != '?' && s[i] != '&') || !strings.EqualFold(s[i+1:i+1+len(key)], key) {
			continue
		}
		for j := i + 1 + len(key); j < len(s) && s[j] != '&'; j++ {
			hide[j] = true
		}
	}
}

// mask replaces every run of bytes of s marked in hide with "xxxxx".
func mask(s string, hide []bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !hide[i] {
			b.WriteByte(s[i])
			continue
		}
		b.WriteString("xxxxx")
		for i+1 < len(s) && hide[i+1] {
			i++
		}
	}
	return b.String()
}

// pqConfig is the driver configuration for s. It is built field by field
// (not from a DSN) so that the driver reads no environment variables (only
// ~/.pgpass when no password is set, as libpq does).
func (s *settings) pqConfig() pq.Config {
	cfg := pq.Config{
		Host:               s.endpoints[0].host,
		Port:               s.endpoints[0].port,
		Database:           s.database,
		User:               s.user,
		Password:           s.password,
		ApplicationName:    s.appName,
		SSLMode:            s.sslMode,
		SSLSNI:             true,
		ConnectTimeout:     s.connectTimeout,
		BinaryParameters:   true,
		ClientEncoding:     "UTF8",
		Datestyle:          "ISO, MDY",
		MinProtocolVersion: pq.ProtocolVersion30,
		MaxProtocolVersion: pq.ProtocolVersion30,
		// Every statement names tables of the store's schema only, and
		// every commit is durable when it returns.
		Runtime: map[string]string{
			"search_path":        pq.QuoteIdentifier(s.schema),
			"synchronous_commit": "on",
		},
	}
	for _, ep := range s.endpoints[1:] {
		cfg.Multi = append(cfg.Multi, pq.ConfigMultihost{Host: ep.host, Port: ep.port})
	}
	return cfg
}

// target describes where s connects, without the password.
func (s *settings) target() string {
	hosts := make([]string, len(s.endpoints))
	for i, ep := range s.endpoints {
		hosts[i] = net.JoinHostPort(ep.host, strconv.Itoa(int(ep.port)))
	}
	u := url.URL{Scheme: "postgres", User: url.User(s.user), Host: strings.Join(hosts, ","), Path: "/" + s.database}
	tls := "off"
	if s.sslMode != pq.SSLModeDisable {
		tls = string(s.sslMode)
	}
	return fmt.Sprintf("%s schema=%s tls=%s", u.String(), s.schema, tls)
}

// String describes where the store lives, for logs and start-up summaries:
// the merged URI without password, the schema and the TLS mode. It never
// contains the password.
func (c Config) String() string {
	s, err := c.resolve()
	if err != nil {
		return fmt.Sprintf("postgres (invalid configuration: %v)", err)
	}
	return s.target()
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return "postgres.Config(" + c.String() + ")" }
