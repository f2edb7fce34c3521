package options

import (
	"fmt"
	"strings"
)

const usageLine = "Usage: sequencer [OPTIONS] -- <MODULE> [MODULE OPTIONS] [-- <MODULE> [MODULE OPTIONS]]...\n"

// GlobalHelp is the text of `sequencer --help`: usage, value syntax and every
// global option with its flag, environment variable and default.
func GlobalHelp() string {
	var b strings.Builder
	b.WriteString(usageLine)
	b.WriteString(`
Runs a gospresso sequencer node. Global options come before the first
standalone "--"; each module follows its own "--", for example:

  sequencer --key-file /keys/0.env -- storage-sql -- http --port 50000 -- query

Every option can also be set through its environment variable; an explicit
flag wins, and an empty variable counts as unset. Bool flags take no value
(--is-da, or --is-da=false); bool variables accept true, false, 1 or 0.
Durations: 500ms, 7s, 1h30m, 3d. Sizes: 1000000, 100 GB, 1mb, 1MiB.
Lists: comma-separated. Ratios: N:D, e.g. 1:10.

Run "sequencer -- help" for the module list and
"sequencer -- help <module>" for a module's options.
`)
	writeOptions(&b, globalOptions(&Global{}))
	b.WriteString("\nHelp:\n  -h, --help\n        print this help\n")
	return b.String()
}

// ModuleList is the text of `sequencer -- help`: every module with what it
// does and what it requires.
func ModuleList() string {
	var b strings.Builder
	b.WriteString(usageLine)
	b.WriteString("\nModules (each at most once; the modules a module requires must come earlier):\n")
	for _, s := range modules() {
		name := s.name
		if len(s.aliases) > 0 {
			name += " (" + strings.Join(s.aliases, ", ") + ")"
		}
		fmt.Fprintf(&b, "  %-22s %s", name, s.summary)
		if len(s.requires) > 0 {
			fmt.Fprintf(&b, " [requires: %s]", strings.Join(s.requires, ", "))
		}
		b.WriteString("\n")
	}
	b.WriteString(`
The query module needs a storage module (storage-fs or storage-sql, not both).
Without query the node is a lightweight node: it keeps consensus data only.
With no storage module consensus data goes to file-system storage at ./storage.

Run "sequencer -- help <module>" for a module's options.
`)
	return b.String()
}

// ModuleHelp is the text of `sequencer -- help <module>` (aliases accepted):
// the usage line, as "sequencer -- <module>", and the module's options. An
// unknown name is an [ErrUnknownModule] error listing the valid modules.
func ModuleHelp(name string) (string, error) {
	specs := modules()
	spec, err := lookupModule(specs, name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	pos := ""
	if spec.positional != "" {
		pos = " [" + spec.positional + "]"
	}
	fmt.Fprintf(&b, "Usage: sequencer -- %s [OPTIONS]%s\n\n%s.\n", spec.name, pos, spec.summary)
	if len(spec.aliases) > 0 {
		fmt.Fprintf(&b, "Also accepted as: %s.\n", strings.Join(spec.aliases, ", "))
	}
	if len(spec.requires) > 0 {
		fmt.Fprintf(&b, "Requires earlier on the command line: %s.\n", strings.Join(spec.requires, ", "))
	}
	opts := spec.attach(&Config{})
	if len(opts) == 0 {
		b.WriteString("\nThis module has no options.\n")
		return b.String(), nil
	}
	b.WriteString("\nOptions:\n")
	writeOptions(&b, opts)
	b.WriteString("  -h, --help\n        print this help\n")
	return b.String(), nil
}
