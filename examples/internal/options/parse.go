package options

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Config is a parsed command line: the global options and the modules given.
// A module's pointer is non-nil iff the module was on the command line.
type Config struct {
	// Global holds the global options with their effective values.
	Global Global
	// Modules are the canonical module names in command-line order
	// ("storage" is reported as "storage-fs").
	Modules []string

	// The modules, each non-nil iff given, holding its options.
	HTTP          *HTTPModule          // http
	Query         *QueryModule         // query
	Submit        *SubmitModule        // submit
	Status        *StatusModule        // status
	Catchup       *CatchupModule       // catchup
	Config        *ConfigModule        // config
	Explorer      *ExplorerModule      // explorer
	HotShotEvents *HotShotEventsModule // hotshot-events
	StorageFS     *StorageFSModule     // storage-fs (alias storage)
	StorageSQL    *StorageSQLModule    // storage-sql
}

// Has reports whether the module with this canonical name was given.
func (c *Config) Has(module string) bool { return slices.Contains(c.Modules, module) }

// Parse parses `sequencer [global options] -- <module> [module options] --
// <module> ...` (args without the program name). env looks up an environment
// variable: os.LookupEnv in a binary, a map in tests; nil means an empty
// environment. The library never reads the process environment itself.
//
// Help (`--help`, `-h`, `-- help`, `-- help <module>`, `-- <module> --help`)
// returns a [*HelpError] without reading the environment, so it works with no
// configuration at all. Every other error matches [ErrUsage]. Parse checks
// the grammar, each value, duplicate modules and the order-sensitive module
// dependencies; call [Config.Validate] for the rules that need the whole
// configuration.
func Parse(args []string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	specs := modules()
	cfg := &Config{}
	globalArgs, segments := splitArgs(args)

	global := newOptionSet("", globalOptions(&cfg.Global))
	global.hint = func(flag string) string { return hint(specs, "", flag) }
	if err := global.parse(globalArgs); err != nil {
		if errors.Is(err, errHelpFlag) {
			return nil, &HelpError{Text: GlobalHelp()}
		}
		return nil, err
	}
	if len(global.args) > 0 {
		return nil, usageErr(ErrUnexpectedArgument, fmt.Sprintf(`unexpected argument %q before "--" (%s)`,
			global.args[0], argHint(global.args[0], `modules follow a standalone "--", e.g. "sequencer -- http"`)))
	}

	type parsed struct {
		spec *moduleSpec
		set  *optionSet
	}
	var mods []parsed
	for i, seg := range segments {
		if len(seg) == 0 {
			if i == len(segments)-1 {
				break // a trailing "--" ends the list
			}
			return nil, usageErr(ErrUnknownModule, `missing module name between two "--"`)
		}
		name := seg[0]
		if name == "help" {
			return nil, helpRequest(seg[1:])
		}
		if strings.HasPrefix(name, "-") {
			return nil, usageErr(ErrUnknownModule, fmt.Sprintf(`missing module name after "--" before option %s (e.g. "-- http %s")`, name, name))
		}
		spec, err := lookupModule(specs, name)
		if err != nil {
			return nil, err
		}
		if cfg.Has(spec.name) {
			return nil, usageErr(ErrDuplicateModule, fmt.Sprintf("optional module %s can only be started once", spec.name))
		}
		for _, req := range spec.requires {
			if !cfg.Has(req) {
				return nil, usageErr(ErrMissingModule, fmt.Sprintf("module %s is missing required module %s", spec.name, req))
			}
		}
		set := newOptionSet(spec.name, spec.attach(cfg))
		set.hint = func(flag string) string { return hint(specs, spec.name, flag) }
		if err := set.parse(seg[1:]); err != nil {
			if errors.Is(err, errHelpFlag) {
				text, _ := ModuleHelp(spec.name)
				return nil, &HelpError{Text: text}
			}
			return nil, err
		}
		if spec.positional == "" && len(set.args) > 0 {
			a := set.args[0]
			return nil, usageErr(ErrUnexpectedArgument, fmt.Sprintf(`%s: unexpected argument %q (%s)`,
				spec.name, a, argHint(a, fmt.Sprintf(`separate modules with "--", e.g. "-- %s -- %s"`, spec.name, a))))
		}
		cfg.Modules = append(cfg.Modules, spec.name)
		mods = append(mods, parsed{spec, set})
	}

	if err := global.resolve(env); err != nil {
		return nil, err
	}
	for _, m := range mods {
		if err := m.set.resolve(env); err != nil {
			return nil, err
		}
		if m.spec.finish != nil {
			if err := m.spec.finish(cfg, m.set); err != nil {
				return nil, err
			}
		}
	}
	return cfg, nil
}

