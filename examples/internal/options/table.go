package options

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// option is one row of an option table: everything about one option lives
// here, and help, environment binding, summary and tests are derived from it.
type option struct {
	flag     string   // long flag without "--"; "" for an environment-only option
	env      []string // environment variables; the first is the canonical one
	def      string   // default in option syntax, applied through val; "" = none
	defText  string   // shown in help instead of def (computed or explained defaults)
	help     string   // one line
	group    string   // help section
	hidden   bool     // left out of help and summary
	required bool     // an error if neither flag nor environment sets it
	val      value    // the typed field and its grammar
}

// name is how help and errors refer to the option.
func (o *option) name() string {
	if o.flag == "" {
		return o.env[0]
	}
	return "--" + o.flag
}

// source says where an option's value came from.
type source int

const (
	srcNone source = iota
	srcDefault
	srcEnv
	srcFlag
)

// optionSet parses one scope (the global options or one module) with its own
// pflag.FlagSet and records where each value came from.
type optionSet struct {
	scope  string // "" for the global options, else the module name
	opts   []*option
	fs     *pflag.FlagSet
	byFlag map[string]*option
	src    map[*option]source
	args   []string                 // positional arguments left after the flags
	hint   func(flag string) string // explains an unknown flag; may return ""
}

func newOptionSet(scope string, opts []*option) *optionSet {
	s := &optionSet{
		scope:  scope,
		opts:   opts,
		fs:     pflag.NewFlagSet(scope, pflag.ContinueOnError),
		byFlag: make(map[string]*option),
		src:    make(map[*option]source),
	}
	s.fs.SetOutput(io.Discard)
	s.fs.Usage = func() {}
	for _, o := range opts {
		if o.flag != "" {
			s.fs.Var(o.val, o.flag, o.help)
			s.byFlag[o.flag] = o
		}
	}
	return s
}

// errHelpFlag is returned by parse for --help or -h.
var errHelpFlag = errors.New("help flag")

// parse reads the flags in args, storing each value as it is met (so errors
// come in command-line order), and keeps the positional arguments.
func (s *optionSet) parse(args []string) error {
	err := s.fs.ParseAll(args, func(f *pflag.Flag, raw string) error {
		o := s.byFlag[f.Name]
		if s.src[o] == srcFlag {
			return usageErr(ErrConflict, fmt.Sprintf("%s%s given more than once", s.prefix(), o.name()))
		}
		if err := o.val.Set(raw); err != nil {
			return s.valueErr(o, srcFlag, "", raw, err)
		}
		s.src[o] = srcFlag
		return nil
	})
	if err != nil {
		return s.translate(err)
	}
	s.args = s.fs.Args()
	return nil
}

// translate turns pflag's errors into one-line usage errors.
func (s *optionSet) translate(err error) error {
	var own *Error
	var notExist *pflag.NotExistError
	var noValue *pflag.ValueRequiredError
	var syntax *pflag.InvalidSyntaxError
	switch {
	case errors.As(err, &own):
		return own
	case errors.Is(err, pflag.ErrHelp):
		return errHelpFlag
	case errors.As(err, &notExist):
		flag := "--" + notExist.GetSpecifiedName()
		if sh := notExist.GetSpecifiedShortnames(); sh != "" {
			flag = "-" + notExist.GetSpecifiedName()
		}
		msg := fmt.Sprintf("%sunknown option %s", s.subject(), flag)
		if h := s.hintFor(notExist.GetSpecifiedName()); h != "" {
			msg += ": " + h
		} else if s.scope == "" {
			msg += ` (run "sequencer --help" for the global options)`
		} else {
			msg += fmt.Sprintf(` (run "sequencer -- help %s" for its options)`, s.scope)
		}
		return usageErr(ErrUnknownOption, msg)
	case errors.As(err, &noValue):
		o := s.byFlag[noValue.GetFlag().Name]
		return usageErr(ErrMissingValue, fmt.Sprintf("%s%s: missing value (want %s)", s.prefix(), o.name(), o.val.Type()))
	case errors.As(err, &syntax):
		return usageErr(ErrUnknownOption, fmt.Sprintf("%sbad option syntax %q", s.subject(), syntax.GetSpecifiedFlag()))
	default:
		return usageErr(ErrUsage, s.subject()+err.Error())
	}
}

func (s *optionSet) hintFor(flag string) string {
	if s.hint == nil {
		return ""
	}
	return s.hint(flag)
}

