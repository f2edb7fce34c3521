package storeopen

import (
	"strings"
	"testing"

	"github.com/gospresso/gospresso/examples/internal/options"
)

// FuzzPlan: for any command line options.Parse accepts, Plan neither panics
// nor shows the Postgres password, and describes the store on one line.
func FuzzPlan(f *testing.F) {
	for _, seed := range []struct{ args, password string }{
		{"", ""},
		{"-- storage-fs --path /x", ""},
		{"-- storage --path=a b", ""},
		{"-- storage-sql", ""},
		{"-- storage-sql --prune --pruning-threshold 1kb --max-usage 0 --batch-size 1", ""},
		{"-- storage-sql --prune --interval 0s", ""},
		{"-- storage-sql sqlite:///tmp/db --archive --lightweight", ""},
		{"-- storage-sql postgres://u:hunter22@h:1/d?sslmode=disable", "hunter22"},
		{"-- storage-sql --host db --password hunter22 --use-tls", "hunter22"},
		{"-- storage-sql postgresql://u:hunter22@[::1]:5432/x --user v", "hunter22"},
	} {
		f.Add(seed.args, seed.password)
	}
	f.Fuzz(func(t *testing.T, args, password string) {
		env := map[string]string{}
		if password != "" {
			env["ESPRESSO_SEQUENCER_POSTGRES_PASSWORD"] = password
		}
		cfg, err := options.Parse(strings.Fields(args), mapEnv(env))
		if err != nil {
			return
		}
		info, err := Plan(cfg)
		if err != nil {
			return
		}
		if info.Backend == "" || info.Location == "" || info.Description == "" {
			t.Fatalf("incomplete info %+v", info)
		}
		if strings.Contains(info.Description, "\n") {
			t.Fatalf("description spans lines: %q", info.Description)
		}
		if cfg.StorageSQL != nil && len(cfg.StorageSQL.Password) >= 6 {
			pw := cfg.StorageSQL.Password.Reveal()
			if !strings.Contains(args, pw+"@") && strings.Contains(info.Description+info.Location, pw) {
				t.Fatalf("password %q shown in %q / %q", pw, info.Description, info.Location)
			}
		}
	})
}
