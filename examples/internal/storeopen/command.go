package storeopen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gospresso/gospresso/examples/internal/options"
)

// ResetUsage is the help text of the reset-storage command; %[1]s stands
// for the program name ("utils reset-storage").
const ResetUsage = `usage: %[1]s [sequencer] fs [--path PATH]
       %[1]s [sequencer] sql [URI] [--host HOST] [--port PORT] [--database DB] [--user USER] [--password PW] [--use-tls] [--path PATH]

Wipes the consensus AND query storage of a sequencer node, without asking:
  fs    the file-system store at --path (default ./storage; a sqlite
        directory inside it is left alone)
  sql   the SQLite database at <--path>/sqlite/database or sqlite://PATH, or
        the Postgres schema of a postgres:// URI or --host (dropped and
        created empty)
The options and their environment variables are those of the storage-fs and
storage-sql modules (see: %[1]s sql --help). A store in use by a running node
is refused.
`

// RunReset runs the reset-storage command line args (after the command
// name) and returns the exit status: 0 done (or help), 1 the reset failed,
// 2 a usage error. prog names the command in messages; env looks up the
// environment variables of the storage modules (os.LookupEnv in a binary).
// It prints each removed item, or that there was nothing to remove, to
// stdout.
func RunReset(ctx context.Context, prog string, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	rest := args
	if len(rest) > 0 && rest[0] == "sequencer" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		fmt.Fprintf(stderr, ResetUsage, prog)
		return 2
	}
	var module string
	switch rest[0] {
	case "-h", "--help", "help":
		fmt.Fprintf(stdout, ResetUsage, prog)
		return 0
	case "fs", options.ModuleStorageFS, "storage":
		module = options.ModuleStorageFS
	case "sql", options.ModuleStorageSQL:
		module = options.ModuleStorageSQL
	case "solver":
		fmt.Fprintf(stderr, "%s: solver: the marketplace solver is not part of gospresso (want fs or sql)\n", prog)
		return 2
	default:
		fmt.Fprintf(stderr, "%s: unknown storage %q (want fs or sql)\n", prog, rest[0])
		return 2
	}
	cfg, err := options.Parse(append([]string{"--", module}, rest[1:]...), env)
	var help *options.HelpError
	if errors.As(err, &help) {
		text := help.Text
		if _, after, ok := strings.Cut(text, "\n"); ok && strings.HasPrefix(text, "Usage: sequencer -- "+module) {
			text = fmt.Sprintf("Usage: %s %s [OPTIONS]%s\n%s", prog, rest[0], positional(module), after)
		}
		fmt.Fprint(stdout, text)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, oneLine(err))
		return 2
	}
	info, err := Plan(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, oneLine(err))
		return 2
	}
	removed, err := Reset(ctx, cfg)
	for _, line := range removed {
		fmt.Fprintln(stdout, line)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, oneLine(err))
		return 1
	}
	if len(removed) == 0 {
		fmt.Fprintf(stdout, "nothing to remove: no store at %s\n", info.Location)
	}
	return 0
}

func positional(module string) string {
	if module == options.ModuleStorageSQL {
		return " [URI]"
	}
	return ""
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
