package options

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// These tests are generated from the option tables so that no option is
// forgotten: for every global and module option, the flag sets it (in both
// `--flag value` and `--flag=value` forms), each of its environment variables
// sets it, the flag beats the environment, a bad value gives a one-line error
// naming the flag (and the variable), the default applies, and help shows
// flag, variable and default.

// scope is the global option table or one module's.
type scope struct {
	name   string   // "" for global
	prefix []string // arguments placing an option of this scope: "--", deps..., module
	rows   func(c *Config) []*option
}

func scopes(t *testing.T) []scope {
	t.Helper()
	out := []scope{{name: "", rows: func(c *Config) []*option { return globalOptions(&c.Global) }}}
	for _, spec := range modules() {
		var prefix []string
		for _, req := range spec.requires {
			prefix = append(prefix, "--", req)
		}
		prefix = append(prefix, "--", spec.name)
		out = append(out, scope{name: spec.name, prefix: prefix, rows: spec.attach})
	}
	return out
}

// place builds the command line that gives extra arguments to the scope.
func (s scope) place(extra ...string) []string {
	if s.name == "" {
		return extra
	}
	return append(append([]string{}, s.prefix...), extra...)
}

// baseEnv satisfies the required options of the scope other than row i.
func (s scope) baseEnv(i int) map[string]string {
	env := map[string]string{}
	for j, r := range s.rows(&Config{}) {
		if r.required && j != i {
			env[r.env[0]] = "9999"
		}
	}
	return env
}

// samples returns a valid value that differs from the option's default and
// an invalid one ("" when every text is valid).
func samples(t *testing.T, s scope, i int) (good, bad string) {
	t.Helper()
	o := s.fresh(i)
	var candidates []string
	switch o.val.Type() {
	case "":
		candidates, bad = []string{"true", "false"}, "maybe"
	case "DURATION":
		candidates, bad = []string{"3d", "1h30m", "250ms"}, "7 parsecs"
	case "N":
		candidates, bad = []string{"7", "3", "9000", "1"}, "lots"
	case "PORT":
		candidates, bad = []string{"4321", "4322"}, "70000"
	case "SIZE":
		candidates, bad = []string{"100 GB", "1MiB"}, "12 parsecs"
	case "DECIMAL", "FLOAT":
		candidates, bad = []string{"0.5", "0.75"}, "north"
	case "RATIO":
		candidates, bad = []string{"1:4", "1:5"}, "1:0"
	case "URL":
		candidates, bad = []string{"https://example.com:1234/x"}, "ftp://example.com"
	case "URL[,URL...]":
		candidates, bad = []string{"https://a.example:1, https://b.example:2/,", "wss://a.example:1,wss://b.example:2"}, "ftp://x"
	case "MULTIADDR[,MULTIADDR...]":
		candidates = []string{"/ip4/127.0.0.1/udp/2000/quic-v1/p2p/12D3KooWDtGECieXrqKoVxfDhU7afYnS6toj1GqWXuEDfcaGPDxa," +
			"/dns/mynode.example.com/udp/2000/quic-v1/p2p/12D3KooWDtGECieXrqKoVxfDhU7afYnS6toj1GqWXuEDfcaGPDxa"}
		bad = "/ip4/127.0.0.1/udp/2000"
	case "HOST:PORT":
		candidates, bad = []string{"node.example.com:7000"}, "node.example.com"
	case "CC":
		candidates, bad = []string{"de", "FR"}, "USA"
	case "URI":
		candidates, bad = []string{"postgres://alice:pw@db.example:6543/seq"}, "mysql://db/x"
	case "STRING", "SECRET":
		candidates = []string{"some value ~ with spaces", "other value"}
	case "PATH":
		candidates = []string{"/tmp/some/path", "/tmp/other"}
	default:
		if strings.Contains(o.val.Type(), "|") {
			candidates, bad = strings.Split(o.val.Type(), "|"), "xml"
			break
		}
		t.Fatalf("%s: no samples for type %q: add them to the test", o.name(), o.val.Type())
	}
	def := show(s.fresh(i).val)
	for _, c := range candidates {
		v := s.fresh(i)
		if v.val.Set(c) == nil && show(v.val) != def {
			return c, bad
		}
	}
	t.Fatalf("%s: no candidate differs from the default", o.name())
	return "", ""
}

