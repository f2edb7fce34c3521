package options

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds random command lines (words separated by spaces) and
// environments (KEY=VALUE lines) to Parse: it must never panic, every error
// must be a help request or a one-line usage error, and whatever parses must
// validate, summarise and format without panicking.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ args, env string }{
		{"-- storage-sql -- http -- query -- submit -- hotshot-events --events-service-port 9000 -- config", "ESPRESSO_SEQUENCER_KEY_FILE=/k"},
		{"-- http -- query -- storage-fs", ""},
		{"-- http", "ESPRESSO_SEQUENCER_API_PORT=24000"},
		{"--help", ""},
		{"-- help storage-sql", ""},
		{"-- http --port 1 -- storage-sql --port 2", ""},
		{"--l1-polling-interval 7s --latitude 1 --longitude=-2 -- storage-sql postgres://u:p@h:1/d", "ESPRESSO_SEQUENCER_IS_DA=true"},
		{"-- storage-sql --uri sqlite://x --host h", "ESPRESSO_SEQUENCER_DATABASE_PRUNE=1\nESPRESSO_SEQUENCER_POSTGRES_PRUNE=0"},
		{"-- -- --", "RUST_LOG_FORMAT=json"},
		{"--libp2p-bootstrap-nodes /ip4/1.2.3.4/udp/1/quic-v1/p2p/12D3KooWDtGECieXrqKoVxfDhU7afYnS6toj1GqWXuEDfcaGPDxa", ""},
		{"---x -h=1 --=", "ESPRESSO_SEQUENCER_L1_RETRY_DELAY=1d2h3m4s5ms6us7ns"},
		{"-- api", "ESPRESSO_SEQUENCER_CATCHUP_BACKOFF_JITTER=0.1"},
	} {
		f.Add(seed.args, seed.env)
	}
	f.Fuzz(func(t *testing.T, args, envText string) {
		env := map[string]string{}
		for line := range strings.SplitSeq(envText, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		c, err := Parse(strings.Split(args, " "), mapEnv(env))
		if err != nil {
			var he *HelpError
			if errors.As(err, &he) {
				if he.Text == "" {
					t.Fatal("empty help text")
				}
				return
			}
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("error %q does not match ErrUsage", err)
			}
			return
		}
		_ = c.Validate()
		_ = c.Summary()
	})
}
