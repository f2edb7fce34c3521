package options

import "errors"

// Sentinel errors. Every error that [Parse] or [Config.Validate] returns,
// except a [*HelpError], is an [*Error] that matches [ErrUsage] and one of the
// more specific sentinels below under errors.Is.
var (
	// ErrHelp is matched by the [*HelpError] returned for `--help`,
	// `-- help` and `-- help <module>`.
	ErrHelp = errors.New("options: help requested")
	// ErrUsage is matched by every command-line or configuration error.
	ErrUsage = errors.New("options: usage error")
	// ErrUnknownModule: a module name that does not exist (or `api`).
	ErrUnknownModule = errors.New("options: unknown module")
	// ErrDuplicateModule: a module given twice (docs/operator.md, "Grammar").
	ErrDuplicateModule = errors.New("options: duplicate module")
	// ErrMissingModule: a module whose required module is not earlier in
	// the list (docs/operator.md, "Grammar"), or query without a storage module.
	ErrMissingModule = errors.New("options: missing required module")
	// ErrUnknownOption: a flag the global options or the module do not have.
	ErrUnknownOption = errors.New("options: unknown option")
	// ErrInvalidValue: a flag or environment value that does not parse.
	ErrInvalidValue = errors.New("options: invalid value")
	// ErrMissingValue: a flag without its value, or a required option unset.
	ErrMissingValue = errors.New("options: missing value")
	// ErrUnexpectedArgument: a positional argument where none is allowed.
	ErrUnexpectedArgument = errors.New("options: unexpected argument")
	// ErrConflict: options or modules that cannot be used together.
	ErrConflict = errors.New("options: conflicting options")
	// ErrNoKeys: neither a key file nor both private keys were given.
	ErrNoKeys = errors.New("options: no keys")
)

// Error is a command-line or configuration error. Its text is a single line
// for the operator (no package prefix, so the binary can print
// "sequencer: <text>"); errors.Is matches its Kind and [ErrUsage].
type Error struct {
	// Kind is one of the package's sentinel errors.
	Kind error
	// Msg is the operator-facing text.
	Msg string
}

// Error returns the operator-facing text.
func (e *Error) Error() string { return e.Msg }

// Unwrap exposes Kind and [ErrUsage] to errors.Is.
func (e *Error) Unwrap() []error { return []error{e.Kind, ErrUsage} }

// HelpError is returned by [Parse] when help was requested. The caller
// prints Text to standard output and exits with status 0.
type HelpError struct {
	// Text is the complete help text, ending in a newline.
	Text string
}

// Error reports that help was requested; the help itself is in Text.
func (e *HelpError) Error() string { return ErrHelp.Error() }

// Unwrap makes errors.Is(err, ErrHelp) true.
func (e *HelpError) Unwrap() error { return ErrHelp }

func usageErr(kind error, msg string) *Error { return &Error{Kind: kind, Msg: msg} }