// argHint explains a stray argument: a bool value after a bool flag, or else
// the given hint.
func argHint(arg, otherwise string) string {
	if _, err := parseBool(arg); err == nil {
		return "bool flags take no value: write --flag or --flag=false"
	}
	return otherwise
}

// splitArgs cuts args at the first standalone "--" into the global options
// and the module segments, each segment being the words up to the next
// standalone "--" (docs/operator.md, "Grammar").
func splitArgs(args []string) (global []string, segments [][]string) {
	i := slices.Index(args, "--")
	if i < 0 {
		return args, nil
	}
	var seg []string
	for _, a := range args[i+1:] {
		if a == "--" {
			segments = append(segments, seg)
			seg = nil
			continue
		}
		seg = append(seg, a)
	}
	return args[:i], append(segments, seg)
}

// helpRequest answers `-- help` and `-- help <module>`.
func helpRequest(rest []string) error {
	switch len(rest) {
	case 0:
		return &HelpError{Text: ModuleList()}
	case 1:
		text, err := ModuleHelp(rest[0])
		if err != nil {
			return err
		}
		return &HelpError{Text: text}
	}
	return usageErr(ErrUnexpectedArgument, fmt.Sprintf(`help takes at most one module name, got %q`, strings.Join(rest, " ")))
}

// lookupModule finds a module by canonical name or alias.
func lookupModule(specs []*moduleSpec, name string) (*moduleSpec, error) {
	for _, s := range specs {
		if s.name == name || slices.Contains(s.aliases, name) {
			return s, nil
		}
	}
	var valid []string
	for _, s := range specs {
		valid = append(valid, s.name)
		valid = append(valid, s.aliases...)
	}
	list := strings.Join(valid, ", ")
	if name == "api" {
		return nil, usageErr(ErrUnknownModule, fmt.Sprintf(`unknown module "api": there is no api module, use http (valid modules: %s)`, list))
	}
	return nil, usageErr(ErrUnknownModule, fmt.Sprintf("unknown module %q (valid modules: %s)", name, list))
}

// hint explains an unknown flag of scope ("" = global) when another scope
// has it: the most common mistake is an option on the wrong side of "--".
func hint(specs []*moduleSpec, scope, flag string) string {
	if scope != "" {
		for _, o := range globalOptions(&Global{}) {
			if o.flag == flag {
				return `it is a global option: put it before the first "--"`
			}
		}
	}
	var owners []string
	scratch := &Config{}
	for _, s := range specs {
		if s.name == scope {
			continue
		}
		for _, o := range s.attach(scratch) {
			if o.flag == flag {
				owners = append(owners, s.name)
			}
		}
	}
	switch {
	case len(owners) == 0:
		return ""
	case scope == "":
		return fmt.Sprintf(`it is an option of module %s: put it after "-- %s"`, strings.Join(owners, ", "), owners[0])
	default:
		return fmt.Sprintf("it is an option of module %s", strings.Join(owners, ", "))
	}
}

