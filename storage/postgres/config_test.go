package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lib/pq"
)

func TestResolve(t *testing.T) {
	ep := func(host string, port uint16) endpoint { return endpoint{host: host, port: port} }
	tests := []struct {
		name string
		cfg  Config
		want func(*settings) string // "" when fine, else what differs
	}{
		{"defaults", Config{User: "u"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("localhost", 5432)}, s.schema, "public", s.sslMode, pq.SSLModeDisable,
				s.maxConns, 25, s.minConns, 0, s.idleTimeout, 10*time.Minute, s.maxLifetime, 30*time.Minute, s.slowThreshold, time.Second)
		}},
		{"uri parts", Config{URI: "postgres://alice:s3cret@db.example:6543/chain?sslmode=disable"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("db.example", 6543)}, s.user, "alice", s.password, "s3cret", s.database, "chain", s.sslMode, pq.SSLModeDisable)
		}},
		{"postgresql scheme", Config{URI: "postgresql://bob@h/d"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("h", 5432)}, s.user, "bob", s.database, "d")
		}},
		{"explicit fields override the uri", Config{URI: "postgres://alice:pw1@h1:1111/db1", Host: "h2", Port: 2222, Database: "db2", User: "carol", Password: "pw2"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("h2", 2222)}, s.user, "carol", s.password, "pw2", s.database, "db2")
		}},
		{"explicit port only", Config{URI: "postgres://u@h1:1111/db", Port: 7}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("h1", 7)}, s.database, "db")
		}},
		{"explicit host keeps no uri port", Config{URI: "postgres://u@h1:1111/db", Host: "h2"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("h2", 5432)})
		}},
		{"several hosts", Config{URI: "postgres://u@h1:1111,h2,h3:3333/db"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("h1", 1111), ep("h2", 5432), ep("h3", 3333)})
		}},
		{"ipv6", Config{URI: "postgres://u@[::1]:3333/db"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("::1", 3333)})
		}},
		{"no host", Config{URI: "postgres:///db", User: "u"}, func(s *settings) string {
			return diff(s.endpoints, []endpoint{ep("localhost", 5432)}, s.database, "db")
		}},
		{"escaped user and password", Config{URI: "postgres://us%40er:p%3Aw%2Fd@h/db"}, func(s *settings) string {
			return diff(s.user, "us@er", s.password, "p:w/d")
		}},
		{"tls flag", Config{User: "u", UseTLS: true}, func(s *settings) string { return diff(s.sslMode, pq.SSLModeRequire) }},
		{"tls flag beats uri disable", Config{URI: "postgres://u@h/db?sslmode=disable", UseTLS: true}, func(s *settings) string {
			return diff(s.sslMode, pq.SSLModeRequire)
		}},
		{"tls flag keeps stricter verify-full", Config{URI: "postgres://u@h/db?sslmode=verify-full", UseTLS: true}, func(s *settings) string {
			return diff(s.sslMode, pq.SSLModeVerifyFull)
		}},
		{"uri prefer without flag means no tls", Config{URI: "postgres://u@h/db?sslmode=prefer"}, func(s *settings) string {
			return diff(s.sslMode, pq.SSLModeDisable)
		}},
		{"uri parameters", Config{URI: "postgres://u@h/db?connect_timeout=3&application_name=node1"}, func(s *settings) string {
			return diff(s.connectTimeout, 3*time.Second, s.appName, "node1")
		}},
		{"schema and pool", Config{User: "u", Schema: "node_7", MaxConnections: 4, MinConnections: 2, IdleConnectionTimeout: -1, ConnectionTimeout: time.Minute, SlowStatementThreshold: -1}, func(s *settings) string {
			return diff(s.schema, "node_7", s.maxConns, 4, s.minConns, 2, s.idleTimeout, time.Duration(0), s.maxLifetime, time.Minute, s.slowThreshold, time.Duration(0))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.cfg.resolve()
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if d := tt.want(&s); d != "" {
				t.Error(d)
			}
		})
	}
}

