package api

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Config returns the config module: GET hotshot (the node's consensus
// configuration and stake table, no private key) and GET env (the public
// environment variables, as "NAME=value", sorted by name).
//
// env is what the program passes in, one "NAME=value" (or bare "NAME" for
// an unset variable, which is listed with an empty value) per allowed
// variable: the library reads no environment itself. As a second line of
// defence the module drops any variable whose name says it holds a secret
// (PRIVATE, PASSWORD, SECRET, MNEMONIC, SIGNING_KEY, TOKEN, SEED) or whose
// value holds a private key (…SIGNING_KEY~…), and hides the password of any
// URL value and every password= parameter (URL query or key=value
// connection string).
func Config(env []string) (Module, error) {
	out := make([]string, 0, len(env))
	seen := make(map[string]bool)
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if name == "" || strings.ContainsAny(name, " \t\n") {
			return nil, fmt.Errorf("%w: config env entry %q, want NAME=value", ErrInvalidOption, kv)
		}
		if seen[name] || secretName(name) || strings.Contains(strings.ToUpper(value), "SIGNING_KEY~") {
			continue
		}
		seen[name] = true
		out = append(out, name+"="+redactURL(value))
	}
	// By name: "A=…" before "A2=…", which a plain sort of the entries
	// would put the other way round.
	slices.SortFunc(out, func(a, b string) int {
		na, _, _ := strings.Cut(a, "=")
		nb, _, _ := strings.Cut(b, "=")
		return strings.Compare(na, nb)
	})
	return config{env: out}, nil
}

func secretName(name string) bool {
	up := strings.ToUpper(name)
	for _, s := range []string{"PRIVATE", "PASSWORD", "SECRET", "MNEMONIC", "SIGNING_KEY", "TOKEN", "SEED"} {
		if strings.Contains(up, s) {
			return true
		}
	}
	return false
}

// passwordParam matches a password parameter and its value, in a URL
// query ("?password=…&") or a key=value connection string
// ("host=h password='…' dbname=d").
var passwordParam = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|"[^"]*"|[^&\s;,]*)`)

// redactURL hides the password of every URL in a comma-separated value and
// the value of every password parameter.
func redactURL(v string) string {
	v = passwordParam.ReplaceAllString(v, "${1}xxxxx")
	parts := strings.Split(v, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				parts[i] = u.Redacted()
			}
		} else if err != nil && strings.Contains(p, "@") && strings.Contains(p, "://") {
			parts[i] = "<unparsable URL hidden>"
		}
	}
	return strings.Join(parts, ",")
}

type config struct{ env []string }

func (config) Name() string    { return "config" }
func (config) Version() string { return "0.1.0" }

// HotShotConfig is the public consensus configuration of a node.
type HotShotConfig struct {
	NumNodesWithStake     int               `json:"num_nodes_with_stake"`
	DAStakedCommitteeSize int               `json:"da_staked_committee_size"`
	NextViewTimeoutMS     int64             `json:"next_view_timeout"`
	ViewSyncTimeoutMS     int64             `json:"view_sync_timeout"`
	BuilderTimeoutMS      int64             `json:"builder_timeout"`
	StartThreshold        [2]uint64         `json:"start_threshold"`
	KnownNodesWithStake   []StakeTableEntry `json:"known_nodes_with_stake"`
	NodeIndex             int               `json:"node_index"`
	StakingKey            string            `json:"my_own_validator_config_public_key"`
	StateKey              string            `json:"my_own_validator_config_state_public_key"`
	ChainConfig           any               `json:"chain_config"`
	Version               string            `json:"version"`
}

func (c config) Register(r *Router, b Backend) error {
	r.Get("hotshot", func(*Request) (any, error) {
		info := b.Info()
		st := stakeTable(info)
		da := 0
		for _, e := range st {
			if e.DA {
				da++
			}
		}
		cfg := info.Consensus
		hc := HotShotConfig{
			NumNodesWithStake: len(st), DAStakedCommitteeSize: da,
			NextViewTimeoutMS: cfg.NextViewTimeout.Milliseconds(), ViewSyncTimeoutMS: cfg.ViewSyncTimeout.Milliseconds(),
			BuilderTimeoutMS: cfg.BuilderTimeout.Milliseconds(), StartThreshold: [2]uint64{uint64(len(st)), uint64(len(st))},
			KnownNodesWithStake: st, NodeIndex: info.NodeIndex, StakingKey: info.StakingKey.String(), StateKey: info.StateKey.String(),
			Version: info.Version,
		}
		if info.Genesis != nil {
			hc.ChainConfig = info.Genesis.ChainConfig
		}
		return hc, nil
	})
	r.Get("env", func(*Request) (any, error) { return c.env, nil })
	return nil
}