// Validate checks the rules that need the whole configuration: storage
// modules (query needs one; at most one), keys (a key file XOR both private
// keys), and options that only make sense together or not at all. It returns
// the first violation as a one-line [*Error].
func (c *Config) Validate() error {
	g := &c.Global
	checks := []struct {
		bad  bool
		kind error
		msg  func() string
	}{
		{c.StorageFS != nil && c.StorageSQL != nil, ErrConflict,
			func() string { return "only one storage module can be used: got both storage-fs and storage-sql" }},
		{c.Query != nil && c.StorageFS == nil && c.StorageSQL == nil, ErrMissingModule,
			func() string { return "query module requested but not storage provided" }},
		{c.StorageSQL != nil && c.StorageSQL.Prune && c.StorageSQL.Archive, ErrConflict,
			func() string {
				return "storage-sql: --prune conflicts with --archive (pruning deletes what archive mode keeps)"
			}},
		{c.StorageSQL != nil && c.StorageSQL.MinimumRetention > c.StorageSQL.TargetRetention, ErrConflict,
			func() string {
				return fmt.Sprintf("storage-sql: --minimum-retention (%s) exceeds --target-retention (%s)",
					formatDuration(c.StorageSQL.MinimumRetention), formatDuration(c.StorageSQL.TargetRetention))
			}},
		{c.HTTP != nil && c.HotShotEvents != nil && c.HTTP.Port != 0 && c.HTTP.Port == c.HotShotEvents.EventsServicePort, ErrConflict,
			func() string {
				return fmt.Sprintf("hotshot-events --events-service-port %d is the http --port too: the event stream needs its own port", c.HTTP.Port)
			}},
		{g.ConsensusStorage.MinimumRetention > g.ConsensusStorage.TargetRetention, ErrConflict,
			func() string {
				return fmt.Sprintf("--consensus-storage-minimum-retention (%d) exceeds --consensus-storage-target-retention (%d)",
					g.ConsensusStorage.MinimumRetention, g.ConsensusStorage.TargetRetention)
			}},
		{g.Catchup.BaseRetryDelay > g.Catchup.MaxRetryDelay, ErrConflict,
			func() string {
				return fmt.Sprintf("--catchup-base-retry-delay (%s) exceeds --catchup-max-retry-delay (%s)",
					formatDuration(g.Catchup.BaseRetryDelay), formatDuration(g.Catchup.MaxRetryDelay))
			}},
		{g.Gossip.MeshNLow > g.Gossip.MeshN || g.Gossip.MeshN > g.Gossip.MeshNHigh, ErrConflict,
			func() string {
				return fmt.Sprintf("gossipsub mesh degrees must satisfy --libp2p-mesh-n-low (%d) <= --libp2p-mesh-n (%d) <= --libp2p-mesh-n-high (%d)",
					g.Gossip.MeshNLow, g.Gossip.MeshN, g.Gossip.MeshNHigh)
			}},
		{g.Gossip.HistoryGossip > g.Gossip.HistoryLength, ErrConflict,
			func() string {
				return fmt.Sprintf("--libp2p-history-gossip (%d) exceeds --libp2p-history-length (%d)", g.Gossip.HistoryGossip, g.Gossip.HistoryLength)
			}},
		{(g.Identity.Latitude == nil) != (g.Identity.Longitude == nil), ErrMissingValue,
			func() string {
				if g.Identity.Latitude != nil {
					return "--latitude needs --longitude too (give both or neither)"
				}
				return "--longitude needs --latitude too (give both or neither)"
			}},
		{g.KeyFile != "" && (g.PrivateStakingKey != "" || g.PrivateStateKey != ""), ErrConflict,
			func() string {
				return "--key-file conflicts with --private-staking-key and --private-state-key (give the key file or both private keys)"
			}},
		{g.KeyFile == "" && (g.PrivateStakingKey == "" || g.PrivateStateKey == ""), ErrNoKeys,
			func() string { return "neither key file nor full set of private keys was provided" }},
	}
	for _, ch := range checks {
		if ch.bad {
			return usageErr(ch.kind, ch.msg())
		}
	}
	return nil
}