// diff compares (got, want) pairs and describes the first mismatch.
func diff(pairs ...any) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if g, w := fmt.Sprint(pairs[i]), fmt.Sprint(pairs[i+1]); g != w {
			return fmt.Sprintf("value %d: got %s, want %s", i/2, g, w)
		}
	}
	return ""
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the message
	}{
		{"wrong scheme", Config{URI: "mysql://u@h/db"}, []string{"uri", "want postgres://"}},
		{"sqlite uri", Config{URI: "sqlite://./db"}, []string{"uri", "want postgres://"}},
		{"bad port", Config{URI: "postgres://u@h:99999/db"}, []string{"uri", "99999"}},
		{"zero port", Config{URI: "postgres://u@h:0/db"}, []string{"port", "1..65535"}},
		{"unknown parameter", Config{URI: "postgres://u@h/db?search_path=x"}, []string{`"search_path"`, "not supported", "sslmode"}},
		{"bad sslmode", Config{URI: "postgres://u@h/db?sslmode=maybe"}, []string{`"maybe"`, "verify-full"}},
		{"tls from uri only", Config{URI: "postgres://u@h/db?sslmode=require"}, []string{"sslmode", `"require"`, "use_tls"}},
		{"bad connect_timeout", Config{URI: "postgres://u@h/db?connect_timeout=soon"}, []string{"connect_timeout", `"soon"`, "seconds"}},
		{"database path", Config{URI: "postgres://u@h/a/b"}, []string{"database", `"a/b"`}},
		{"fragment", Config{URI: "postgres://u@h/db#x"}, []string{"uri"}},
		{"schema uppercase", Config{User: "u", Schema: "Node"}, []string{"schema", `"Node"`, "lowercase"}},
		{"schema quote", Config{User: "u", Schema: `a"b`}, []string{"schema"}},
		{"schema pg_", Config{User: "u", Schema: "pg_temp"}, []string{"schema", "pg_"}},
		{"schema too long", Config{User: "u", Schema: strings.Repeat("a", 64)}, []string{"schema"}},
		{"negative max", Config{User: "u", MaxConnections: -1}, []string{"max_connections", `"-1"`}},
		{"min above max", Config{User: "u", MaxConnections: 2, MinConnections: 3}, []string{"min_connections", `"3"`, "0..max_connections (2)"}},
		{"empty host in list", Config{User: "u", Host: "a,,b"}, []string{"host", "empty"}},
		{"ipv6 unclosed", Config{URI: "postgres://u@[::1/db"}, []string{"uri"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.resolve()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("resolve: %v, want ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPasswordNeverShown(t *testing.T) {
	const pw = "Sup3rSecretPw"
	cfgs := []Config{
		{URI: "postgres://alice:" + pw + "@h:5432/db"},
		{URI: "postgres://alice:" + pw + "@h:5432/db?sslmode=require"}, // invalid: error path
		{URI: "postgres://alice:" + pw + "@h:notaport/db"},             // unparsable
		{URI: "postgres://alice:" + pw + "@h/db", Password: pw + "2"},
		{User: "alice", Password: pw},
	}
	for i, c := range cfgs {
		for _, text := range []string{c.String(), fmt.Sprintf("%v|%+v|%#v|%s", c, c, c, c)} {
			if strings.Contains(text, pw) {
				t.Errorf("config %d: password shown in %q", i, text)
			}
		}
		if _, err := c.resolve(); err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("config %d: password in error %q", i, err)
		}
	}
	if got := (Config{URI: "postgres://alice:" + pw + "@h:5432/db", Schema: "s1", UseTLS: true}).String(); got != "postgres://alice@h:5432/db schema=s1 tls=require" {
		t.Errorf("String() = %q", got)
	}
}

func TestRedactURI(t *testing.T) {
	tests := []struct{ in, want string }{
		// user:pass@ form.
		{"postgres://u:pw@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://u:pw@h:bad/db", "postgres://u:xxxxx@h:bad/db"},
		{"postgres://u:p@w@h:bad/db", "postgres://u:xxxxx@h:bad/db"},
		{"postgres://alice:s3:cr@t@h:1/db?x", "postgres://alice:xxxxx@h:1/db?x"},
		{"postgres://u:p?w#d@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:pw@h1:1,h2:2", "postgres://u:xxxxx@h1:1,h2:2"},
		{"mysql://a:b@c", "mysql://a:xxxxx@c"},
		// ?password= form.
		{"postgres://h/db?a=1&password=x", "postgres://h/db?a=1&password=xxxxx"},
		{"postgres://h/db?PASSWORD=x&password=y&sslmode=disable", "postgres://h/db?PASSWORD=xxxxx&password=xxxxx&sslmode=disable"},
		{"postgres://h?password=p#w", "postgres://h?password=xxxxx"},
		{"postgres://h/db?passwords=x&user=password", "postgres://h/db?passwords=x&user=password"},
		// Both.
		{"postgresql://u:pw@h:5432/db?password=pw2", "postgresql://u:xxxxx@h:5432/db?password=xxxxx"},
		// Ambiguous: a password parameter inside the user info runs to the
		// end, hiding more than the password.
		{"postgres://u:p?password=x@h/db?password=y", "postgres://u:xxxxx"},
		{"postgres://:?0&password=@000", "postgres://:xxxxx"},
		// Nothing to hide.
		{"postgres://h/db?sslmode=disable", "postgres://h/db?sslmode=disable"},
		{"sqlite:///var/db", "sqlite:///var/db"},
		{"no scheme", "no scheme"},
		{"no scheme?password=x", "no scheme?password=x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactURI(tt.in); got != tt.want {
			t.Errorf("RedactURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRedactURI checks that RedactURI hides exactly the password, whatever
// it holds, in the user info and in a password query parameter of URIs
// whose other parts are unambiguous.
func FuzzRedactURI(f *testing.F) {
	f.Add("u", "hunter2", "h:5432/db", "sslmode=disable")
	f.Add("", "p@ss?w#rd:", "h", "")
	f.Fuzz(func(t *testing.T, user, password, host, query string) {
		drop := func(s, chars string) string {
			return strings.Map(func(r rune) rune {
				if strings.ContainsRune(chars, r) {
					return -1
				}
				return r
			}, s)
		}
		user, host, query = drop(user, ":@/?&"), drop(host, ":@?&"), drop(query, ":@/?&")
		if password == "" || strings.ContainsAny(password, "/&") || strings.Contains(strings.ToLower(host+query+password), "password=") {
			t.Skip()
		}
		for uri, want := range map[string]string{
			"postgres://" + user + ":" + password + "@" + host:           "postgres://" + user + ":xxxxx@" + host,
			"postgres://" + host + "?" + query + "&password=" + password: "postgres://" + host + "?" + query + "&password=xxxxx",
		} {
			if got := RedactURI(uri); got != want {
				t.Errorf("RedactURI(%q) = %q, want %q", uri, got, want)
			}
		}
	})
}

func FuzzResolveURI(f *testing.F) {
	for _, s := range []string{
		"postgres://u:pw@h:5432/db?sslmode=disable",
		"postgresql://h1:1,h2:2,[::1]:3/db?connect_timeout=5&application_name=x",
		"postgres://%zz@h/db",
		"postgres://u@[::1/db",
		"postgres:///db",
		"postgres://",
		"postgres://u:pw@h/db?sslmode=require",
		"sqlite://x",
		"",
	} {
		f.Add(s, "pw")
	}
	f.Fuzz(func(t *testing.T, uri, pw string) {
		c := Config{URI: uri, User: "u", Password: pw}
		s, err := c.resolve()
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("resolve(%q): %v does not wrap ErrInvalidConfig", uri, err)
			}
			return
		}
		if len(s.endpoints) == 0 || s.user != "u" || s.password != pw && pw != "" {
			t.Fatalf("resolve(%q): %+v", uri, s)
		}
		for _, ep := range s.endpoints {
			if ep.port == 0 {
				t.Fatalf("resolve(%q): endpoint %+v without port", uri, ep)
			}
		}
		_ = s.pqConfig()
		_ = c.String()
	})
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil || len(ms) == 0 || ms[0].version != 1 || ms[0].name != "init" {
		t.Fatalf("embedded migrations: %v, %+v", err, ms)
	}
	bad := []struct {
		name  string
		files fstest.MapFS
	}{
		{"no number", fstest.MapFS{"migrations/init.sql": {}}},
		{"zero", fstest.MapFS{"migrations/0000_init.sql": {}}},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}}},
		{"repeat", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}}},
		{"no name", fstest.MapFS{"migrations/0001_.sql": {}}},
	}
	for _, tt := range bad {
		if _, err := loadMigrations(tt.files); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	ms, err = loadMigrations(fstest.MapFS{"migrations/0002_b.sql": {Data: []byte("B")}, "migrations/0001_a.sql": {Data: []byte("A")}})
	if err != nil || len(ms) != 2 || ms[0].sql != "A" || ms[1].name != "b" {
		t.Errorf("ordered migrations: %v, %+v", err, ms)
	}
}

func TestLockKey(t *testing.T) {
	if lockKey("a") == lockKey("b") || lockKey("a") != lockKey("a") {
		t.Error("lock keys must differ per schema and be stable")
	}
}