// prefix starts every message about a module option with the module name.
func (s *optionSet) prefix() string {
	if s.scope == "" {
		return ""
	}
	return s.scope + " "
}

// subject starts a sentence about the scope: "" or "http: ".
func (s *optionSet) subject() string {
	if s.scope == "" {
		return ""
	}
	return s.scope + ": "
}

// label names an option in an error, with the environment variable when the
// value came from there: `--l1-retry-delay (ESPRESSO_SEQUENCER_L1_RETRY_DELAY)`.
func (s *optionSet) label(o *option, src source, envName string) string {
	switch {
	case o.flag == "":
		return s.prefix() + envName
	case src == srcEnv:
		return fmt.Sprintf("%s--%s (%s)", s.prefix(), o.flag, envName)
	case src == srcDefault:
		return fmt.Sprintf("%s--%s (default)", s.prefix(), o.flag)
	default:
		return s.prefix() + "--" + o.flag
	}
}

func (s *optionSet) valueErr(o *option, src source, envName, raw string, err error) error {
	return usageErr(ErrInvalidValue, fmt.Sprintf("%s: %q: %v", s.label(o, src, envName), o.val.display(raw), err))
}

// resolve fills every option the command line did not set: from the first
// non-empty environment variable, else from the default. Several variables
// for one option (--prune) must agree. A required option left unset is an
// error.
func (s *optionSet) resolve(env func(string) (string, bool)) error {
	for _, o := range s.opts {
		if s.src[o] == srcFlag {
			continue
		}
		found, err := s.fromEnv(o, env)
		if err != nil {
			return err
		}
		switch {
		case found:
			s.src[o] = srcEnv
		case o.def != "":
			if err := o.val.Set(o.def); err != nil {
				return s.valueErr(o, srcDefault, "", o.def, err)
			}
			s.src[o] = srcDefault
		case o.required:
			return usageErr(ErrMissingValue, fmt.Sprintf("%srequires %s (or %s)", s.prefix(), o.name(), strings.Join(o.env, ", ")))
		}
	}
	return nil
}

func (s *optionSet) fromEnv(o *option, env func(string) (string, bool)) (bool, error) {
	var prevName, prevRaw, prevVal string
	for _, name := range o.env {
		raw, ok := env(name)
		if !ok || strings.TrimSpace(raw) == "" {
			continue
		}
		if err := o.val.Set(raw); err != nil {
			return false, s.valueErr(o, srcEnv, name, raw, err)
		}
		if prevName != "" && o.val.String() != prevVal {
			return false, usageErr(ErrConflict, fmt.Sprintf("%s: %s=%q and %s=%q disagree (set only one of them)",
				s.label(o, srcNone, prevName), prevName, o.val.display(prevRaw), name, o.val.display(raw)))
		}
		prevName, prevRaw, prevVal = name, raw, o.val.String()
	}
	return prevName != "", nil
}

// explicit reports whether the option with this flag was set by the command
// line or the environment (not by its default).
func (s *optionSet) explicit(flag string) bool {
	o := s.byFlag[flag]
	return o != nil && (s.src[o] == srcFlag || s.src[o] == srcEnv)
}

// defaultText is what help shows as an option's default.
func (o *option) defaultText() string {
	switch {
	case o.defText != "":
		return o.defText
	case o.def != "":
		return o.def
	}
	return "none"
}

// writeOptions renders option rows as help text, one block per option:
//
//	--flag <TYPE>
//	      help text
//	      [env: NAME] [default: value]
func writeOptions(b *strings.Builder, opts []*option) {
	group := ""
	for _, o := range opts {
		if o.hidden {
			continue
		}
		if o.group != group {
			group = o.group
			fmt.Fprintf(b, "\n%s:\n", group)
		}
		switch {
		case o.flag == "":
			fmt.Fprintf(b, "  %s=<%s> (environment only)\n", o.env[0], o.val.Type())
		case o.val.IsBoolFlag():
			fmt.Fprintf(b, "  --%s\n", o.flag)
		default:
			fmt.Fprintf(b, "  --%s <%s>\n", o.flag, o.val.Type())
		}
		fmt.Fprintf(b, "        %s\n", o.help)
		def := "[default: " + o.defaultText() + "]"
		if o.required {
			def = "[required]"
		}
		env := strings.Join(o.env, ", ")
		if env == "" {
			env = "none"
		}
		fmt.Fprintf(b, "        [env: %s] %s\n", env, def)
	}
}