// fresh returns row i of the scope bound to a new target, default applied.
func (s scope) fresh(i int) *option {
	r := s.rows(&Config{})[i]
	if r.def != "" {
		_ = r.val.Set(r.def)
	}
	return r
}

// show is a row's value for comparisons: String(), but secrets and URIs
// unredacted so that distinct values stay distinct.
func show(v value) string {
	switch f := v.(type) {
	case *field[Secret]:
		return string(*f.p)
	case *field[string]:
		return *f.p
	}
	return v.String()
}

// want is the value of a fresh row i after setting text.
func (s scope) want(t *testing.T, i int, text string) string {
	t.Helper()
	r := s.fresh(i)
	if err := r.val.Set(text); err != nil {
		t.Fatalf("%s: sample %q does not parse: %v", r.name(), text, err)
	}
	return show(r.val)
}

// got parses args with env and returns the String() of row i of the scope.
func got(t *testing.T, s scope, i int, args []string, env map[string]string) string {
	t.Helper()
	c, err := Parse(args, mapEnv(env))
	if err != nil {
		t.Fatalf("Parse(%q, %v): %v", args, env, err)
	}
	return show(s.rows(c)[i].val)
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEveryOption(t *testing.T) {
	for _, s := range scopes(t) {
		for i, o := range s.rows(&Config{}) {
			name := strings.TrimSpace(s.name + " " + o.name())
			t.Run(name, func(t *testing.T) {
				good, bad := samples(t, s, i)
				wantGood := s.want(t, i, good)
				env := s.baseEnv(i)

				if o.flag != "" {
					forms := [][]string{{"--" + o.flag, good}, {"--" + o.flag + "=" + good}}
					if o.val.IsBoolFlag() {
						forms = [][]string{{"--" + o.flag + "=" + good}}
						if good == "true" {
							forms = append(forms, []string{"--" + o.flag})
						}
					}
					for _, f := range forms {
						if g := got(t, s, i, s.place(f...), env); g != wantGood {
							t.Errorf("flag %q: got %q, want %q", f, g, wantGood)
						}
					}
				}

				for _, e := range o.env {
					envWith := copyEnv(env, e, good)
					if g := got(t, s, i, s.place(), envWith); g != wantGood {
						t.Errorf("env %s=%q: got %q, want %q", e, good, g, wantGood)
					}
					if o.flag != "" {
						// flag beats env: the env holds the default's text or, when
						// there is no default, another valid value.
						other := o.def
						if other == "" {
							other = otherValid(t, s, i, good)
						}
						flag := []string{"--" + o.flag + "=" + good}
						if g := got(t, s, i, s.place(flag...), copyEnv(env, e, other)); g != wantGood {
							t.Errorf("flag %q with env %s=%q: got %q, want %q", flag, e, other, g, wantGood)
						}
					}
				}

				if !o.required {
					if g, w := got(t, s, i, s.place(), env), show(s.fresh(i).val); g != w {
						t.Errorf("default: got %q, want %q", g, w)
					}
				}

				if bad == "" {
					return
				}
				prefix := ""
				if s.name != "" {
					prefix = s.name + " "
				}
				if o.flag != "" {
					_, err := Parse(s.place("--"+o.flag+"="+bad), mapEnv(env))
					checkValueErr(t, err, fmt.Sprintf("%s--%s: %q: ", prefix, o.flag, bad))
				}
				for _, e := range o.env {
					_, err := Parse(s.place(), mapEnv(copyEnv(env, e, bad)))
					label := prefix + e
					if o.flag != "" {
						label = fmt.Sprintf("%s--%s (%s)", prefix, o.flag, e)
					}
					checkValueErr(t, err, fmt.Sprintf("%s: %q: ", label, bad))
				}
			})
		}
	}
}

// otherValid returns a valid value different from good.
func otherValid(t *testing.T, s scope, i int, good string) string {
	t.Helper()
	for _, c := range []string{"other value", "5", "4323", "2h", "1 GB", "0.25", "1:3", "https://other.example",
		"wss://other.example", "other.example:1", "IT", "compact", "sqlite:///tmp/db", "/tmp/else",
		"/ip4/10.0.0.1/udp/1/quic-v1/p2p/12D3KooWDtGECieXrqKoVxfDhU7afYnS6toj1GqWXuEDfcaGPDxa"} {
		v := s.fresh(i)
		if v.val.Set(c) == nil && show(v.val) != s.want(t, i, good) {
			return c
		}
	}
	t.Fatalf("%s: no second valid value", s.fresh(i).name())
	return ""
}

func copyEnv(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

func checkValueErr(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil {
		t.Errorf("want an error starting %q, got none", prefix)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, "(want ") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line starting %q and saying what was expected", msg, prefix)
	}
	if !errors.Is(err, ErrInvalidValue) || !errors.Is(err, ErrUsage) {
		t.Errorf("error %q does not match ErrInvalidValue and ErrUsage", msg)
	}
}

// Every default in every table parses: the tables are the only source of
// defaults, so a typo there would break every start.
func TestDefaultsParse(t *testing.T) {
	for _, s := range scopes(t) {
		for _, o := range s.rows(&Config{}) {
			if o.def != "" {
				if err := o.val.Set(o.def); err != nil {
					t.Errorf("%s %s: default %q: %v", s.name, o.name(), o.def, err)
				}
			}
			if o.help == "" || len(o.env) == 0 && o.flag != "uri" {
				t.Errorf("%s %s: every option needs help text and an environment variable", s.name, o.name())
			}
		}
	}
}

// Flags and environment variables are unique within a scope, and every
// global flag differs from every module flag (so the hints are unambiguous).
func TestNamesUnique(t *testing.T) {
	global := map[string]bool{}
	for _, s := range scopes(t) {
		flags, envs := map[string]bool{}, map[string]bool{}
		for _, o := range s.rows(&Config{}) {
			if o.flag != "" {
				if flags[o.flag] {
					t.Errorf("%s: flag --%s twice", s.name, o.flag)
				}
				flags[o.flag] = true
				if s.name == "" {
					global[o.flag] = true
				} else if global[o.flag] {
					t.Errorf("module %s: flag --%s is a global flag too", s.name, o.flag)
				}
			}
			for _, e := range o.env {
				if envs[e] {
					t.Errorf("%s: env %s twice", s.name, e)
				}
				envs[e] = true
			}
		}
	}
}

func TestHelpShowsEveryOption(t *testing.T) {
	for _, s := range scopes(t) {
		text := GlobalHelp()
		if s.name != "" {
			var err error
			if text, err = ModuleHelp(s.name); err != nil {
				t.Fatal(err)
			}
		}
		lines := strings.Split(text, "\n")
		for _, o := range s.rows(&Config{}) {
			head := "  --" + o.flag
			if o.flag == "" {
				head = "  " + o.env[0] + "="
			}
			at := -1
			for i, l := range lines {
				if l == head || strings.HasPrefix(l, head+" ") || strings.HasPrefix(l, head+"<") {
					at = i
				}
			}
			if o.hidden {
				if at >= 0 {
					t.Errorf("%s %s: hidden option shown in help", s.name, o.name())
				}
				continue
			}
			if at < 0 || at+2 >= len(lines) {
				t.Errorf("%s %s: not in help", s.name, o.name())
				continue
			}
			env := strings.Join(o.env, ", ")
			if env == "" {
				env = "none"
			}
			def := "[default: " + o.defaultText() + "]"
			if o.required {
				def = "[required]"
			}
			if w := "[env: " + env + "] " + def; !strings.Contains(lines[at+2], w) {
				t.Errorf("%s %s: help line %q lacks %q", s.name, o.name(), lines[at+2], w)
			}
		}
	}
}
